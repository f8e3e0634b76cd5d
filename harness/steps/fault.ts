import { z } from 'zod';
import { killProcess } from '../host/tools/kill.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { describeDevice, describeObservation, observeDevice, rigDevice, serverFor } from '../rig/device-state.ts';

export default defineStep({
  kind: 'fault',
  summary: 'Inject a fault. `crash-dext` kills the dext process serving the device (by the pid in its IOUserServer node).',
  schema: z.strictObject({
    device: z.string().min(1),
    kind: z.enum(['crash-dext']),
    userClass: z.string().min(1).optional(),
  }),
  defaultTimeoutMs: 15_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const userClass = args.userClass ?? device.profile.driver?.userClass;
    const o = await observeDevice(ctx.rig, device, true);
    const service = o.services.find((s) => userClass === undefined || s.userClass === userClass);
    const server = service && serverFor(service, o.servers);
    if (!server || server.pid === null) {
      throw new StepFailure(`fault crash-dext: no dext process serves ${describeDevice(device)}: ${describeObservation(o)}`);
    }
    await killProcess(ctx.rig.exec, server.pid, 'KILL', { sudo: ctx.rig.definition.privileged.sudo });
    ctx.timeline.record({ type: 'fault', kind: args.kind, device: device.role, pid: server.pid, server: server.serverName });
    return { pid: server.pid, serverName: server.serverName };
  },
});
