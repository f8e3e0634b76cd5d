import { z } from 'zod';
import { defineStep } from './step.ts';
import { formatMs, pollUntil } from '../common/time.ts';
import { describeDevice, describeObservation, observeDevice, rigDevice } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';

export default defineStep({
  kind: 'expect.terminated',
  summary: 'Wait until the device\'s driver service is gone (the device left, or its dext service was terminated).',
  schema: deviceArgs({ userClass: z.string().min(1).optional() }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const userClass = args.userClass ?? device.profile.driver?.userClass;
    const timeoutMs = args.within ?? 10_000;
    const started = performance.now();
    await pollUntil(async () => {
      const o = await observeDevice(ctx.rig, device);
      const alive = o.services.some((s) => userClass === undefined || s.userClass === userClass);
      return { value: alive ? undefined : true, seen: o };
    }, {
      timeoutMs, intervalMs: 50,
      describe: (o) => `${describeDevice(device)}: ${userClass ?? 'dext'} service still present after ${formatMs(timeoutMs)}: ${describeObservation(o)}`,
    });
    ctx.timeline.record({ type: 'registry', change: 'service-terminated', device: device.role, userClass, afterMs: Math.round(performance.now() - started) });
    return { device: device.role };
  },
});
