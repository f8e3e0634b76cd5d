import { z } from 'zod';
import { defineStep } from './step.ts';

// YAML 1.2 reads `on`/`off` as strings; true/false are accepted too.
const onOff = z.union([z.enum(['on', 'off']), z.boolean()]).transform((v) => v === true || v === 'on');

export default defineStep({
  kind: 'sysext.developer',
  summary: 'Turn system extension developer mode on or off (`systemextensionsctl developer on|off`; needs SIP off).',
  schema: onOff,
  defaultTimeoutMs: 30_000,
  async run(on, ctx) {
    const before = await ctx.rig.tools.sysext.developerMode();
    if (before !== on) await ctx.rig.tools.sysext.setDeveloperMode(on);
    ctx.timeline.record({ type: 'sysext.developer', before, after: on });
    return { developerMode: on, changed: before !== on };
  },
});
