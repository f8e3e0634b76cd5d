import { z } from 'zod';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { formatMs, pollUntil } from '../common/time.ts';
import { describeDevice, describeObservation, observeDevice, rigDevice, serverFor } from '../rig/device-state.ts';
import { deviceArgs } from './support/device-args.ts';
import { noteServingDext } from './support/serving-dexts.ts';

export default defineStep({
  kind: 'expect.matched',
  summary: 'Wait until the device\'s driver has matched: a service with the IOUserClass and the IOUserServer (dext process) serving it.',
  schema: deviceArgs({ userClass: z.string().min(1).optional() }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const userClass = args.userClass ?? device.profile.driver?.userClass;
    if (!userClass) {
      throw new StepFailure(`expect.matched: give userClass:, or a driver: { userClass } in device profile ${device.profile.name}`);
    }
    const timeoutMs = args.within ?? 10_000;
    const started = performance.now();
    const match = await pollUntil(async () => {
      const o = await observeDevice(ctx.rig, device, true);
      const service = o.services.find((s) => s.userClass === userClass);
      const server = service && serverFor(service, o.servers);
      return { value: service && server ? { o, service, server } : undefined, seen: o };
    }, {
      timeoutMs, intervalMs: 50,
      describe: (o) => `${describeDevice(device)} was not matched by ${userClass} within ${formatMs(timeoutMs)}: ${describeObservation(o)}`,
    });
    const { o, service, server } = match;
    const bundle = service.bundleId ?? service.serverName ?? device.profile.driver?.bundle ?? userClass;
    if (!ctx.matchedProviders.has(bundle)) ctx.matchedProviders.set(bundle, new Set());
    ctx.matchedProviders.get(bundle)!.add(o.device!.registryId);
    noteServingDext(ctx, o.device!.registryId, { bundle, pid: server.pid, serviceId: service.registryId, userClass: service.userClass });
    ctx.timeline.record({
      type: 'registry', change: 'service-matched', device: device.role, userClass, ioClass: service.ioClass,
      serviceId: `0x${service.registryId.toString(16)}`, providerId: `0x${o.device!.registryId.toString(16)}`,
      server: server.serverName, pid: server.pid,
      afterMs: Math.round(performance.now() - started),
    });
    return {
      registryId: service.registryId, userClass: service.userClass, ioClass: service.ioClass,
      serverName: server.serverName, bundleId: service.bundleId, pid: server.pid,
      providerId: o.device!.registryId, sessionId: o.device!.sessionId,
      waitedMs: Math.round(performance.now() - started),
    };
  },
});
