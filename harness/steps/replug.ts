import { duration } from '../scenario/index.ts';
import { defineStep } from './step.ts';
import { sleep } from '../common/time.ts';
import { rigDevice, setDevicePower, waitEnumerated, waitGone } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';

export default defineStep({
  kind: 'replug',
  summary: 'Unplug, stay off for `off` (default 1s), plug again and wait for enumeration.',
  schema: deviceArgs({ off: duration.optional() }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const within = args.within ?? 10_000;
    await setDevicePower(ctx.rig, device, false, ctx.timeline.record);
    await waitGone(ctx.rig, device, within, ctx.timeline.record);
    await sleep(args.off ?? 1000);
    await setDevicePower(ctx.rig, device, true, ctx.timeline.record);
    const seen = await waitEnumerated(ctx.rig, device, within, ctx.timeline.record);
    return { registryId: seen.device!.registryId, sessionId: seen.device!.sessionId, name: seen.device!.name };
  },
});
