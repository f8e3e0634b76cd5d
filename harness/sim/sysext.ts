// System extension lifecycle as sysextd runs it: activation requests, approval policy, upgrades,
// deactivation, uninstall/reset, and what a reboot finishes.
import { randomUUID } from 'node:crypto';
import { isValidKextVersion, type ExtensionBundleInfo } from './dext-bundle.ts';
import { stopAllExtensionProcesses } from './extension-processes.ts';
import { KERNELMANAGERD, SYSEXTD } from './log.ts';
import type { Mac } from './mac.ts';
import { cdhashOf, stopDextsOf } from './matching.ts';
import { systemExtensionAllowed } from './profile-grants.ts';
import { DRIVER_CATEGORY, type ExtensionRow, type ExtensionState } from './state.ts';
import { detachDevice } from './usb.ts';

export type ActivatorEvent = Record<string, string | number>;

/** OSSystemExtensionError codes (driverkit-rigs-es-ne.md §B.3). */
export const SX_ERRORS = {
  unknown: 1, missingEntitlement: 2, unsupportedParentBundleLocation: 3, extensionNotFound: 4,
  extensionMissingIdentifier: 5, duplicateExtensionIdentifer: 6, unknownExtensionCategory: 7,
  codeSignatureInvalid: 8, validationFailed: 9, forbiddenBySystemPolicy: 10, requestCanceled: 11,
  requestSuperseded: 12, authorizationRequired: 13,
} as const;

export function failed(bundle: string, name: keyof typeof SX_ERRORS, message: string): ActivatorEvent {
  return { event: 'failed', bundle, domain: 'OSSystemExtensionErrorDomain', code: SX_ERRORS[name], name, message };
}

export const versionOf = (r: { shortVersion: string; bundleVersion: string }): string => `${r.shortVersion}/${r.bundleVersion}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function stateChange(mac: Mac, row: { teamId: string; bundle: string; shortVersion: string; bundleVersion: string }, from: string, to: string): void {
  mac.log.append(SYSEXTD, `extension ${row.teamId} ${row.bundle} (${versionOf(row)}) advancing state from ${from} to ${to}`,
    { subsystem: 'com.apple.sx', category: 'StateChanges' });
}

function setState(row: ExtensionRow, state: ExtensionState): void {
  row.state = state;
}

export interface ActivateRequest {
  info: ExtensionBundleInfo;
  teamId: string;
  /** The containing app is in /Applications (only matters with developer mode off). */
  inApplications: boolean;
}

/**
 * Run an activation request to its first conclusive delegate callback. Events go to `emit` in order;
 * the returned promise resolves when the request has finished, failed, or needs user approval.
 */
export async function activate(mac: Mac, req: ActivateRequest, emit: (e: ActivatorEvent) => void): Promise<void> {
  const { info, teamId } = req;
  const t = mac.config.timing;
  const label = { teamId, bundle: info.bundle, shortVersion: info.shortVersion, bundleVersion: info.bundleVersion };
  mac.log.append(SYSEXTD, `client activation request for ${info.bundle}`, { subsystem: 'com.apple.sx', category: 'XPC' });

  if (!mac.state.developerMode && !req.inApplications) {
    await sleep(t.activateMs / 4);
    emit(failed(info.bundle, 'unsupportedParentBundleLocation', 'App containing System Extension to be activated must be in /Applications folder. Current location: outside /Applications'));
    return;
  }

  const rows = mac.state.extensions.filter((r) => r.bundle === info.bundle && r.state !== 'terminated waiting to uninstall on reboot');
  const same = rows.find((r) => r.shortVersion === info.shortVersion && r.bundleVersion === info.bundleVersion);
  if (same?.state === 'activated enabled') {
    // "will succeed in short order without significant delay or user interaction" (§B.3)
    await sleep(Math.min(10, t.activateMs));
    emit({ event: 'finished', bundle: info.bundle, result: 'completed' });
    return;
  }
  if (same?.state === 'activated waiting for user') {
    await sleep(Math.min(10, t.activateMs));
    emit({ event: 'needsUserApproval', bundle: info.bundle });
    return;
  }

  const existing = rows.find((r) => r.state === 'activated enabled') ?? rows[0];
  if (existing) {
    emit({ event: 'replacing', bundle: info.bundle, existing: versionOf(existing), replacement: versionOf(info), action: 'replace' });
  }

  mac.log.append(SYSEXTD, `attempting to realize extension with identifier ${info.bundle}`);
  await sleep(t.activateMs / 3);
  stateChange(mac, label, 'realizing', 'staging');
  mac.log.append(SYSEXTD, `staging extension with identifier ${info.bundle}`);
  mac.log.append(SYSEXTD, `Making activation decision for extension with teamID teamID("${teamId}"), identifier ${info.bundle}`);
  mac.log.append(SYSEXTD, `initial activation decision: ${existing ? 'replace' : 'activateNew'}`);
  stateChange(mac, label, 'staging', 'validating');
  mac.log.append(SYSEXTD, `validating extension with identifier ${info.bundle}`);
  await sleep(t.activateMs / 3);
  const category = info.category;
  if (category === undefined) {
    // A .systemextension that is neither ES nor NE (contract §1: decided from its Info.plist here).
    // Unconfirmed: no capture shows sysextd's lines or the message for this error.
    emit(failed(info.bundle, 'unknownExtensionCategory', 'no NetworkExtension NEProviderClasses and no NSEndpointSecurityMachServiceName in Info.plist'));
    return;
  }
  stateChange(mac, label, 'validating', 'validating_by_category');
  // kernelmanagerd validates dexts; ES and NE extensions are validated by their own categories'
  // daemons, whose lines no capture shows, so none are printed for them.
  const isDriver = category === DRIVER_CATEGORY;
  if (isDriver) {
    mac.log.append(KERNELMANAGERD, `sysextd delegate validate extension: ${info.bundle} (${versionOf(info)})`);
    mac.log.append(KERNELMANAGERD, `Validating dext  0x0p+0t ${info.bundle}`, { subsystem: 'com.apple.kernelmanagerd.logging', category: 'DextValidation' });
  }

  if (isDriver && !isValidKextVersion(info.bundleVersion)) {
    // §7-H: kernelmanagerd rejects the properties, sysextd uninstalls, the request fails with code 9.
    mac.log.append(KERNELMANAGERD,
      `Extension ${info.bundle} is not valid, error:\n  Extension '${info.bundle}' has invalid properties:\n  ["Property 'CFBundleVersion' must be a valid kext version"]`,
      { subsystem: 'com.apple.kernelmanagerd.logging', category: 'DextValidation', type: 'Error' });
    mac.log.append(KERNELMANAGERD, `Validation of ${info.bundle} error: .invalidProperties`, { subsystem: 'com.apple.kernelmanagerd.logging', category: 'DextValidation', type: 'Error' });
    mac.log.append(SYSEXTD, `extension ${info.bundle} failed to validate! uninstalling...`);
    stateChange(mac, label, 'validating_by_category', 'uninstalling');
    mac.log.append(SYSEXTD, `uninstalling invalid extension ${info.bundle}`);
    mac.log.append(SYSEXTD, `finished uninstalling extension ${info.bundle}`);
    emit(failed(info.bundle, 'validationFailed', 'extension category returned error'));
    mac.settle();
    return;
  }
  if (isDriver) mac.log.append(KERNELMANAGERD, `Realize dext ${info.bundle}`, { subsystem: 'com.apple.kernelmanagerd.logging', category: 'DextValidation' });
  await sleep(t.activateMs / 3);

  const approved = systemExtensionAllowed(mac, teamId, info.bundle, category);
  const target: ExtensionState = approved ? 'activated enabled' : 'activated waiting for user';
  const row: ExtensionRow = {
    teamId, bundle: info.bundle, shortVersion: info.shortVersion, bundleVersion: info.bundleVersion,
    name: info.name, category, state: target, personalities: info.personalities,
    uuid: randomUUID().toUpperCase(), cdhash: cdhashOf(info.bundle, info.shortVersion, info.bundleVersion),
    ...(category !== DRIVER_CATEGORY ? { executable: info.executable } : {}),
  };
  stateChange(mac, label, 'validating_by_category', target.replace(/ /g, '_'));
  if (existing && approved) {
    replaceOlderVersions(mac, row, existing, rows);
  } else {
    // A pending (unapproved) request replaces an older pending one for the same bundle.
    for (const old of rows.filter((r) => r.state === 'activated waiting for user')) mac.state.extensions.splice(mac.state.extensions.indexOf(old), 1);
    mac.state.extensions.push(row);
  }
  mac.settle();
  emit(approved ? { event: 'finished', bundle: info.bundle, result: 'completed' } : { event: 'needsUserApproval', bundle: info.bundle });
}

/**
 * An approved row takes the place of `existing` (the enabled or first older row of its bundle) in the
 * list, and the `older` rows go: pending ones at once, the others wait for a reboot (§1-G shows the
 * new row above the terminated one). Running dext processes keep the old binary until their device
 * rematches (replug or reboot), as Karabiner's notes describe (§B.1).
 */
function replaceOlderVersions(mac: Mac, row: ExtensionRow, existing: ExtensionRow, older: ExtensionRow[]): void {
  const list = mac.state.extensions;
  if (list.includes(row)) list.splice(list.indexOf(row), 1);
  list.splice(list.indexOf(existing), 0, row);
  for (const old of older) {
    if (old === row) continue;
    if (old.state === 'activated waiting for user') list.splice(list.indexOf(old), 1);
    else { stateChange(mac, old, old.state.replace(/ /g, '_'), 'terminated_waiting_to_uninstall_on_reboot'); setState(old, 'terminated waiting to uninstall on reboot'); }
  }
}

/**
 * Deactivate `rows` of `bundle`: when a dext of the bundle was running it stops and the rows wait to
 * uninstall on reboot; otherwise they are removed at once (an ES/NE process ends with its row, at the
 * next settle). Returns how many dext processes stopped.
 */
function deactivateRows(mac: Mac, bundle: string, rows: ExtensionRow[]): number {
  const stopped = stopDextsOf(mac, bundle);
  for (const row of rows) {
    if (stopped > 0) {
      stateChange(mac, row, row.state.replace(/ /g, '_'), 'terminated_waiting_to_uninstall_on_reboot');
      setState(row, 'terminated waiting to uninstall on reboot');
    } else {
      stateChange(mac, row, row.state.replace(/ /g, '_'), 'uninstalling');
      mac.state.extensions.splice(mac.state.extensions.indexOf(row), 1);
    }
  }
  return stopped;
}

/**
 * Run `change` (installing, replacing or removing configuration profiles), then do what the
 * system-extension policy's change means for extensions already known (reference §B.4, macOS 11.3+):
 * - a row `activated waiting for user` the policy now allows completes its activation, as when the
 *   user approves it (a dext's devices then match at the next settle);
 * - a row `activated enabled` that the policy allowed before and no longer does is deactivated, as
 *   a deactivation request deactivates it. Every row enabled in the sim got there by the policy
 *   (the sim does not model a user clicking Allow), so one the config or another payload still
 *   allows stays.
 * The activator that submitted a pending request is not told: it exits right after
 * needsUserApproval (dext-fixtures/activator contract, exit 3), so no delegate is left waiting; a
 * new activation request for the same version then finishes at once.
 * Unconfirmed: the reference has no capture of sysextd's lines for either case; the StateChanges
 * lines the sim prints for activation and deactivation are reused (an author's note in
 * macos-formats.md describes the sequence activated_waiting_for_user → activated_enabled).
 */
export function changePolicy(mac: Mac, change: () => void): void {
  const allowed = (r: ExtensionRow): boolean => systemExtensionAllowed(mac, r.teamId, r.bundle, r.category);
  const allowedBefore = new Set(mac.state.extensions.filter((r) => r.state === 'activated enabled' && allowed(r)));
  change();
  for (const row of mac.state.extensions.filter((r) => r.state === 'activated waiting for user' && allowed(r))) {
    const older = mac.state.extensions.filter((r) => r !== row && r.bundle === row.bundle && r.state !== 'terminated waiting to uninstall on reboot');
    const existing = older.find((r) => r.state === 'activated enabled');
    stateChange(mac, row, 'activated_waiting_for_user', 'activated_enabled');
    setState(row, 'activated enabled');
    if (existing) replaceOlderVersions(mac, row, existing, older);
  }
  // No "client deactivation request" line: no client asked.
  for (const row of [...allowedBefore].filter((r) => r.state === 'activated enabled' && !allowed(r))) deactivateRows(mac, row.bundle, [row]);
  mac.settle();
}

/**
 * Deactivation. Choice (the reference has no capture of a dext deactivation): a driver that was
 * running leaves its row `terminated waiting to uninstall on reboot` and the request finishes with
 * willCompleteAfterReboot (TinyGPU printed "Will complete after reboot.", §2-D); a driver with no
 * running process is removed at once and the request completes. An ES or NE extension's row is
 * removed and its process exits (extension-processes.ts): the request completes.
 */
export async function deactivate(mac: Mac, bundle: string, emit: (e: ActivatorEvent) => void): Promise<void> {
  mac.log.append(SYSEXTD, `client deactivation request for ${bundle}`, { subsystem: 'com.apple.sx', category: 'XPC' });
  const rows = mac.state.extensions.filter((r) => r.bundle === bundle && r.state !== 'terminated waiting to uninstall on reboot');
  await sleep(mac.config.timing.activateMs / 2);
  if (rows.length === 0) {
    emit(failed(bundle, 'extensionNotFound', `no active extension with identifier ${bundle}`));
    return;
  }
  const stopped = deactivateRows(mac, bundle, rows);
  mac.settle();
  emit({ event: 'finished', bundle, result: stopped > 0 ? 'willCompleteAfterReboot' : 'completed' });
}

/** `systemextensionsctl uninstall`: matching rows wait for uninstall on reboot; their dexts stop. */
export function uninstall(mac: Mac, teamId: string, bundle: string): boolean {
  const rows = mac.state.extensions.filter((r) => r.bundle === bundle && (teamId === '-' || r.teamId === teamId));
  if (rows.length === 0) return false;
  for (const row of rows) {
    if (row.state === 'terminated waiting to uninstall on reboot') continue;
    stateChange(mac, row, row.state.replace(/ /g, '_'), 'terminated_waiting_to_uninstall_on_reboot');
    setState(row, 'terminated waiting to uninstall on reboot');
  }
  stopDextsOf(mac, bundle);
  mac.settle();
  return true;
}

/** `systemextensionsctl reset`: every extension is marked for uninstall and every dext stops. */
export function reset(mac: Mac): void {
  for (const row of mac.state.extensions) {
    if (row.state === 'terminated waiting to uninstall on reboot') continue;
    stateChange(mac, row, row.state.replace(/ /g, '_'), 'terminated_waiting_to_uninstall_on_reboot');
    setState(row, 'terminated waiting to uninstall on reboot');
  }
  stopDextsOf(mac, null);
  mac.settle();
}

/** A reboot: terminated rows are gone, dexts and devices go away, powered devices enumerate again. */
export function reboot(mac: Mac): void {
  stopDextsOf(mac, null);
  stopAllExtensionProcesses(mac);
  for (const role of Object.keys(mac.state.deviceNodes)) detachDevice(mac, role);
  mac.cancelPrefix('enumerate:');
  mac.cancelPrefix('match:');
  mac.state.extensions = mac.state.extensions.filter((r) => r.state !== 'terminated waiting to uninstall on reboot');
  mac.state.relaunchPending = [];
  mac.state.crashes = {};
  // Strictly later, so that two reboots within a millisecond still read as two (kern.boottime).
  mac.state.bootTimeMs = Math.max(Date.now(), mac.state.bootTimeMs + 1);
  mac.state.bootUuid = randomUUID().toUpperCase();
  mac.settle();
}
