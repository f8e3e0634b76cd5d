import { z } from 'zod';
import { classifyDextLogMessage } from '../host/parsers/index.ts';
import { dextPredicate, logShow } from '../host/tools/log.ts';
import { formatMs, pollUntil } from '../common/time.ts';
import { describeDevice, describeObservation, observeDevice, rigDevice, serverFor } from '../rig/device-state.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { deviceArgs } from './support/device-args.ts';

export default defineStep({
  kind: 'expect.relaunched',
  summary: 'Wait until the kernel has logged the dext crash and relaunched it: the device is matched again by a new dext process.',
  schema: deviceArgs({
    /** The pid that crashed (e.g. `${crash.pid}` from a fault step's result). */
    previousPid: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
    userClass: z.string().min(1).optional(),
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const device = rigDevice(ctx.rig, args.device);
    const userClass = args.userClass ?? device.profile.driver?.userClass;
    const bundle = device.profile.driver?.bundle;
    const timeoutMs = args.within ?? 10_000;
    const started = performance.now();
    const relaunched = await pollUntil(async () => {
      const o = await observeDevice(ctx.rig, device, true);
      const service = o.services.find((s) => userClass === undefined || s.userClass === userClass);
      const server = service && serverFor(service, o.servers);
      const fresh = server && server.pid !== null && server.pid !== args.previousPid;
      return { value: fresh ? { o, service: service!, server: server! } : undefined, seen: o };
    }, {
      timeoutMs, intervalMs: 50,
      describe: (o) => `${describeDevice(device)} was not matched by a new dext process (crashed pid ${args.previousPid}) within ${formatMs(timeoutMs)}: ${describeObservation(o)}`,
    });
    // The kernel's own account of the crash: the rematch of this device (or of the provider the new
    // service started on, an interface say), and the crash counter the relaunch printed.
    const shown = await logShow(ctx.rig.exec, { start: ctx.startedAt, predicate: dextPredicate(bundle ? [bundle] : []) });
    const events = shown.filter((e) => e.timestamp >= ctx.startedAt).map((e) => ({ message: e.eventMessage, event: classifyDextLogMessage(e.eventMessage) }));
    const providers = new Set([relaunched.o.device!.registryId]);
    for (const { event } of events) {
      if (event?.kind === 'service-started' && event.serviceId === relaunched.service.registryId) providers.add(event.providerId);
    }
    const rematched = events.some(({ event }) => event?.kind === 'rematch' && providers.has(event.providerId));
    const evidence = events.filter(({ event }) =>
      (event?.kind === 'crashed' && (!bundle || event.bundleId === bundle)) || (event?.kind === 'rematch' && providers.has(event.providerId)),
    ).map((e) => e.message);
    if (!rematched) {
      throw new StepFailure(`${describeDevice(device)} has a new dext process (pid ${relaunched.server.pid}) but the unified log has no "rematching after dext crash" line for it since the scenario began: it was restarted, not relaunched after a crash`);
    }
    ctx.timeline.record({ type: 'relaunch', device: device.role, previousPid: args.previousPid, pid: relaunched.server.pid, evidence, afterMs: Math.round(performance.now() - started) });
    return { pid: relaunched.server.pid, serverName: relaunched.server.serverName, registryId: relaunched.service.registryId, crashLines: evidence };
  },
});
