// zod issues → one located, readable line each. Unions are narrowed to the branch the input was
// meant for, unknown keys get a did-you-mean from the keys that object allows, missing keys point
// at the map that lacks them.
import type { z } from 'zod';
import { didYouMean, showValue, type ValidationIssue } from './issues.ts';
import { issueAt, type PathKey, type YamlFile } from './yaml.ts';

export interface ZodCheck {
  yaml: YamlFile;
  schema: z.ZodType;
  /** The value the schema was run on. */
  input: unknown;
  /** Where `input` sits in the document. */
  basePath: PathKey[];
  /** What to call the document itself in messages: "scenario", "rig", "device profile". */
  rootLabel: string;
  /** Values whose problems are left for run time (strings still holding `${result}` references). */
  deferred?: (value: unknown) => boolean;
}

type ZodIssue = z.core.$ZodIssue;

/** Runs `check.schema` on `check.input`: the output, or the issues. */
export function parseWithIssues<T = unknown>(check: ZodCheck): { ok: true; value: T } | { ok: false; issues: ValidationIssue[] } {
  const result = check.schema.safeParse(check.input);
  if (result.success) return { ok: true, value: result.data as T };
  return { ok: false, issues: zodIssuesToValidation(result.error.issues, check) };
}

export function zodIssuesToValidation(issues: readonly ZodIssue[], check: ZodCheck, prefix: PathKey[] = []): ValidationIssue[] {
  return issues.flatMap((issue) => describe(issue, check, [...prefix, ...(issue.path as PathKey[])]));
}

export function pathLabel(rootLabel: string, path: readonly PathKey[]): string {
  if (path.length === 0) return rootLabel;
  return path.map((p, i) => (typeof p === 'number' || /^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describe(issue: ZodIssue, check: ZodCheck, path: PathKey[]): ValidationIssue[] {
  const full = [...check.basePath, ...path];
  const value = valueAt(check.input, path);
  // A template string is checked when the step runs; a refinement over a map holding one, too.
  if (check.deferred && (issue.code === 'custom' ? containsDeferred(value, check.deferred) : check.deferred(value))) return [];
  const where = pathLabel(check.rootLabel, full);
  const at = (message: string, hint?: string) => [issueAt(check.yaml, full, `${where}: ${message}`, hint)];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(check.schema, path);
      return issue.keys.map((key) => {
        const hint = didYouMean(key, allowed) ?? (allowed.length ? `allowed keys: ${allowed.join(', ')}` : undefined);
        return issueAt(check.yaml, [...full, key], `${where}: unknown key ${JSON.stringify(key)}`, hint, 'key');
      });
    }
    case 'invalid_type': {
      const parent = valueAt(check.input, path.slice(0, -1));
      const last = path.at(-1);
      if (value === undefined && last !== undefined && isPlainObject(parent) && !(String(last) in parent)) {
        const parentFull = full.slice(0, -1);
        return [issueAt(check.yaml, parentFull, `${pathLabel(check.rootLabel, parentFull)}: missing required key ${JSON.stringify(String(last))}`)];
      }
      if (!isDefaultMessage(issue.message)) return at(withGot(issue.message, value));
      const quote = issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')
        ? 'put it in quotes to keep it as text' : undefined;
      return at(`expected ${typeName(issue.expected)}, got ${showValue(value)}`, quote);
    }
    case 'invalid_union': {
      const branches = issue.errors.filter((branch) => !branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
      if (branches.length) {
        const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
        return zodIssuesToValidation(best, check, path);
      }
      const words = issue.errors.flat().flatMap((i) => (i.code === 'invalid_value' ? i.values.filter((v): v is string => typeof v === 'string') : []))
        // A discriminated union names its discriminator's values instead (hubs[].driver).
        .concat(((issue as { options?: unknown[] }).options ?? []).filter((v): v is string => typeof v === 'string'));
      const hint = typeof value === 'string' ? didYouMean(value, words) : undefined;
      if (!isDefaultMessage(issue.message)) return at(withGot(issue.message, value), hint);
      if (issue.errors.length === 0) return at(withGot('invalid value', value));
      const expected: string[] = [];
      for (const i of issue.errors.flat()) {
        if (i.code === 'invalid_type') expected.push(isDefaultMessage(i.message) ? typeName(i.expected) : i.message);
        if (i.code === 'invalid_value') expected.push(...i.values.map(String));
      }
      return at(`expected ${joinOr([...new Set(expected)])}, got ${showValue(value)}`, hint);
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
      if (!isDefaultMessage(issue.message)) return at(withGot(issue.message, value), hint);
      return at(`expected ${options.length === 1 ? options[0] : `one of ${options.join(', ')}`}, got ${showValue(value)}`, hint);
    }
    case 'too_small':
    case 'too_big': {
      if (!isDefaultMessage(issue.message)) return at(Array.isArray(value) ? issue.message : withGot(issue.message, value));
      const small = issue.code === 'too_small';
      const limit = Number(small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'string') {
        if (small && limit === 1) return at('must not be empty');
        return at(`expected ${small ? 'at least' : 'at most'} ${limit} characters, got ${String(value).length}`);
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        const n = Array.isArray(value) ? value.length : 0;
        return at(`expected ${small ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}, got ${n}`);
      }
      const op = small ? (inclusive ? '>=' : '>') : (inclusive ? '<=' : '<');
      return at(`expected a number ${op} ${limit}, got ${showValue(value)}`);
    }
    case 'invalid_key': {
      const key = String(path.at(-1));
      const parentFull = full.slice(0, -1);
      const why = issue.issues.map((i) => (isDefaultMessage(i.message) ? i.message.replace(/^Invalid string: /, '') : i.message)).join('; ');
      return [issueAt(check.yaml, full, `${pathLabel(check.rootLabel, parentFull)}: invalid key ${JSON.stringify(key)}: ${why}`, undefined, 'key')];
    }
    case 'invalid_format': {
      if (!isDefaultMessage(issue.message)) return at(withGot(issue.message, value));
      const pattern = (issue as { pattern?: string }).pattern;
      return at(`expected ${pattern ? `a string matching ${pattern}` : `a valid ${issue.format}`}, got ${showValue(value)}`);
    }
    case 'not_multiple_of':
      return at(`expected a multiple of ${String(issue.divisor)}, got ${showValue(value)}`);
    default:
      return at(withGot(issue.message, value));
  }
}

/** zod's own wording (as opposed to a message a schema author wrote). */
function isDefaultMessage(message: string): boolean {
  return /^(Invalid (input|option|string|key|element|value)|Too (small|big)|Unrecognized key|Expected|Input not)/.test(message);
}

function withGot(message: string, value: unknown): string {
  if (/\bgot\b/.test(message) || value === undefined) return message;
  if (typeof value === 'string' && value.length > 0 && message.includes(value)) return message;
  return `${message}, got ${showValue(value)}`;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', array: 'a list',
    object: 'a map', record: 'a map', bigint: 'an integer', null: 'null', undefined: 'nothing', nonoptional: 'a value',
  };
  return names[expected] ?? expected;
}

function joinOr(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? 'a valid value') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function containsDeferred(value: unknown, deferred: (value: unknown) => boolean): boolean {
  if (deferred(value)) return true;
  if (Array.isArray(value)) return value.some((v) => containsDeferred(v, deferred));
  if (isPlainObject(value)) return Object.values(value).some((v) => containsDeferred(v, deferred));
  return false;
}

export function valueAt(value: unknown, path: readonly PathKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current)) current = current[Number(key)];
    else if (isPlainObject(current)) current = current[String(key)];
    else return undefined;
  }
  return current;
}

// Walking a schema to learn which keys an object at a path allows (zod keeps this in `_zod.def`).
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The schemas a value may be checked against once wrappers (optional, default, pipe …) are peeled. */
function unwrap(schema: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return unwrap(def.innerType!, depth + 1);
    case 'pipe':
      return defOf(def.in!).type === 'transform' ? unwrap(def.out!, depth + 1) : unwrap(def.in!, depth + 1);
    case 'lazy':
      return unwrap(def.getter!(), depth + 1);
    case 'union':
      return def.options!.flatMap((o) => unwrap(o, depth + 1));
    case 'intersection':
      return [...unwrap(def.left!, depth + 1), ...unwrap(def.right!, depth + 1)];
    default:
      return [schema];
  }
}

function childSchemas(schema: z.ZodType, key: PathKey): z.ZodType[] {
  return unwrap(schema).flatMap((s) => {
    const def = defOf(s);
    if (def.type === 'object' && def.shape && String(key) in def.shape) return [def.shape[String(key)]!];
    if (def.type === 'array' && def.element) return [def.element];
    if (def.type === 'record' && def.valueType) return [def.valueType];
    return [];
  });
}

export function allowedKeysAt(schema: z.ZodType, path: readonly PathKey[]): string[] {
  let schemas = [schema];
  for (const key of path) schemas = schemas.flatMap((s) => childSchemas(s, key));
  const keys = schemas.flatMap((s) => unwrap(s)).flatMap((s) => {
    const def = defOf(s);
    return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
  });
  return [...new Set(keys)];
}
