import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { resolveExtension } from './support/extensions.ts';
import { pollUntil } from '../rig/device-state.ts';

const schema = z.union([
  z.string().min(1),
  z.strictObject({ extension: z.string().min(1), within: duration.optional() }),
]).transform((v) => (typeof v === 'string' ? { extension: v } : v));

export default defineStep({
  kind: 'sysext.deactivate',
  summary: 'Submit a deactivation request for an extension and wait until no row of it is active.',
  schema,
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const decl = resolveExtension(ctx, args.extension);
    const withinMs = args.within ?? Math.min(ctx.timeoutMs, 30_000);
    const outcome = await ctx.rig.tools.activator.deactivate({
      dext: decl.dext, app: decl.app, bundle: decl.bundle,
      identity: ctx.rig.definition.signing.identity, timeoutMs: withinMs,
    });
    for (const event of outcome.events) ctx.timeline.record({ type: 'activator', ...event });
    if (outcome.result === 'failed') {
      const e = outcome.error;
      throw new StepFailure(`deactivation of ${decl.bundle} failed: ${e ? `code ${e.code} (${e.name}): ${e.message}` : `activator exited ${outcome.exitCode}`}`);
    }
    // Active rows go away (or turn into terminated ones that wait for a reboot).
    await pollUntil(async () => {
      const { list } = await ctx.rig.tools.sysext.list();
      const active = list.extensions.filter((r) => r.bundleId === decl.bundle && r.active);
      return { value: active.length === 0 ? true : undefined, seen: active };
    }, {
      timeoutMs: withinMs,
      describe: (rows) => `${decl.bundle} still active after deactivation: ${(rows ?? []).map((r) => `${r.shortVersion}/${r.bundleVersion} [${r.state}]`).join(', ')}`,
    });
    return { bundle: decl.bundle, result: outcome.result };
  },
});
