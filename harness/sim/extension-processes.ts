// ES and NE system extensions as processes: launchd runs each `activated enabled` one as a root
// daemon from its staged bundle, stops it when its row leaves that state (upgrade, deactivation,
// uninstall, reboot), and starts it again after a crash (`timing.relaunchMs`). Level-triggered like
// dext matching: `reconcileExtensionProcesses` (from Mac.settle) looks at the rows and schedules.
//
// For the ES and NE models (their engineers' modules), the accessors below are the interface:
// runningExtension / extensionProcesses say which clients run; onExtensionStarted lets a model act
// when its category's process starts (the ES model logs its es_new_client result there).
import type { LogSource } from './log.ts';
import type { Mac } from './mac.ts';
import { DRIVER_CATEGORY, type ExtensionProcess, type ExtensionRow } from './state.ts';

/** Where sysextd stages a system extension; pgrep -f finds it by this path. */
export function extensionExecutablePath(proc: Pick<ExtensionProcess, 'uuid' | 'bundle' | 'executable'>): string {
  return `/Library/SystemExtensions/${proc.uuid}/${proc.bundle}.systemextension/Contents/MacOS/${proc.executable}`;
}

/** The extension's own log lines come from its process (os_log from the daemon). */
export function extensionLogSource(proc: ExtensionProcess): LogSource {
  const path = extensionExecutablePath(proc);
  return { processID: proc.pid, processImagePath: path, senderImagePath: path, threadID: 0x2000 + (proc.pid % 0xfff) };
}

/** Every running ES/NE extension process. */
export function extensionProcesses(mac: Mac): readonly ExtensionProcess[] {
  return mac.state.extensionProcesses ?? [];
}

/** The running process of the extension with this bundle id, if one runs (at most one version does). */
export function runningExtension(mac: Mac, bundle: string): ExtensionProcess | undefined {
  return extensionProcesses(mac).find((p) => p.bundle === bundle);
}

type StartedHook = (mac: Mac, proc: ExtensionProcess) => void;
const startedHooks = new Map<string, StartedHook[]>();

/** A model's hook, called right after a process of `category` starts (also after a relaunch). */
export function onExtensionStarted(category: string, hook: StartedHook): void {
  startedHooks.set(category, [...(startedHooks.get(category) ?? []), hook]);
}

function isSystemExtension(row: ExtensionRow): boolean {
  return row.category !== DRIVER_CATEGORY;
}

function rowOf(mac: Mac, proc: ExtensionProcess): ExtensionRow | undefined {
  return mac.state.extensions.find((r) => r.bundle === proc.bundle && r.shortVersion === proc.shortVersion &&
    r.bundleVersion === proc.bundleVersion && r.uuid === proc.uuid);
}

const launchKey = (row: ExtensionRow): string => `sysext-launch:${row.uuid}`;

/** Runs every enabled system extension, and stops the ones whose row is no longer enabled. */
export function reconcileExtensionProcesses(mac: Mac): void {
  const procs = mac.state.extensionProcesses ??= [];
  for (const proc of [...procs]) {
    if (rowOf(mac, proc)?.state !== 'activated enabled') stopExtensionProcess(mac, proc);
  }
  for (const row of mac.state.extensions) {
    if (!isSystemExtension(row)) continue;
    if (row.state !== 'activated enabled') { mac.cancel(launchKey(row)); continue; }
    if (procs.some((p) => p.uuid === row.uuid)) continue;
    const afterCrash = (mac.state.extensionRelaunchPending ?? []).includes(row.bundle);
    mac.schedule(launchKey(row), afterCrash ? mac.config.timing.relaunchMs : mac.config.timing.matchMs, () => launch(mac, row.uuid));
  }
}

function launch(mac: Mac, uuid: string): void {
  const row = mac.state.extensions.find((r) => r.uuid === uuid);
  const procs = mac.state.extensionProcesses ??= [];
  if (!row || row.state !== 'activated enabled' || procs.some((p) => p.uuid === uuid)) return;
  const proc: ExtensionProcess = {
    pid: mac.allocPid(), bundle: row.bundle, shortVersion: row.shortVersion, bundleVersion: row.bundleVersion,
    category: row.category, uuid: row.uuid, executable: row.executable ?? row.bundle, startTimeMs: Date.now(),
  };
  procs.push(proc);
  mac.state.extensionRelaunchPending = (mac.state.extensionRelaunchPending ?? []).filter((b) => b !== row.bundle);
  for (const hook of startedHooks.get(row.category) ?? []) hook(mac, proc);
}

/** The process exits without being started again (its row left `activated enabled`, or a reboot). */
export function stopExtensionProcess(mac: Mac, proc: ExtensionProcess): void {
  mac.state.extensionProcesses = extensionProcesses(mac).filter((p) => p !== proc);
}

/**
 * The process died of a signal (`kill -9`): launchd starts the same version again after
 * `timing.relaunchMs`. Nothing is logged: no capture says what launchd or sysextd print then.
 */
export function crashExtensionProcess(mac: Mac, proc: ExtensionProcess): void {
  stopExtensionProcess(mac, proc);
  const pending = mac.state.extensionRelaunchPending ??= [];
  if (!pending.includes(proc.bundle)) pending.push(proc.bundle);
}

/** A reboot: every extension process ends; enabled ones start again on the new boot. */
export function stopAllExtensionProcesses(mac: Mac): void {
  mac.state.extensionProcesses = [];
  mac.state.extensionRelaunchPending = [];
  mac.cancelPrefix('sysext-launch:');
}
