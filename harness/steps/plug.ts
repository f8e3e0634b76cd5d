import { defineStep } from './step.ts';
import { rigDevice, setDevicePower, waitEnumerated } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';

export default defineStep({
  kind: 'plug',
  summary: 'Power the device\'s hub port on and wait until the device enumerates, e.g. `plug: echo`.',
  schema: deviceArgs({}),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    await setDevicePower(ctx.rig, device, true, ctx.timeline.record);
    const seen = await waitEnumerated(ctx.rig, device, args.within ?? 10_000, ctx.timeline.record);
    return { registryId: seen.device!.registryId, sessionId: seen.device!.sessionId, name: seen.device!.name };
  },
});
