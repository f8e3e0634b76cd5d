// Step list items: `- <kind>: <args>` plus the common keys every step takes. The kinds and their
// argument schemas come from the registry the caller passes in (harness/steps builds the real one).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { resolveFrom } from './common.ts';
import { closest, showValue, type ValidationIssue } from './issues.ts';
import { duration } from './units.ts';
import { DeferredStepArgs, containsTemplate, isTemplateString } from './variables.ts';
import { parseWithIssues, pathLabel } from './zod-issues.ts';
import { issueAt, positionOf, type PathKey, type YamlFile } from './yaml.ts';

/**
 * Step kind → the schema of the value under its key, one line for editors, and the argument keys
 * that name a file relative to the scenario (made absolute; a missing file is an issue at its key).
 */
export type StepSchemas = ReadonlyMap<string, { schema: z.ZodType; summary: string; files?: readonly string[] }>;

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface ScenarioStep {
  kind: string;
  /** The kind schema's output; a DeferredStepArgs when the arguments use `${result}` references (see interpolateResults). */
  args: unknown;
  timeoutMs?: number;
  as?: string;
  title?: string;
  location: SourceLocation;
}

export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (issue) => `expected a name of letters, digits and _ (not starting with a digit), got ${showValue(issue.input)}` });

/** Keys any step may carry beside its kind key. */
export const stepCommonShape = {
  /** Deadline for this step (default: the kind's own). */
  timeout: duration.optional(),
  /** Stores the step's result under this name, for `${name.field}` in later steps. */
  as: identifier.optional().meta({ description: 'Store the result under this name for ${name.field} in later steps.' }),
  /** What the report shows instead of the kind and its arguments. */
  title: z.string().min(1).optional().meta({ description: 'Title shown in reports.' }),
};
const COMMON_KEYS = Object.keys(stepCommonShape);
const commonSchema = z.strictObject(stepCommonShape);

export interface StepCheck {
  yaml: YamlFile;
  steps: StepSchemas;
  rootLabel: string;
}

/** Validates one list item at `path` (e.g. ['steps', 2]). */
export function checkStep(item: unknown, path: PathKey[], check: StepCheck): { step?: ScenarioStep; issues: ValidationIssue[] } {
  const { yaml, steps } = check;
  const where = pathLabel(check.rootLabel, path);
  const kinds = [...steps.keys()];
  const kindList = kinds.join(', ');
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    const hint = typeof item === 'string' && steps.has(item) ? `write "- ${item}: <arguments>"` : undefined;
    return { issues: [issueAt(yaml, path, `${where}: a step is a map with one kind key like "- plug: echo", got ${showValue(item)}`, hint)] };
  }
  const record = item as Record<string, unknown>;
  const keys = Object.keys(record);
  const kindKeys = keys.filter((k) => steps.has(k));
  const others = keys.filter((k) => !steps.has(k) && !COMMON_KEYS.includes(k));
  const issues: ValidationIssue[] = [];

  for (const key of others) {
    // With no kind key, a stray key is most likely a misspelt kind; beside one, a misspelt common key.
    const kindGuess = closest(key, kinds);
    const commonGuess = closest(key, COMMON_KEYS);
    const asKind = kindKeys.length === 0 && (others.length === 1 || kindGuess !== undefined) && commonGuess === undefined;
    if (asKind) {
      issues.push(issueAt(yaml, [...path, key], `${where}: unknown step kind ${JSON.stringify(key)}`,
        kindGuess ? `did you mean '${kindGuess}'?` : `known kinds: ${kindList}`, 'key'));
    } else {
      const guess = commonGuess ?? kindGuess;
      issues.push(issueAt(yaml, [...path, key], `${where}: unknown key ${JSON.stringify(key)}${kindKeys.length ? ` beside ${kindKeys[0]}` : ''}`,
        guess ? `did you mean '${guess}'?` : `a step takes one kind key plus ${COMMON_KEYS.join(', ')}`, 'key'));
    }
  }
  if (kindKeys.length === 0 && others.length === 0) {
    issues.push(issueAt(yaml, path, `${where}: a step needs one kind key: ${kindList}`));
  }
  if (kindKeys.length > 1) {
    issues.push(issueAt(yaml, [...path, kindKeys[1]!], `${where}: a step has exactly one kind key, this one has ${kindKeys.length} (${kindKeys.join(', ')})`,
      'split it into one step per kind', 'key'));
  }

  const common = Object.fromEntries(keys.filter((k) => COMMON_KEYS.includes(k)).map((k) => [k, record[k]]));
  const commonResult = parseWithIssues<z.output<typeof commonSchema>>({ yaml, schema: commonSchema, input: common, basePath: path, rootLabel: check.rootLabel });
  if (!commonResult.ok) issues.push(...commonResult.issues);

  if (kindKeys.length !== 1) return { issues };
  const kind = kindKeys[0]!;
  const schema = steps.get(kind)!.schema;
  const rawArgs = record[kind];
  const argsResult = parseWithIssues({
    yaml, schema, input: rawArgs, basePath: [...path, kind], rootLabel: check.rootLabel, deferred: isTemplateString,
  });
  if (!argsResult.ok) issues.push(...argsResult.issues);
  if (issues.length || !commonResult.ok) return { issues };

  const files = fileArguments(rawArgs, steps.get(kind)!.files ?? [], yaml.file);
  for (const missing of files.missing) {
    issues.push(issueAt(yaml, [...path, kind, missing.key], `${where}.${kind}.${missing.key}: file ${JSON.stringify(missing.written)} not found (looked for ${missing.absolute})`));
  }
  if (issues.length) return { issues };
  const args = containsTemplate(rawArgs)
    ? new DeferredStepArgs(kind, withFiles(rawArgs, files.resolved), schema)
    : withFiles(argsResult.ok ? argsResult.value : undefined, files.resolved);
  const { line, column } = positionOf(yaml, path);
  const step: ScenarioStep = { kind, args, location: { file: yaml.file, line, column } };
  if (commonResult.value.timeout !== undefined) step.timeoutMs = commonResult.value.timeout;
  if (commonResult.value.as !== undefined) step.as = commonResult.value.as;
  if (commonResult.value.title !== undefined) step.title = commonResult.value.title;
  return { step, issues };
}

/**
 * The step's file arguments as absolute paths (relative to the scenario file), and the ones that do
 * not exist. A path that refers to an earlier step's result is left for the step to find.
 */
function fileArguments(args: unknown, keys: readonly string[], scenarioFile: string) {
  const resolved: Record<string, string> = {};
  const missing: { key: string; written: string; absolute: string }[] = [];
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return { resolved, missing };
  for (const key of keys) {
    const written = (args as Record<string, unknown>)[key];
    if (typeof written !== 'string' || containsTemplate(written)) continue;
    resolved[key] = resolveFrom(scenarioFile, written);
    if (!existsSync(resolved[key])) missing.push({ key, written, absolute: resolved[key] });
  }
  return { resolved, missing };
}

function withFiles(args: unknown, resolved: Record<string, string>): unknown {
  return Object.keys(resolved).length ? { ...(args as Record<string, unknown>), ...resolved } : args;
}

/**
 * For the JSON Schema only: a step item as `oneOf` one object per kind, each with its kind key
 * required, the common keys, nothing else, and the kind's summary as its description.
 */
export function stepItemSchema(steps: StepSchemas): z.ZodType {
  const options = [...steps].map(([kind, { schema, summary }]) =>
    z.strictObject({ [kind]: schema, ...stepCommonShape }).meta({ title: kind, description: summary }));
  if (options.length === 0) return z.strictObject(stepCommonShape);
  if (options.length === 1) return options[0]!;
  const union = z.union(options as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  stepUnions.add(union);
  return union;
}

/** Step unions, so the JSON Schema export can write them as `oneOf` (the kinds exclude each other). */
export const stepUnions = new WeakSet<object>();
