// JSON Schemas (draft 2020-12) for editors: `# yaml-language-server: $schema=…` gives completion
// and inline checks from the same zod schemas the loaders use. The editor sees the file before
// substitution, so wherever the loader accepts a `${…}` the schema does too (and nowhere else).
import { z } from 'zod';
import { deviceSchema } from './device.ts';
import { rigSchema } from './rig.ts';
import { scenarioSchema } from './scenario.ts';
import { stepItemSchema, stepUnions, type StepSchemas } from './steps.ts';
import { RESULT_REFERENCE, VARIABLE_NAME } from './variables.ts';

type JsonSchema = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType, title: string): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      // The step kinds exclude each other (each object requires its own kind key).
      if (stepUnions.has(ctx.zodSchema) && Array.isArray(ctx.jsonSchema.anyOf)) {
        ctx.jsonSchema.oneOf = ctx.jsonSchema.anyOf;
        delete ctx.jsonSchema.anyOf;
      }
    },
  }) as JsonSchema;
  const { $schema, ...rest } = json;
  return { $schema, title, ...rest };
}

// ------------------------------------------------------------------ `${…}` where the loader takes it

/**
 * `variable`: a `${NAME}` is replaced by its text before validation (scenario.ts, rig.ts), so a
 * string field of any shape may hold one; a number, boolean, list or map may not (the text stays
 * a string). `reference`: in step arguments a value holding `${result.path}` is checked only when
 * the step runs (steps.ts defers it), so any field, of any type, may hold one.
 */
type TemplateMode = 'variable' | 'reference';

const TEMPLATE_DEFS: Record<TemplateMode, JsonSchema> = {
  variable: {
    type: 'string',
    // Not after a `$`: `$${` writes a literal `${`.
    pattern: `(?<!\\$)\\$\\{\\s*${inner(VARIABLE_NAME)}\\s*\\}`,
    description: 'A ${NAME} variable (from --var, the environment, the rig\'s or the scenario\'s vars), substituted when the file loads.',
  },
  reference: {
    type: 'string',
    pattern: `(?<!\\$)\\$\\{\\s*${inner(RESULT_REFERENCE)}\\s*\\}`,
    description: 'A ${name.field} reference to the result of an earlier step (as: name), resolved when this step runs; or a ${NAME} variable.',
  },
};

function inner(anchored: RegExp): string {
  return anchored.source.replace(/^\^/, '').replace(/\$$/, '');
}

/** Keywords whose value is one subschema, or a map or list of them, that a value is checked against. */
const SUBSCHEMA = ['additionalProperties', 'items', 'contains'] as const;
const SUBSCHEMA_MAPS = ['properties', 'patternProperties'] as const;
const SUBSCHEMA_LISTS = ['prefixItems'] as const;
const COMBINATORS = ['anyOf', 'oneOf', 'allOf'] as const;
/** Annotations that stay on the outside when a node is wrapped, so editors still show them. */
const ANNOTATIONS = ['title', 'description', 'default', 'examples', 'deprecated'] as const;
/** The shortest `${x}`; a minLength up to this cannot reject a template. */
const SHORTEST_TEMPLATE = 4;

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function branches(node: JsonSchema): JsonSchema[] {
  return COMBINATORS.flatMap((k) => (Array.isArray(node[k]) ? (node[k] as unknown[]).filter(isSchema) : []));
}

function typeAllowsString(node: JsonSchema): boolean {
  const type = node.type;
  return type === undefined || type === 'string' || (Array.isArray(type) && type.includes('string'));
}

/** Every string containing a template passes this node. */
function takesAnyTemplate(node: JsonSchema): boolean {
  const own = typeAllowsString(node) && node.$ref === undefined
    && ['pattern', 'format', 'enum', 'const', 'maxLength', 'not'].every((k) => node[k] === undefined)
    && (typeof node.minLength !== 'number' || node.minLength <= SHORTEST_TEMPLATE);
  const combined = COMBINATORS.filter((k) => node[k] !== undefined);
  if (combined.length === 0) return own;
  return own && combined.every((k) => {
    const list = (node[k] as unknown[]).filter(isSchema);
    return k === 'allOf' ? list.every(takesAnyTemplate) : list.some(takesAnyTemplate);
  });
}

/** Some string passes this node (so a variable's text could). */
function takesSomeString(node: JsonSchema): boolean {
  if (!typeAllowsString(node)) return false;
  if (Array.isArray(node.enum) && !node.enum.some((v) => typeof v === 'string')) return false;
  if (node.const !== undefined && typeof node.const !== 'string') return false;
  const list = branches(node);
  return list.length === 0 || list.some(takesSomeString);
}

/** `node` with every place the loader takes a template (per `mode`) also taking one. */
function withTemplates(node: JsonSchema, mode: TemplateMode, defs: Set<TemplateMode>, wrapSelf = true): JsonSchema {
  if (typeof node.$ref === 'string' && mode === 'reference') {
    // A shared definition would need a copy per mode; zod writes none inside step arguments today.
    throw new Error(`step arguments refer to ${node.$ref}: teach json-schema.ts to copy it for \${result} references`);
  }
  const out: JsonSchema = { ...node };
  for (const key of SUBSCHEMA) if (isSchema(node[key])) out[key] = withTemplates(node[key], mode, defs);
  for (const key of SUBSCHEMA_MAPS) {
    if (isSchema(node[key])) {
      out[key] = Object.fromEntries(Object.entries(node[key]).map(([k, v]) => [k, isSchema(v) ? withTemplates(v, mode, defs) : v]));
    }
  }
  for (const key of [...SUBSCHEMA_LISTS, ...COMBINATORS]) {
    // A branch is not wrapped itself: the combinator is, once (a template must not match two oneOf branches).
    const wrapBranch = (SUBSCHEMA_LISTS as readonly string[]).includes(key);
    if (Array.isArray(node[key])) out[key] = (node[key] as unknown[]).map((v) => (isSchema(v) ? withTemplates(v, mode, defs, wrapBranch) : v));
  }
  const takes = mode === 'reference' ? !takesAnyTemplate(node) : takesSomeString(node) && !takesAnyTemplate(node);
  if (!wrapSelf || !takes || node.$ref !== undefined) return out;
  defs.add(mode);
  const wrapper: JsonSchema = {};
  for (const key of ANNOTATIONS) {
    if (key in out) { wrapper[key] = out[key]; delete out[key]; }
  }
  const template = { $ref: `#/$defs/${mode}` };
  // A bare anyOf gains one more branch rather than a level.
  if (Array.isArray(out.anyOf) && Object.keys(out).length === 1) return { ...wrapper, anyOf: [...out.anyOf, template] };
  return { ...wrapper, anyOf: [out, template] };
}

/** `$defs` gains the template definitions the schema now refers to. */
function addTemplateDefs(json: JsonSchema, used: Set<TemplateMode>): JsonSchema {
  if (used.size === 0) return json;
  const defs = { ...(json.$defs as JsonSchema | undefined) };
  for (const mode of ['variable', 'reference'] as const) if (used.has(mode)) defs[mode] = TEMPLATE_DEFS[mode];
  return { ...json, $defs: defs };
}

/** A step item: its kind's arguments take `${result}` references, its common keys (timeout, as, title) variables. */
function stepWithTemplates(step: JsonSchema, steps: StepSchemas, used: Set<TemplateMode>): JsonSchema {
  const one = (item: JsonSchema): JsonSchema => {
    const properties = Object.fromEntries(Object.entries(item.properties as Record<string, JsonSchema>).map(([key, schema]) =>
      [key, withTemplates(schema, steps.has(key) ? 'reference' : 'variable', used)]));
    return { ...item, properties };
  };
  return Array.isArray(step.oneOf) ? { ...step, oneOf: (step.oneOf as JsonSchema[]).map(one) } : one(step);
}

// ------------------------------------------------------------------------------ the three files

export function scenarioJsonSchema(steps: StepSchemas): JsonSchema {
  const json = toJsonSchema(scenarioSchema(stepItemSchema(steps)), 'dextbench scenario');
  const used = new Set<TemplateMode>();
  // The three step lists share one item schema: write it once under $defs.
  const properties = json.properties as Record<string, { items?: unknown }>;
  const step = properties.steps?.items;
  if (step !== undefined) {
    for (const section of ['setup', 'steps', 'cleanup']) {
      if (properties[section]?.items !== undefined) properties[section].items = { $ref: '#/$defs/step' };
    }
  }
  const doc = withTemplates(json, 'variable', used);
  if (isSchema(step)) doc.$defs = { ...(doc.$defs as JsonSchema | undefined), step: stepWithTemplates(step, steps, used) };
  return addTemplateDefs(doc, used);
}

export function rigJsonSchema(): JsonSchema {
  const used = new Set<TemplateMode>();
  return addTemplateDefs(withTemplates(toJsonSchema(rigSchema, 'dextbench rig'), 'variable', used), used);
}

/** Device profiles take no variables (device.ts substitutes nothing). */
export function deviceJsonSchema(): JsonSchema {
  return toJsonSchema(deviceSchema, 'dextbench device profile');
}
