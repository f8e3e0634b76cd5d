// scenarios/**/*.yaml → Scenario. The schema below is the one source of the checks, the output
// type and the JSON Schema editors use (with the step items spelled out per kind there).
import { resolve } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { z } from 'zod';
import type { ExtensionDecl } from '../rig/types.ts';
import { EXTENSION_SOURCES, extensionDecl, isRelativePathLike, resolveFrom, variables } from './common.ts';
import { borrowedExtensions, rigNeedsIssues, undeclaredDeviceIssue, type RigRoles } from './device-roles.ts';
import { showValue, ValidationError, type ValidationIssue } from './issues.ts';
import { checkStep, stepItemSchema, type ScenarioStep, type StepSchemas } from './steps.ts';
import { duration } from './units.ts';
import { layeredLookup, substituteInNode, type SubstitutionScope } from './variables.ts';
import { parseWithIssues } from './zod-issues.ts';
import { issueAt, notAMapIssue, pairOf, readYamlFile, type YamlFile } from './yaml.ts';

export interface Scenario {
  file: string;
  name: string;
  description?: string;
  tags: string[];
  timeoutMs: number;
  /** The scenario's variables with their effective values (its defaults under rig vars, env and --var). */
  vars: Record<string, string>;
  uses: { devices: string[]; extensions: Record<string, ExtensionDecl> };
  /** The scenario must fail, with a message containing `text` or matching `regex`. */
  expectFailure?: { text: string } | { regex: RegExp };
  setup: ScenarioStep[];
  steps: ScenarioStep[];
  cleanup: ScenarioStep[];
}

export interface LoadScenarioOptions {
  steps: StepSchemas;
  /** `--var NAME=value`: the highest precedence. */
  vars?: Record<string, string>;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** The rig's `vars` (already resolved by loadRig). */
  rigVars?: Record<string, string>;
  /** The rig's extensions, when known: an extension written without dext:/app: must be one of them. */
  rigExtensions?: Record<string, ExtensionDecl>;
  /**
   * The rigs it may run on, when known: every role in uses.devices, and every extension of
   * uses.extensions given without a build, must be on one of them.
   */
  rigs?: readonly RigRoles[];
}

const STEP_SECTIONS = ['setup', 'steps', 'cleanup'] as const;

const tag = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]*$/, { error: (issue) => `expected a lowercase tag word like hotplug, got ${showValue(issue.input)}` });

const failureMessage = z.string().min(1).transform((text, ctx): { text: string } | { regex: RegExp } => {
  const m = /^\/(.*)\/([dgimsuvy]*)$/s.exec(text);
  if (!m) return { text };
  try {
    return { regex: new RegExp(m[1]!, m[2]) };
  } catch (error) {
    const why = (error as Error).message.split(': ').at(-1)!.toLowerCase();
    ctx.addIssue({ code: 'custom', message: `invalid regular expression ${text}: ${why}`, input: text });
    return z.NEVER;
  }
});

/** The scenario document; `stepItem` is the schema of one step list item. */
export function scenarioSchema(stepItem: z.ZodType) {
  return z.strictObject({
    name: z.string().min(1).meta({ description: 'What the scenario proves, in one line (the test title).' }),
    description: z.string().optional(),
    tags: z.array(tag).default([]).meta({ description: 'Lowercase words; become Playwright tags (@tag) for --grep.' }),
    timeout: duration.prefault('2m').meta({ description: 'Deadline for the whole scenario (default 2m).' }),
    vars: variables.default({}).meta({ description: 'Defaults for ${NAME} variables; the rig\'s vars, the environment and --var override them.' }),
    uses: z.strictObject({
      devices: z.array(z.string().min(1)).default([]).meta({ description: 'Device roles the rig must provide.' }),
      extensions: z.record(z.string().min(1), extensionDecl).default({}).meta({ description: 'Extensions by name: bundle id, the build (dext:, app: or systemExtension:) to activate, and its config:; one the rig declares needs no build here.' }),
    }).prefault({}),
    expectFailure: z.strictObject({
      message: failureMessage.meta({ description: 'Text the failure message must contain, or /regex/flags it must match.' }),
    }).optional().meta({ description: 'The scenario must fail, and its failure message must match.' }),
    setup: z.array(stepItem).default([]),
    steps: z.array(stepItem).min(1, { error: 'a scenario needs at least one step' }),
    cleanup: z.array(stepItem).default([]).meta({ description: 'Run last, always (also after a failure).' }),
  });
}

/** Validation runs the document schema with step items left to checkStep (for per-kind messages). */
const documentSchema = scenarioSchema(z.unknown());
type ScenarioDocument = z.output<typeof documentSchema>;

export function loadScenario(file: string, options: LoadScenarioOptions): Scenario {
  const path = resolve(file);
  const { yaml, issues } = readYamlFile(path);
  if (!yaml) throw new ValidationError(issues);
  const result = scenarioFromYaml(yaml, options);
  if (issues.length || result.issues.length || !result.scenario) throw new ValidationError([...issues, ...result.issues]);
  return result.scenario;
}

export function scenarioFromYaml(yaml: YamlFile, options: LoadScenarioOptions): { scenario?: Scenario; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const root = yaml.doc.contents;
  if (!isMap(root)) {
    return { issues: [notAMapIssue(yaml, 'a scenario is a map of keys (name, steps, …)')] };
  }
  const env = options.env ?? process.env;
  const setHint = 'pass --var NAME=… or set it in the rig\'s vars';
  const outer = layeredLookup(options.vars, env, options.rigVars);

  // The scenario's own vars are the lowest layer; their values may use the layers above.
  const varsNode = pairOf(root, 'vars')?.value;
  substituteInNode(yaml, varsNode, { lookup: outer, setHint }, issues);
  const defaults: Record<string, string> = {};
  if (isMap(varsNode)) {
    for (const pair of varsNode.items) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.value === null || typeof pair.value.value === 'object') continue;
      const value = String(pair.value.value);
      defaults[String(pair.key.value)] = isRelativePathLike(value) ? resolveFrom(yaml.file, value) : value;
    }
  }
  const lookup = layeredLookup(options.vars, env, options.rigVars, defaults);
  const scope: SubstitutionScope = { lookup, setHint };

  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'vars') continue;
    if (!(STEP_SECTIONS as readonly string[]).includes(key)) {
      substituteInNode(yaml, pair.value, scope, issues);
    }
  }
  // Step arguments may also refer to the results of earlier steps (setup, then steps, then cleanup).
  const earlier = new Set<string>();
  for (const section of STEP_SECTIONS) {
    const seq = pairOf(root, section)?.value;
    if (!isSeq(seq)) {
      substituteInNode(yaml, seq, scope, issues);
      continue;
    }
    for (const item of seq.items) {
      if (isMap(item)) {
        for (const pair of item.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : '';
          const inArgs = options.steps.has(key);
          substituteInNode(yaml, pair.value, inArgs ? { ...scope, results: new Set(earlier) } : scope, issues);
        }
      } else {
        substituteInNode(yaml, item, scope, issues);
      }
      const as = isMap(item) ? pairOf(item, 'as')?.value : undefined;
      if (isScalar(as) && typeof as.value === 'string') earlier.add(as.value);
    }
  }

  const input = yaml.doc.toJS() as unknown;
  const parsed = parseWithIssues<ScenarioDocument>({ yaml, schema: documentSchema, input, basePath: [], rootLabel: 'scenario' });
  if (!parsed.ok) issues.push(...parsed.issues);

  const sections: Record<(typeof STEP_SECTIONS)[number], ScenarioStep[]> = { setup: [], steps: [], cleanup: [] };
  const raw = input as Record<string, unknown>;
  const declaredDevices = parsed.ok ? parsed.value.uses.devices : undefined;
  for (const section of STEP_SECTIONS) {
    const items = raw[section];
    if (!Array.isArray(items)) continue;
    items.forEach((item, index) => {
      const checked = checkStep(item, [section, index], { yaml, steps: options.steps, rootLabel: 'scenario' });
      issues.push(...checked.issues);
      if (!checked.step) return;
      sections[section].push(checked.step);
      const undeclared = declaredDevices && undeclaredDeviceIssue(yaml, [section, index], checked.step, declaredDevices);
      if (undeclared) issues.push(undeclared);
    });
  }
  if (parsed.ok && options.rigs) {
    const needs = { roles: parsed.value.uses.devices, extensions: borrowedExtensions(parsed.value.uses.extensions) };
    issues.push(...rigNeedsIssues(yaml, needs, options.rigs));
  }
  if (!parsed.ok || issues.length) return { issues };
  const doc = parsed.value;

  const extensions: Record<string, ExtensionDecl> = {};
  for (const [name, decl] of Object.entries(doc.uses.extensions)) {
    if (EXTENSION_SOURCES.every((key) => decl[key] === undefined) && options.rigExtensions && !(name in options.rigExtensions)) {
      issues.push(issueAt(yaml, ['uses', 'extensions', name],
        `uses.extensions.${name}: give dext:, app: or systemExtension: (the rig declares no extension "${name}")`));
      continue;
    }
    extensions[name] = withResolvedPaths(yaml.file, decl);
  }
  if (issues.length) return { issues };

  const effectiveVars = Object.fromEntries(Object.keys(doc.vars).map((name) => [name, lookup(name)!]));
  const scenario: Scenario = {
    file: yaml.file,
    name: doc.name,
    tags: doc.tags,
    timeoutMs: doc.timeout,
    vars: effectiveVars,
    uses: { devices: doc.uses.devices, extensions },
    setup: sections.setup,
    steps: sections.steps,
    cleanup: sections.cleanup,
  };
  if (doc.description !== undefined) scenario.description = doc.description;
  if (doc.expectFailure) scenario.expectFailure = doc.expectFailure.message;
  return { scenario, issues };
}

/** An extension declaration with its build's path made absolute relative to the file holding it. */
export function withResolvedPaths(file: string, decl: z.output<typeof extensionDecl>): ExtensionDecl {
  const out: ExtensionDecl = { bundle: decl.bundle };
  for (const key of EXTENSION_SOURCES) if (decl[key] !== undefined) out[key] = resolveFrom(file, decl[key]);
  if (decl.version !== undefined) out.version = decl.version;
  if (decl.team !== undefined) out.team = decl.team;
  if (decl.config !== undefined) out.config = decl.config;
  return out;
}

/**
 * The extensions a scenario may name on a rig: the rig's, with the scenario's declarations winning.
 * A scenario's declaration without a build (dext:, app:, systemExtension:) is the rig's extension of
 * that name with the scenario's bundle, version, team and config over it (a scenario that only sets
 * an extension's config).
 */
export function extensionsOnRig(rig: Record<string, ExtensionDecl>, scenario: Record<string, ExtensionDecl>): Record<string, ExtensionDecl> {
  const merged: Record<string, ExtensionDecl> = { ...rig };
  for (const [name, decl] of Object.entries(scenario)) {
    const own = rig[name];
    merged[name] = own && EXTENSION_SOURCES.every((key) => decl[key] === undefined) ? { ...own, ...decl } : decl;
  }
  return merged;
}

export function scenarioJsonSchemaSource(steps: StepSchemas) {
  return scenarioSchema(stepItemSchema(steps));
}
