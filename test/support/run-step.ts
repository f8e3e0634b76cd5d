// Running one step kind directly against a StepContext, as the engine does, for step tests.
import assert from 'node:assert/strict';
import { StepFailure, stepRegistry, type StepContext } from '../../harness/steps/index.ts';

/** Runs a step as the engine does: arguments through the kind's schema, then its run. */
export async function step(ctx: StepContext, kind: string, args: unknown): Promise<Record<string, unknown>> {
  const definition = stepRegistry.get(kind)!;
  return await definition.run(definition.schema.parse(args), ctx) as Record<string, unknown>;
}

/** The StepFailure a step run ends with (anything else fails the test). */
export async function failure(run: Promise<unknown>): Promise<StepFailure> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StepFailure, `expected a StepFailure, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return error;
}
