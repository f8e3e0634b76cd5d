import { z } from 'zod';
import type { FilterOutcome } from '../host/tools/activator.ts';
import { ToolError } from '../host/tools/tool-error.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure, type StepContext } from './context.ts';
import { defineStep } from './step.ts';
import { resolveExtension } from './support/extensions.ts';
import { verdictStreamIfAny } from './support/ne.ts';

/** How long saveToPreferences may wait for the filter prompt: on a rig nobody answers it. */
const APPROVAL_WAIT_MS = 5_000;
/** How long a saved filter may take to start (its provider launched, startFilter run). */
const START_WAIT_MS = 10_000;

/** Filters this scenario turned on, keyed like support/ne.ts by the scenario's results map. */
const turnedOn = new WeakMap<object, Set<string>>();

export default defineStep({
  kind: 'ne.filter',
  summary: 'Turn an NE extension\'s content filter on or off (the activator\'s NEFilterManager configuration): `ne.filter: { extension: flowgate, enabled: true }`; on returns once the filter is in force (FlowGate\'s start line), and one turned on is turned off again in cleanup.',
  schema: z.strictObject({
    extension: z.string().min(1),
    enabled: z.boolean(),
    /** How long the save may wait for the "would like to filter network content" prompt, and then for the filter to start. */
    within: duration.optional(),
  }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const decl = resolveExtension(ctx, args.extension);
    const timeoutMs = args.within ?? Math.min(ctx.timeoutMs, APPROVAL_WAIT_MS);
    const wasOn = args.enabled && await isEnabled(ctx, decl.bundle, timeoutMs);
    // A saved configuration is not yet a filter in force: NE starts the provider and calls its
    // startFilter afterwards, and flows until then pass unfiltered. FlowGate logs its start line
    // there (flowgate-log.ts), so turning it on waits for that line, seen on the NE steps' stream
    // started before the save.
    const stream = args.enabled && !wasOn ? await verdictStreamIfAny(ctx, ', so the filter\'s start is not awaited') : undefined;
    const startsBefore = stream?.starts() ?? [];
    const enabled = await saveFilter(ctx, decl.bundle, args.enabled, timeoutMs);
    const mine = turnedOn.get(ctx.results) ?? new Set<string>();
    turnedOn.set(ctx.results, mine);
    if (args.enabled && !wasOn && !mine.has(decl.bundle)) {
      // The rig is left with the filter as the scenario found it (also when it then fails to start).
      mine.add(decl.bundle);
      ctx.cleanup.push(`turn the content filter of ${decl.bundle} off`, async () => {
        mine.delete(decl.bundle);
        await saveFilter(ctx, decl.bundle, false, timeoutMs);
      });
    }
    if (stream) {
      const startMs = args.within ?? Math.min(ctx.timeoutMs, START_WAIT_MS);
      try {
        const started = await stream.waitForStart(startsBefore, { timeoutMs: startMs });
        ctx.timeline.record({ type: 'ne-filter-started', bundle: decl.bundle, rules: started.rules });
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        throw new StepFailure(`ne.filter enable ${decl.bundle}: saved, but the filter did not start within ${startMs} ms (${error.message}); its flows pass unfiltered until it does`);
      }
    }
    return { bundle: decl.bundle, enabled };
  },
});

async function isEnabled(ctx: StepContext, bundle: string, timeoutMs: number): Promise<boolean> {
  const outcome = await filterVerb(ctx, 'status', bundle, timeoutMs);
  return outcome.result === 'status' && outcome.enabled;
}

/** `filter enable|disable`: the state it saved. */
async function saveFilter(ctx: StepContext, bundle: string, enabled: boolean, timeoutMs: number): Promise<boolean> {
  const verb = enabled ? 'enable' : 'disable';
  const outcome = await filterVerb(ctx, verb, bundle, timeoutMs);
  if (outcome.result !== 'saved') throw new StepFailure(`ne.filter ${verb} ${bundle}: the activator answered filterStatus instead of filterSaved`);
  ctx.timeline.record({ type: 'ne-filter', bundle, enabled: outcome.enabled });
  return outcome.enabled;
}

/** One activator filter verb; needs approval or failed → one line with the fix or the NEFilterManagerError. */
async function filterVerb(ctx: StepContext, verb: 'enable' | 'disable' | 'status', bundle: string, timeoutMs: number): Promise<FilterOutcome> {
  let outcome: FilterOutcome;
  try {
    outcome = await ctx.rig.tools.activator.filter(verb, bundle, { timeoutMs });
  } catch (error) {
    if (error instanceof ToolError) throw new StepFailure(`ne.filter ${verb} ${bundle}: ${error.message}`);
    throw error;
  }
  for (const event of outcome.events) ctx.timeline.record({ ...event, type: 'activator' });
  if (outcome.result === 'needsApproval') {
    throw new StepFailure(`ne.filter ${verb} ${bundle}: the filter configuration needs approval (${outcome.message}): ${outcome.fix}`);
  }
  if (outcome.result === 'failed') {
    const e = outcome.error;
    throw new StepFailure(`ne.filter ${verb} ${bundle} failed: ${e.domain ?? 'NEFilterErrorDomain'} code ${e.code} (${e.name}): ${e.message}`);
  }
  return outcome;
}
