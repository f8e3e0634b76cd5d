import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { approvalHint, WAITING_FOR_USER } from './support/approval.ts';
import { resolveExtension } from './support/extensions.ts';

const schema = z.strictObject({
  /** Bundle id; or `extension:` naming a declared extension. */
  bundle: z.string().min(1).optional(),
  extension: z.string().min(1).optional(),
  /** "1.1.0" or "1.1.0/2". */
  version: z.string().min(1).optional(),
  /** State words as systemextensionsctl prints them, without brackets: `activated enabled`. */
  state: z.string().min(1),
  within: duration.optional(),
}).refine((v) => (v.bundle === undefined) !== (v.extension === undefined), {
  message: 'give exactly one of bundle: or extension:',
});

export default defineStep({
  kind: 'sysext.expect',
  summary: 'Poll `systemextensionsctl list` until the row for bundle (+ version) is in a state; fails with the rows last seen.',
  schema,
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const bundleId = args.bundle ?? resolveExtension(ctx, args.extension!).bundle;
    let waitsForApproval = false;
    const row = await ctx.rig.tools.sysext.waitForState({
      bundleId, version: args.version, state: args.state, timeoutMs: args.within ?? ctx.timeoutMs,
      // Waiting for approval never ends by itself on an unattended rig: say so at once.
      failFast: (rows) => {
        if (args.state === WAITING_FOR_USER) return undefined;
        const waiting = rows.find((r) => r.state === WAITING_FOR_USER &&
          (!args.version || args.version === r.shortVersion || args.version === `${r.shortVersion}/${r.bundleVersion}`));
        waitsForApproval = waiting !== undefined;
        return waiting ? approvalHint(bundleId, waiting, undefined) : undefined;
      },
    }).catch((error: unknown) => {
      // Waiting for approval is the rig's (it needs a person or a profile), not the extension's.
      throw new StepFailure(error instanceof Error ? error.message : String(error), { failureClass: waitsForApproval ? 'infrastructure' : 'product' });
    });
    return row;
  },
});
