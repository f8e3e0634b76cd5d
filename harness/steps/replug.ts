import { duration } from '../scenario/index.ts';
import { defineStep } from './step.ts';
import { sleep } from '../common/time.ts';
import { rigDevice, setDevicePower, waitGone } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';
import { powerOnAndEnumerate } from './support/power-on.ts';

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
    const seen = await powerOnAndEnumerate(ctx, device, within);
    return { registryId: seen.device!.registryId, sessionId: seen.device!.sessionId, name: seen.device!.name };
  },
});
