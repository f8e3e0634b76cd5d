// Running one step kind directly against a StepContext, as the engine does, for step tests; and a
// scenario's StepContext on a rig that records what the steps did.
import assert from 'node:assert/strict';
import { loadChannelCodec } from '../../harness/channel/index.ts';
import type { RigSession } from '../../harness/rig/connect.ts';
import type { ExtensionDecl } from '../../harness/rig/types.ts';
import type { Scenario } from '../../harness/scenario/index.ts';
import { StepFailure, stepRegistry, type Measurement, type StepContext, type TimelineEvent } from '../../harness/steps/index.ts';

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

export interface TestStepContext extends StepContext {
  /** What the steps put on the timeline. */
  events: TimelineEvent[];
  measurements: Measurement[];
  /** Titles of the cleanups the steps registered, in order. */
  cleanupTitles: string[];
  /** Runs the registered cleanups, the last first, as the engine does at the end of a scenario. */
  close(): Promise<void>;
}

export interface TestStepContextOptions {
  devices?: string[];
  extensions?: Record<string, ExtensionDecl>;
  /** The step's deadline (default 30 s). */
  timeoutMs?: number;
  verifyLease?: () => Promise<void>;
}

/** One scenario's StepContext on `rig`, recording what the steps did, for step tests. */
export function testStepContext(rig: RigSession, options: TestStepContextOptions = {}): TestStepContext {
  const extensions = options.extensions ?? {};
  const events: TimelineEvent[] = [];
  const measurements: Measurement[] = [];
  const cleanups: { title: string; action: () => Promise<void> }[] = [];
  return {
    rig,
    scenario: {
      file: '/x/s.yaml', name: 's', tags: [], timeoutMs: 60_000, vars: {},
      uses: { devices: options.devices ?? [], extensions }, setup: [], steps: [], cleanup: [],
    } as unknown as Scenario,
    extensions,
    timeline: { record: (e) => { events.push(e); } },
    cleanup: {
      push: (title, action) => { cleanups.push({ title, action }); },
      release: (title, action) => { cleanups.push({ title, action }); },
    },
    results: new Map(),
    startedAt: new Date(),
    timeoutMs: options.timeoutMs ?? 30_000,
    measure: (m) => { measurements.push(m); },
    matchedProviders: new Map(),
    servingDexts: new Map(),
    channels: new Map(),
    codecFor: () => loadChannelCodec(),
    verifyLease: options.verifyLease ?? (async () => undefined),
    events,
    measurements,
    get cleanupTitles() { return cleanups.map((c) => c.title); },
    async close() { for (const c of cleanups.splice(0).reverse()) await c.action(); },
  };
}
