// JSON Schemas (draft 2020-12) for editors: `# yaml-language-server: $schema=…` gives completion
// and inline checks from the same zod schemas the loaders use.
import { z } from 'zod';
import { deviceSchema } from './device.ts';
import { rigSchema } from './rig.ts';
import { scenarioSchema } from './scenario.ts';
import { stepItemSchema, stepUnions, type StepSchemas } from './steps.ts';

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

export function scenarioJsonSchema(steps: StepSchemas): JsonSchema {
  const json = toJsonSchema(scenarioSchema(stepItemSchema(steps)), 'dextbench scenario');
  // The three step lists share one item schema: write it once under $defs.
  const properties = json.properties as Record<string, { items?: unknown }>;
  const step = properties.steps?.items;
  if (step !== undefined) {
    for (const section of ['setup', 'steps', 'cleanup']) {
      if (properties[section]?.items !== undefined) properties[section].items = { $ref: '#/$defs/step' };
    }
    json.$defs = { ...(json.$defs as Record<string, unknown> | undefined), step };
  }
  return json;
}

export function rigJsonSchema(): JsonSchema {
  return toJsonSchema(rigSchema, 'dextbench rig');
}

export function deviceJsonSchema(): JsonSchema {
  return toJsonSchema(deviceSchema, 'dextbench device profile');
}
