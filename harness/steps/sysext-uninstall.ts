import { defineStep } from './step.ts';
import { extensionArgs, resolveExtension, teamFor } from './support/extensions.ts';

const schema = extensionArgs({});

export default defineStep({
  kind: 'sysext.uninstall',
  summary: 'Uninstall an extension with `systemextensionsctl uninstall <team> <bundle>` (needs SIP off).',
  schema,
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const decl = resolveExtension(ctx, args.extension);
    const { list } = await ctx.rig.tools.sysext.list();
    const row = list.extensions.find((r) => r.bundleId === decl.bundle);
    // '-' is accepted for the team id (systemextensionsctl usage text).
    const team = row?.teamId ?? teamFor(ctx, decl) ?? '-';
    await ctx.rig.tools.sysext.uninstall(team, decl.bundle);
    return { bundle: decl.bundle, teamId: team };
  },
});
