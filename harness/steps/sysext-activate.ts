import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { approvalHint, WAITING_FOR_USER } from './support/approval.ts';
import { requestThroughActivator, resolveExtension, teamFor } from './support/extensions.ts';

const schema = z.union([
  z.string().min(1),
  z.strictObject({
    extension: z.string().min(1),
    /** How long the extension may take to reach `activated enabled`. */
    within: duration.optional(),
    /** The activator result the scenario expects. */
    expect: z.enum(['completed', 'willCompleteAfterReboot']).optional(),
  }),
]).transform((v) => (typeof v === 'string' ? { extension: v } : v));

export default defineStep({
  kind: 'sysext.activate',
  summary: 'Submit an activation request for an extension (wrapping a bare .dext into the activator app) and wait until it is activated enabled.',
  schema,
  defaultTimeoutMs: 120_000,
  async run(args, ctx) {
    const decl = resolveExtension(ctx, args.extension);
    const withinMs = args.within ?? Math.min(ctx.timeoutMs, 60_000);
    const outcome = await requestThroughActivator(ctx, 'activate', decl, withinMs);
    if (outcome.result === 'needsUserApproval') {
      const { list } = await ctx.rig.tools.sysext.list();
      const row = list.extensions.find((r) => r.bundleId === decl.bundle && r.state === WAITING_FOR_USER);
      // Nothing the extension did wrong: the Mac needs a person (or a profile) before it runs anything.
      throw new StepFailure(approvalHint(decl.bundle, row, teamFor(ctx, decl)), { failureClass: 'infrastructure' });
    }
    if (args.expect && outcome.result !== args.expect) {
      throw new StepFailure(`activation of ${decl.bundle} finished ${outcome.result}, expected ${args.expect}`);
    }
    const submitted = outcome.events.find((e) => e.event === 'submitted');
    const version = typeof submitted?.version === 'string' ? submitted.version : decl.version;
    if (outcome.result === 'willCompleteAfterReboot') return { bundle: decl.bundle, version, result: outcome.result };
    let waitsForApproval = false;
    const row = await ctx.rig.tools.sysext.waitForState({
      bundleId: decl.bundle, version, state: 'activated enabled', timeoutMs: withinMs,
      failFast: (rows) => {
        const waiting = rows.find((r) => r.state === WAITING_FOR_USER);
        waitsForApproval = waiting !== undefined;
        return waiting ? approvalHint(decl.bundle, waiting, teamFor(ctx, decl)) : undefined;
      },
    }).catch((error: unknown) => {
      // Waiting for approval is the rig's; an extension that never activates is the product's.
      throw new StepFailure((error as Error).message, { failureClass: waitsForApproval ? 'infrastructure' : 'product', cause: error });
    });
    return { bundle: decl.bundle, version: `${row.shortVersion}/${row.bundleVersion}`, result: outcome.result, teamId: row.teamId };
  },
});
