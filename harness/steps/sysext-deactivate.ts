import { pollUntil } from '../common/time.ts';
import { duration } from '../scenario/index.ts';
import { defineStep } from './step.ts';
import { extensionArgs, requestThroughActivator, resolveExtension } from './support/extensions.ts';

const schema = extensionArgs({ within: duration.optional() });

export default defineStep({
  kind: 'sysext.deactivate',
  summary: 'Submit a deactivation request for an extension and wait until no row of it is active.',
  schema,
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const decl = resolveExtension(ctx, args.extension);
    const withinMs = args.within ?? Math.min(ctx.timeoutMs, 30_000);
    const outcome = await requestThroughActivator(ctx, 'deactivate', decl, withinMs);
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
