import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { waitForDevice } from '../usb/index.ts';
import { defineStep } from './step.ts';
import { asStepFailure, localUsbDevice, usbFilterOf } from './support/usb-device.ts';

export default defineStep({
  kind: 'usb.expect',
  summary: 'Wait until the device is present (or absent) on the USB bus of the machine dextbench runs on, by node-usb hotplug events (polling every 100 ms where the host sends none; the timeline says which). Refused on an ssh rig: the USB bus there is the Mac\'s, not this machine\'s.',
  schema: z.strictObject({
    device: z.string().min(1),
    state: z.enum(['present', 'absent']).default('present'),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = localUsbDevice(ctx, 'usb.expect', args.device);
    try {
      const wait = await waitForDevice(usbFilterOf(ctx.rig.definition, device), args.state, { timeoutMs: args.within ?? ctx.timeoutMs });
      ctx.timeline.record({
        type: 'usb', device: args.device, state: args.state, via: wait.via, ...(wait.why ? { why: wait.why } : {}), ms: wait.ms,
        location: wait.device?.location ?? null, address: wait.device?.address ?? null,
      });
      return { state: args.state, via: wait.via, why: wait.why ?? null, ms: wait.ms, location: wait.device?.location ?? null, serial: wait.device?.serial ?? null };
    } catch (error) {
      throw asStepFailure('usb.expect', args.device, error);
    }
  },
});
