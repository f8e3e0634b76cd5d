import { defineStep } from './step.ts';
import { rigDevice, waitEnumerated } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';

export default defineStep({
  kind: 'expect.enumerated',
  summary: 'Wait until the device is in the IORegistry (IOUSBHostDevice with its vendor/product/serial).',
  schema: deviceArgs({}),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const seen = await waitEnumerated(ctx.rig, device, args.within ?? 10_000, ctx.timeline.record);
    const d = seen.device!;
    return { registryId: d.registryId, sessionId: d.sessionId, locationId: d.locationId, name: d.name };
  },
});
