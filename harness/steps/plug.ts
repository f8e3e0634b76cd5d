import { defineStep } from './step.ts';
import { rigDevice } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';
import { powerOnAndEnumerate } from './support/power-on.ts';

export default defineStep({
  kind: 'plug',
  summary: 'Power the device\'s hub port on and wait until the device enumerates, e.g. `plug: echo`.',
  schema: deviceArgs({}),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const seen = await powerOnAndEnumerate(ctx, device, args.within ?? 10_000);
    return { registryId: seen.device!.registryId, sessionId: seen.device!.sessionId, name: seen.device!.name };
  },
});
