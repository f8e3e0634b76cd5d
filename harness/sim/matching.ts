// IOKit matching of dext personalities against USB nubs, dext processes, crashes and relaunch.
import { createHash } from 'node:crypto';
import { KERNEL, type LogSource } from './log.ts';
import type { Mac } from './mac.ts';
import { isDict, type PDict, type PValue } from './plist.ts';
import { RESOURCES_NAME, type RegNode } from './registry.ts';
import type { DextProcess, ExtensionRow } from './state.ts';

const PROVIDER_CLASSES = new Set(['IOUSBHostDevice', 'IOUSBHostInterface']);
// Keys a USB personality may constrain; every key it carries must equal the nub's property.
const MATCH_KEYS = ['idVendor', 'idProduct', 'bcdDevice', 'bConfigurationValue', 'bInterfaceNumber', 'bInterfaceClass', 'bInterfaceSubClass', 'bInterfaceProtocol'];

function asBigInt(v: PValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return BigInt(v);
  return undefined;
}

export function personalityMatches(p: PDict, provider: RegNode): boolean {
  if (p['IOProviderClass'] !== provider.className) return false;
  for (const key of MATCH_KEYS) {
    if (!(key in p)) continue;
    const want = asBigInt(p[key]);
    if (want === undefined || want !== asBigInt(provider.props[key])) return false;
  }
  return true;
}

/** The cdhash stands for the dext binary: derived from bundle + version so a new build changes it. */
export function cdhashOf(bundle: string, shortVersion: string, bundleVersion: string): string {
  return createHash('sha1').update(`${bundle}\0${shortVersion}\0${bundleVersion}`).digest('hex');
}

export function dextSource(proc: { pid: number; bundle: string; uuid: string }): LogSource {
  const dir = `/Library/SystemExtensions/${proc.uuid}/${proc.bundle}.dext`;
  // The process name is the bundle id (IOUserClientCreator shows it cut to 16 chars, §3-B);
  // dext os_log lines are filtered with sender == "<bundle>.dext" (§4-E).
  return { processID: proc.pid, processImagePath: `${dir}/${proc.bundle}`, senderImagePath: `${dir}/${proc.bundle}.dext`, threadID: 0x1000 + (proc.pid % 0xfff) };
}

function findMatch(mac: Mac, provider: RegNode): { row: ExtensionRow; personality: string } | undefined {
  let best: { row: ExtensionRow; personality: string; score: bigint } | undefined;
  for (const row of mac.state.extensions) {
    if (row.state !== 'activated enabled') continue;
    for (const name of Object.keys(row.personalities).sort()) {
      const p = row.personalities[name]!;
      if (!personalityMatches(p, provider)) continue;
      const score = asBigInt(p['IOProbeScore']) ?? 0n;
      if (!best || score > best.score) best = { row, personality: name, score };
    }
  }
  return best;
}

function isServed(mac: Mac, providerId: string): boolean {
  return mac.state.dexts.some((d) => d.providerId === providerId);
}

/** Every unserved USB nub with a matching enabled personality gets a dext after matchMs (relaunchMs after a crash). */
export function reconcileMatching(mac: Mac): void {
  for (const node of mac.registry.all()) {
    if (!PROVIDER_CLASSES.has(node.className) || node.props['dextbench hub id'] !== undefined) continue;
    if (isServed(mac, node.id) || !findMatch(mac, node)) continue;
    const afterCrash = mac.state.relaunchPending.includes(node.id);
    const delay = afterCrash ? mac.config.timing.relaunchMs : mac.config.timing.matchMs;
    mac.schedule(`match:${node.id}`, delay, () => launch(mac, node.id));
  }
}

function launch(mac: Mac, providerId: string): void {
  const provider = mac.registry.get(providerId);
  if (!provider || isServed(mac, providerId)) return;
  const match = findMatch(mac, provider);
  if (!match) return;
  const { row, personality } = match;
  const p = row.personalities[personality]!;
  const userClass = typeof p['IOUserClass'] === 'string' ? p['IOUserClass'] : personality;
  const serverName = typeof p['IOUserServerName'] === 'string' ? p['IOUserServerName'] : row.bundle;
  const ioClass = typeof p['IOClass'] === 'string' ? p['IOClass'] : 'IOUserService';
  const pid = mac.allocPid();
  const uniqueId = createHash('sha256').update(`${row.bundle}\0${row.cdhash}`).digest();

  const serviceProps: PDict = {
    ...p,
    IOClass: ioClass,
    IOProviderClass: provider.className,
    IOUserClass: userClass,
    IOUserServerName: serverName,
    CFBundleIdentifier: row.bundle,
    CFBundleIdentifierKernel: 'com.apple.kpi.iokit',
    IOPersonalityPublisher: row.bundle,
    IOUserServerCDHash: row.cdhash,
    IOMatchCategory: 'IODefaultMatchCategory',
    IOProbeScore: asBigInt(p['IOProbeScore']) ?? 0n,
    IOMatchedPersonality: { ...p, CFBundleIdentifier: row.bundle, IOUserServerCDHash: row.cdhash, kOSBundleDextUniqueIdentifier: new Uint8Array(uniqueId) },
    IOUserClasses: [userClass, 'IOService', 'OSObject'],
    IOPowerManagement: { CapabilityFlags: 2n, MaxPowerState: 2n, CurrentPowerState: 2n },
  };
  const service = mac.registry.add(provider.id, {
    name: userClass, className: ioClass, props: serviceProps, usbPlane: false,
    registered: true, matched: true, busyMs: 1, retain: 8,
  });
  const resources = mac.registry.findByName(RESOURCES_NAME)!;
  const server = mac.registry.add(resources.id, {
    name: `IOUserServer(${serverName}-${service.id})`, className: 'IOUserServer', usbPlane: false,
    registered: true, matched: true, busyMs: 0, retain: 11,
    props: {
      IOUserClientDefaultLocking: true,
      IOUserClientCreator: `pid ${pid}, ${row.bundle.slice(0, 16)}`,
      IOUserServerName: serverName,
      IOUserServerTag: BigInt(service.id),
      IOAssociatedServices: [BigInt(service.id)],
      IOPowerManagement: { CapabilityFlags: 0n, MaxPowerState: 2n, CurrentPowerState: 0n },
    },
  });
  const proc: DextProcess = {
    pid, bundle: row.bundle, shortVersion: row.shortVersion, bundleVersion: row.bundleVersion, uuid: row.uuid,
    serverName, serverNodeId: server.id, tag: service.id, providerId: provider.id, serviceIds: [service.id], personality,
    startTimeNs: BigInt(Date.now()) * 1_000_000n,
  };
  mac.state.dexts.push(proc);
  mac.state.relaunchPending = mac.state.relaunchPending.filter((id) => id !== provider.id);
  // xnu's IOUserServer::launchUserServer prints the counter at every launch, crash or not (§7.1).
  mac.log.append(KERNEL, `Driver ${row.bundle} has crashed ${recentCrashes(mac, row.bundle).length} time(s)`);
  mac.log.append(KERNEL, `DK: ${userClass}-${service.id}::start(${provider.name}-${provider.id}) ok`);
  // What the dext itself logs is up to the driver; the echo fixture's Start says hello.
  mac.log.append(dextSource(proc), `${userClass}::Start: provider ${provider.name}-${provider.id}, version ${row.shortVersion}/${row.bundleVersion}`);
}

function removeProcess(mac: Mac, proc: DextProcess): void {
  for (const id of proc.serviceIds) mac.registry.remove(id);
  mac.registry.remove(proc.serverNodeId);
  mac.state.dexts = mac.state.dexts.filter((d) => d !== proc);
  // Its services are gone: every open user-client connection learns it (bridges report TERMINATED).
  mac.dextStopped(proc.pid);
}

/** Stop dexts whose provider is among `nodeIds` (device gone): services terminate, no crash. */
export function stopDextsOn(mac: Mac, nodeIds: string[]): void {
  const ids = new Set(nodeIds);
  for (const proc of mac.state.dexts.filter((d) => ids.has(d.providerId))) removeProcess(mac, proc);
  mac.state.relaunchPending = mac.state.relaunchPending.filter((id) => !ids.has(id));
  for (const id of ids) mac.cancel(`match:${id}`);
}

/** Stop every dext process of a bundle (uninstall, deactivate, reboot). */
export function stopDextsOf(mac: Mac, bundle: string | null): number {
  const procs = mac.state.dexts.filter((d) => bundle === null || d.bundle === bundle);
  for (const proc of procs) removeProcess(mac, proc);
  return procs.length;
}

export const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, EMT: 7, FPE: 8, KILL: 9, BUS: 10, SEGV: 11,
  SYS: 12, PIPE: 13, ALRM: 14, TERM: 15, USR1: 30, USR2: 31,
};

const DAY_MS = 24 * 60 * 60 * 1000;

/** The bundle's crashes in the kernel's sliding 24-hour window (OSDextStatistics). */
function recentCrashes(mac: Mac, bundle: string): number[] {
  const now = Date.now();
  return (mac.state.crashes[bundle] ?? []).filter((t) => now - t < DAY_MS);
}

/**
 * The dext process died: its server exits, the crash is counted, its services terminate with
 * rematch, the provider's IORematchCount grows, and after relaunchMs the kernel launches it again
 * on the same nub (§B.1), printing the counter with this crash in it.
 */
export function crashDext(mac: Mac, proc: DextProcess, signal: string): void {
  const server = mac.registry.get(proc.serverNodeId);
  // The exit reason text is not confirmed by any capture; the signal name stands in for it.
  if (server) mac.log.append(KERNEL, `DK: ${server.name}-${server.id}::exit(SIG${signal})`);
  removeProcess(mac, proc);
  const provider = mac.registry.get(proc.providerId);
  // Recorded without a log line (IOUserServer::clientClose); the relaunch prints the new count.
  mac.state.crashes[proc.bundle] = [...recentCrashes(mac, proc.bundle), Date.now()];
  if (!provider) return;
  const count = typeof provider.props['IORematchCount'] === 'bigint' ? provider.props['IORematchCount'] : 0n;
  provider.props['IORematchCount'] = count + 1n;
  const row = mac.state.extensions.find((r) => r.bundle === proc.bundle && r.bundleVersion === proc.bundleVersion);
  const personality = row?.personalities[proc.personality];
  if (isDict(personality)) provider.props['IORematchPersonality'] = personality;
  mac.log.append(KERNEL, `DK: ${provider.name}-${provider.id} rematching after dext crash`);
  mac.state.relaunchPending.push(provider.id);
}
