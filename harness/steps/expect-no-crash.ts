// A crash of the extension's dext since the scenario began, by the kernel's account and by what
// serves its devices. The kernel prints `Driver <bundle> has crashed <n> time(s)` at every launch
// of the dext, crash or not (IOUserServer::launchUserServer; macos-formats.md §7.1), with n the
// crashes of a sliding 24-hour window. So one such line is no crash (a plug launches the dext too,
// and a dext launched before the scenario began has no line in it at all); these are:
//  - `DK: <provider>-0x<id> rematching after dext crash` for a provider of the bundle;
//  - a launch whose counter is above the one printed at the launch before it, in the scenario;
//  - a provider still present that is served by another dext process (or whose channel answers
//    with another instance id) than when the scenario first saw it — unless the extension was
//    deactivated, uninstalled or replaced during the scenario, which restarts it on purpose.
// A provider that went away (a device unplugged on purpose) is no crash.
import { classifyDextLogMessage, type DextServiceView, type UnifiedLogEntry, type UsbDeviceView, type UserServerView } from '../host/parsers/index.ts';
import { dextPredicate, logShow } from '../host/tools/log.ts';
import { serverFor } from '../rig/device-state.ts';
import { StepFailure, type ServingDext, type StepContext } from './context.ts';
import { defineStep } from './step.ts';
import { extensionArgs, resolveExtension } from './support/extensions.ts';
import { currentInstanceId, noteServingDext } from './support/serving-dexts.ts';

const schema = extensionArgs({});
const EVIDENCE_SHOWN = 3;
// sysextd states an extension leaves `activated enabled` for when it is stopped on purpose.
const STOPPED_STATE = /^(terminat|uninstall|deactivat)/;

export default defineStep({
  kind: 'expect.no_crash',
  summary: 'Fail if the extension\'s dext crashed since the scenario began: a rematch after a crash of one of its devices, a rise of its crash counter, or a device still present now served by another dext process or instance.',
  schema,
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const { bundle } = resolveExtension(ctx, args.extension);
    const [devices, servers, shown] = await Promise.all([
      ctx.rig.tools.ioreg.usbDevices(),
      ctx.rig.tools.ioreg.userServers(),
      logShow(ctx.rig.exec, { start: ctx.startedAt, predicate: dextPredicate([bundle]) }),
    ]);
    // `log show --start` takes whole seconds: drop what came before the scenario in that second.
    const entries = shown.filter((e) => e.timestamp >= ctx.startedAt);
    const now = servedNow(devices, servers, bundle);
    const logEvidence = crashLines(bundle, entries, bundleProviders(ctx, bundle, now), bundleClasses(ctx, bundle, now));
    const identityEvidence = stoppedOnPurpose(bundle, entries) ? [] : await relaunches(ctx, bundle, devices, now);
    for (const [provider, seen] of now) noteServingDext(ctx, provider, seen);

    const evidence = [...logEvidence, ...identityEvidence];
    if (evidence.length > 0) {
      ctx.timeline.record({ type: 'crash-evidence', bundle, evidence });
      const more = evidence.length > EVIDENCE_SHOWN ? ` | and ${evidence.length - EVIDENCE_SHOWN} more (timeline: crash-evidence)` : '';
      throw new StepFailure(`${bundle} crashed during the scenario: ${evidence.slice(0, EVIDENCE_SHOWN).join(' | ')}${more}`);
    }
    return { bundle, linesChecked: entries.length, providersChecked: now.size };
  },
});

/** Providers (USB device registry id) with a service of the bundle now, and the dext serving each. */
function servedNow(devices: UsbDeviceView[], servers: UserServerView[], bundle: string): Map<bigint, ServingDext> {
  const now = new Map<bigint, ServingDext>();
  for (const device of devices) {
    const service = device.services.find((s) => ofBundle(s, bundle));
    if (!service) continue;
    now.set(device.registryId, { bundle, pid: serverFor(service, servers)?.pid ?? null, serviceId: service.registryId, userClass: service.userClass });
  }
  return now;
}

function ofBundle(service: DextServiceView, bundle: string): boolean {
  return service.bundleId === bundle || service.serverName === bundle;
}

/** The bundle's providers the scenario knows: matched, first seen, or served now. */
function bundleProviders(ctx: StepContext, bundle: string, now: Map<bigint, ServingDext>): Set<bigint> {
  const providers = new Set<bigint>([...(ctx.matchedProviders.get(bundle) ?? []), ...now.keys()]);
  for (const [provider, s] of ctx.servingDexts) if (s.bundle === bundle) providers.add(provider);
  return providers;
}

/** The IOUserClass names of the bundle's services: seen on the host, or named by the rig's device profiles. */
function bundleClasses(ctx: StepContext, bundle: string, now: Map<bigint, ServingDext>): Set<string> {
  const classes = new Set([...now.values(), ...ctx.servingDexts.values()].filter((s) => s.bundle === bundle).map((s) => s.userClass));
  for (const device of ctx.rig.devices.values()) {
    if (device.profile.driver?.bundle === bundle) classes.add(device.profile.driver.userClass);
  }
  return classes;
}

/**
 * The kernel lines since the scenario began that say the bundle's dext crashed, each quoted with
 * its time: a rematch after a crash of one of its providers (also one its services started on in
 * the scenario: an interface, say), and a crash counter above the one printed at the launch before.
 */
export function crashLines(bundle: string, entries: UnifiedLogEntry[], knownProviders: ReadonlySet<bigint>, userClasses: ReadonlySet<string>): string[] {
  const events = entries.map((entry) => ({ entry, event: classifyDextLogMessage(entry.eventMessage) }));
  const providers = new Set(knownProviders);
  for (const { event } of events) {
    if (event?.kind === 'service-started' && userClasses.has(event.service)) providers.add(event.providerId);
  }
  const lines: string[] = [];
  let lastCount: number | undefined;
  for (const { entry, event } of events) {
    if (event?.kind === 'rematch' && providers.has(event.providerId)) lines.push(quote(entry));
    if (event?.kind === 'crashed' && event.bundleId === bundle) {
      if (lastCount !== undefined && event.count > lastCount) lines.push(`${quote(entry)} (${lastCount} at the launch before)`);
      lastCount = event.count;
    }
  }
  return lines;
}

function quote(entry: UnifiedLogEntry): string {
  const time = /\d{2}:\d{2}:\d{2}(\.\d+)?/.exec(entry.timestampText)?.[0] ?? entry.timestampText;
  return `${entry.process} ${time} "${entry.eventMessage}"`;
}

/** A sysextd state change that stops the bundle's extension (an elided line, §7-H, may be it too). */
function stoppedOnPurpose(bundle: string, entries: UnifiedLogEntry[]): boolean {
  return entries.some((e) => {
    // The text styles print `[<subsystem>:<category>] <message>` (§4.4); ndjson keeps them apart.
    const event = classifyDextLogMessage(e.subsystem ? `[${e.subsystem}:${e.category}] ${e.eventMessage}` : e.eventMessage);
    return event?.kind === 'state-change' && (event.bundleId === undefined || event.bundleId === bundle) && STOPPED_STATE.test(event.to);
  });
}

/** Providers still present whose dext is not the one the scenario first saw serving them. */
async function relaunches(ctx: StepContext, bundle: string, devices: UsbDeviceView[], now: Map<bigint, ServingDext>): Promise<string[]> {
  const lines: string[] = [];
  const names = new Map(devices.map((d) => [d.registryId, `${d.name}-0x${d.registryId.toString(16)}`]));
  for (const [provider, first] of ctx.servingDexts) {
    const current = now.get(provider);
    if (first.bundle !== bundle || !current || first.pid === null || current.pid === null || current.pid === first.pid) continue;
    lines.push(`${names.get(provider)}: served by dext pid ${first.pid} when the scenario first saw it, by pid ${current.pid} now`);
  }
  // An open session reaches the dext serving its device now; its instance id must be the first one's.
  for (const [role, client] of ctx.channels) {
    const entry = [...now].find(([, s]) => s.serviceId === client.bridge.registryId);
    const first = entry && ctx.servingDexts.get(entry[0]);
    if (!entry || first?.bundle !== bundle || first.instanceId === undefined) continue;
    const instanceId = await currentInstanceId(client);
    if (instanceId !== undefined && instanceId !== first.instanceId) {
      lines.push(`${names.get(entry[0])} (${role}): its dext answers GetInfo with instance id ${instanceId}, it was ${first.instanceId} when the scenario first saw it`);
    }
  }
  return lines;
}
