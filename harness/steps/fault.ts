import { z } from 'zod';
import { killProcess } from '../host/tools/kill.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { describeDevice, describeObservation, observeDevice, rigDevice, serverFor } from '../rig/device-state.ts';
import { extensionProcessPattern, pgrep } from '../es/client.ts';
import { resolveExtension } from './support/extensions.ts';

const crashDext = z.strictObject({
  device: z.string().min(1),
  kind: z.literal('crash-dext'),
  userClass: z.string().min(1).optional(),
});
const crashExtension = z.strictObject({
  /** An ES or NE extension, by its name under uses.extensions or the rig's extensions. */
  extension: z.string().min(1),
  kind: z.literal('crash-extension'),
});

export default defineStep({
  kind: 'fault',
  summary: 'Inject a fault. `crash-dext` kills the dext process serving the device (by the pid in its IOUserServer node); `crash-extension` kills an ES/NE extension\'s process (pgrep -f <bundle>.systemextension/Contents/MacOS/, kill -9).',
  schema: z.discriminatedUnion('kind', [crashDext, crashExtension]),
  defaultTimeoutMs: 15_000,
  async run(args, ctx) {
    if (args.kind === 'crash-extension') {
      const decl = resolveExtension(ctx, args.extension);
      const pattern = extensionProcessPattern(decl.bundle);
      const pids = await pgrep(ctx.rig.exec, pattern);
      if (pids.length === 0) {
        throw new StepFailure(`fault crash-extension: no process of ${decl.bundle} runs (pgrep -f ${pattern} found none); activate it first (sysext.activate: ${decl.name})`);
      }
      // Extensions run as root: a privileged rig signals them through sudo -n.
      for (const pid of pids) await killProcess(ctx.rig.exec, pid, 'KILL', { sudo: ctx.rig.definition.privileged.sudo });
      ctx.timeline.record({ type: 'fault', kind: args.kind, extension: decl.name, bundle: decl.bundle, pids });
      return { pid: pids[0]!, pids, bundle: decl.bundle };
    }
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
