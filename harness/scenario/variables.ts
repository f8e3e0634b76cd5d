// `${NAME}` variables (resolved at load, from --var > environment > rig vars > scenario vars) and
// `${result.path}` references to earlier steps' `as:` results (kept, and resolved at run time by
// interpolateResults). `$${` writes a literal `${`.
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { showValue, type ValidationIssue } from './issues.ts';
import { positionOfOffset, type YamlFile } from './yaml.ts';

/** What may stand inside `${…}`: a variable's name, or (in step arguments) `result.path`. The JSON Schemas use these too. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const RESULT_REFERENCE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/;
const TOKEN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;

export interface SubstitutionScope {
  /** The value of a variable, or undefined when no layer sets it. */
  lookup(name: string): string | undefined;
  /**
   * In step arguments: the `as:` names of the steps before this one. References to them are kept
   * (as `${name.path}`, with literal `${` escaped as `$${`) for interpolateResults at run time.
   */
  results?: ReadonlySet<string>;
  /** Where to tell the user to set a missing variable. */
  setHint: string;
}

/** The variable layers, highest precedence first; a name set in none is undefined. */
export function layeredLookup(...layers: Array<Record<string, string | undefined> | undefined>): (name: string) => string | undefined {
  return (name) => {
    for (const layer of layers) {
      const value = layer && Object.hasOwn(layer, name) ? layer[name] : undefined;
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

/** Expands one string; problems come back as messages (one per distinct bad reference). */
export function expandString(text: string, scope: SubstitutionScope): { value: string; errors: string[] } {
  const template = scope.results !== undefined;
  const errors: string[] = [];
  let value = '';
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    value += text.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === '$${') {
      value += template ? '$${' : '${';
      continue;
    }
    if (m[0] === '${') {
      errors.push(`unclosed \${ in ${JSON.stringify(text)}: write \${NAME}, or $\${ for a literal \${`);
      value += m[0];
      continue;
    }
    const name = m[1]!.trim();
    const head = name.split('.')[0]!;
    if (!RESULT_REFERENCE.test(name)) {
      errors.push(`malformed reference \${${m[1]}}: write \${NAME} for a variable or \${result.field} for an earlier step's result, or $\${ for a literal \${`);
      value += m[0];
    } else if (template && scope.results!.has(head)) {
      value += `\${${name}}`;
    } else if (VARIABLE_NAME.test(name) && scope.lookup(name) !== undefined) {
      const resolved = scope.lookup(name)!;
      value += template ? resolved.replaceAll('${', '$${') : resolved;
    } else if (name.includes('.')) {
      errors.push(template
        ? `unknown result \${${name}}: no step before this one has as: ${head}`
        : `\${${name}} looks like a step result: results can only be used in step arguments`);
      value += m[0];
    } else {
      errors.push(`unknown variable \${${name}}: ${scope.setHint.replaceAll('NAME', name)}`);
      value += m[0];
    }
  }
  value += text.slice(last);
  return { value, errors: [...new Set(errors)] };
}

/**
 * Substitutes in every string scalar under `node` (values only, never keys), in place, so the
 * document keeps its positions; unknown variables are reported at the scalar.
 */
export function substituteInNode(yaml: YamlFile, node: unknown, scope: SubstitutionScope, issues: ValidationIssue[]): void {
  if (isMap(node)) {
    for (const pair of node.items) substituteInNode(yaml, pair.value, scope, issues);
  } else if (isSeq(node)) {
    for (const item of node.items) substituteInNode(yaml, item, scope, issues);
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    const { value, errors } = expandString(node.value, scope);
    const { line, column } = positionOfOffset(yaml, (node as Node).range?.[0] ?? 0);
    for (const message of errors) issues.push({ file: yaml.file, line, column, message });
    node.value = value;
  }
}

/** A string that still holds `${…}` after load: a result reference or an escaped literal. */
export function isTemplateString(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${');
}

export function containsTemplate(value: unknown): boolean {
  if (isTemplateString(value)) return true;
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (isPlainObject(value)) return Object.values(value).some(containsTemplate);
  return false;
}

/**
 * Arguments of a step that refer to earlier steps' results: validated at load as far as they can
 * be, then built and checked by interpolateResults when the step runs. JSON shows the template.
 */
export class DeferredStepArgs {
  constructor(
    readonly kind: string,
    /** The arguments as written, variables substituted, `${result.path}` references kept. */
    readonly template: unknown,
    readonly schema: z.ZodType,
  ) {}

  toJSON(): unknown {
    return this.template;
  }
}

/**
 * Resolves `${name.path}` references to earlier steps' results (by their `as:` name), deeply in
 * strings, lists and maps. A string that is exactly one reference becomes the result's value
 * itself (a number stays a number); inside text, values are written as text. Step arguments
 * that held references are then checked against their step's schema. Throws one clear line for
 * an unknown result or path.
 */
export function interpolateResults(value: unknown, results: ReadonlyMap<string, unknown>): unknown {
  if (value instanceof DeferredStepArgs) {
    const raw = interpolateResults(value.template, results);
    const parsed = value.schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.map(String).join('.');
      return `${path ? `${path}: ` : ''}${i.message}`;
    });
    throw new Error(`${value.kind}: invalid arguments after substituting results: ${problems.join('; ')}`);
  }
  if (!containsTemplate(value)) return value;
  if (typeof value === 'string') return interpolateString(value, results);
  if (Array.isArray(value)) return value.map((v) => interpolateResults(v, results));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateResults(v, results)]));
  return value;
}

function interpolateString(text: string, results: ReadonlyMap<string, unknown>): unknown {
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  if (whole) return resolveReference(whole[1]!.trim(), results);
  return text.replace(TOKEN, (token, name: string | undefined) => {
    if (token === '$${') return '${';
    if (name === undefined) throw new Error(`unclosed \${ in ${JSON.stringify(text)}`);
    const resolved = resolveReference(name.trim(), results);
    return typeof resolved === 'string' ? resolved : stringify(resolved);
  });
}

function resolveReference(reference: string, results: ReadonlyMap<string, unknown>): unknown {
  if (!RESULT_REFERENCE.test(reference)) throw new Error(`malformed reference \${${reference}}`);
  const [name, ...path] = reference.split('.');
  if (!results.has(name!)) {
    const known = [...results.keys()];
    throw new Error(`unknown result \${${reference}}: no step has stored a result as "${name}" yet${known.length ? ` (results so far: ${known.join(', ')})` : ''}`);
  }
  let current: unknown = results.get(name!);
  const walked: string[] = [name!];
  for (const key of path) {
    const next = childOf(current, key);
    if (next === undefined) {
      const available = keysOf(current);
      throw new Error(`result \${${reference}}: ${walked.join('.')} has no "${key}"${available.length ? ` (it has: ${available.join(', ')})` : ` (it is ${showValue(current)})`}`);
    }
    walked.push(key);
    current = next;
  }
  return current;
}

function childOf(value: unknown, key: string): unknown {
  if (value instanceof Map) return value.get(key);
  if (Array.isArray(value)) return /^\d+$/.test(key) ? value[Number(key)] : key === 'length' ? value.length : undefined;
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) return (value as Record<string, unknown>)[key];
  return undefined;
}

function keysOf(value: unknown): string[] {
  if (value instanceof Map) return [...value.keys()].map(String);
  if (Array.isArray(value)) return value.map((_, i) => String(i));
  if (typeof value === 'object' && value !== null) return Object.keys(value);
  return [];
}

function stringify(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
