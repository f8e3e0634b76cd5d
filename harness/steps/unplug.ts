import { defineStep } from './step.ts';
import { rigDevice, setDevicePower, waitGone } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';

export default defineStep({
  kind: 'unplug',
  summary: 'Power the device\'s hub port off and wait until the device leaves the registry.',
  schema: deviceArgs({}),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    await setDevicePower(ctx.rig, device, false, ctx.timeline.record);
    await waitGone(ctx.rig, device, args.within ?? 10_000, ctx.timeline.record);
    return { device: device.role };
  },
});
