// The contract every step kind implements: one module per kind, holding its schema and its run.
// Steps reach the rig only through the interfaces in StepContext; no step knows another step.
import type { z } from 'zod';
import type { StepContext } from './context.ts';

export interface StepDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The key that names the step in YAML: `plug`, `sysext.expect`, `expect.matched`. */
  kind: string;
  /** One line for editors (schema.json description) and `dextbench validate`. */
  summary: string;
  /** Schema of the value under the kind key. */
  schema: Schema;
  /** Argument keys naming a file relative to the scenario: the loader makes them absolute and reports a missing one at its key. */
  files?: readonly string[];
  /** Default deadline when neither the step's own `within`/`timeout` nor the scenario gives one. */
  defaultTimeoutMs?: number;
  /** Does the work. What it returns is stored under the step's `as:` name for later steps. */
  run(args: z.output<Schema>, ctx: StepContext): Promise<unknown>;
}

export function defineStep<Schema extends z.ZodType>(definition: StepDefinition<Schema>): StepDefinition<Schema> {
  return definition;
}
