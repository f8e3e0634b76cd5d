// The persisted state of one simulated Mac (`<state-dir>/state.json`). Everything a restarted
// daemon needs to resume the same Mac lives here; timers are re-derived from it (see mac.ts).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { SimConfig } from './config.ts';
import type { LogEntry } from './log.ts';
import type { PDict } from './plist.ts';
import type { RegNode } from './registry.ts';

export type ExtensionState =
  | 'activated enabled'
  | 'activated waiting for user'
  | 'terminated waiting to uninstall on reboot';

export const DRIVER_CATEGORY = 'com.apple.system_extension.driver_extension';
export const ENDPOINT_SECURITY_CATEGORY = 'com.apple.system_extension.endpoint_security';
export const NETWORK_EXTENSION_CATEGORY = 'com.apple.system_extension.network_extension';

export interface ExtensionRow {
  teamId: string;
  bundle: string;
  shortVersion: string;
  bundleVersion: string;
  name: string;
  category: string;
  state: ExtensionState;
  /** IOKitPersonalities from the dext's Info.plist, by personality name. */
  personalities: Record<string, PDict>;
  /** Where the dext would be staged (`/Library/SystemExtensions/<uuid>/<bundle>.dext`). */
  uuid: string;
  cdhash: string;
  /** A system extension's CFBundleExecutable (absent for dexts and in older state files). */
  executable?: string;
}

/**
 * A running ES or NE system extension: a root daemon launched from its staged bundle
 * (`/Library/SystemExtensions/<uuid>/<bundle>.systemextension/Contents/MacOS/<executable>`).
 */
export interface ExtensionProcess {
  pid: number;
  bundle: string;
  shortVersion: string;
  bundleVersion: string;
  category: string;
  uuid: string;
  executable: string;
  startTimeMs: number;
}

/** An NE filter configuration the activator saved (NEFilterManager), by filter provider bundle id. */
export interface FilterConfiguration {
  /** localizedDescription ("UserDefinedName"). */
  name: string;
  enabled: boolean;
}

export interface DextProcess {
  pid: number;
  bundle: string;
  shortVersion: string;
  bundleVersion: string;
  uuid: string;
  serverName: string;
  /** Registry id (hex, 0x…) of the IOUserServer node; its tag is the first service's id. */
  serverNodeId: string;
  tag: string;
  providerId: string;
  serviceIds: string[];
  personality: string;
  /** Wall-clock launch time in ns (GetInfo's process_start_time_ns); absent in older state files. */
  startTimeNs?: bigint;
}

export interface SimState {
  format: 1;
  sip: 'enabled' | 'disabled';
  developerMode: boolean;
  bootUuid: string;
  bootTimeMs: number;
  nextRegistryId: bigint;
  nextPid: number;
  nextUsbAddress: number;
  sessionCounter: bigint;
  /** Port power per hub id, index = port - 1. */
  ports: Record<string, boolean[]>;
  registry: Record<string, RegNode>;
  /** Registry id of each enumerated device, by role. */
  deviceNodes: Record<string, string>;
  extensions: ExtensionRow[];
  dexts: DextProcess[];
  /** Crash times (ms) per bundle; the kernel's counter is a 24 h sliding window. */
  crashes: Record<string, number[]>;
  /** Providers whose dext crashed and that wait for the relaunch delay before rematching. */
  relaunchPending: string[];
  log: LogEntry[];
  lastLogUs: bigint;
  /** Formulae `brew install` added (absent: as the config says; see homebrew.ts). */
  homebrew?: { uhubctl: boolean };
  /** Configuration profiles a person installed (`profiles install`; see tools/profiles.ts). */
  profiles?: InstalledProfile[];
  /** Running ES/NE system extensions (absent in older state files: none). */
  extensionProcesses?: ExtensionProcess[];
  /** Bundles whose extension process died and that launchd starts again after the relaunch delay. */
  extensionRelaunchPending?: string[];
  /** Saved NE content filter configurations by provider bundle id (absent: none). */
  filterConfigurations?: Record<string, FilterConfiguration>;
}

export interface InstalledProfile {
  identifier: string;
  uuid: string;
  displayName: string;
  organization: string;
  installedAtMs: number;
  /** Installed by `profiles install` standing in for an MDM push (config profilesInstallAsMdm). */
  viaMdm?: boolean;
  payloads: InstalledPayload[];
}

/** One payload, with what it grants as macOS reads its keys (reference §B.4); see profile-grants.ts. */
export interface InstalledPayload {
  type: string;
  identifier: string;
  uuid: string;
  displayName: string;
  /** com.apple.TCC.configuration-profile-policy: Identifiers allowed SystemPolicyAllFiles. */
  fullDiskAccess?: string[];
  /** com.apple.webcontent-filter (FilterType Plugin): FilterDataProviderBundleIdentifier. */
  filterDataProvider?: string;
  /** com.apple.system-extension-policy: AllowedTeamIdentifiers and AllowedSystemExtensions. */
  allowedTeamIdentifiers?: string[];
  allowedSystemExtensions?: Record<string, string[]>;
  /** com.apple.system-extension-policy: AllowedSystemExtensionTypes (team → DriverExtension, …). */
  allowedSystemExtensionTypes?: Record<string, string[]>;
}

export function initialState(config: SimConfig): SimState {
  return {
    format: 1,
    sip: config.sip,
    developerMode: config.developerMode,
    bootUuid: randomUUID().toUpperCase(),
    bootTimeMs: Date.now(),
    nextRegistryId: 0x100000200n,
    nextPid: 600,
    nextUsbAddress: 1,
    sessionCounter: 0n,
    ports: Object.fromEntries(config.hubs.map((h) => [h.id, Array.from({ length: h.ports }, () => false)])),
    registry: {},
    deviceNodes: {},
    extensions: [],
    dexts: [],
    crashes: {},
    relaunchPending: [],
    log: [],
    lastLogUs: 0n,
  };
}

// JSON has no bigint or bytes: tag them so registry ids, sessionIDs and traceIDs stay exact.
export function encodeState(state: SimState): string {
  return JSON.stringify(state, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (typeof raw === 'bigint') return { $int: raw.toString() };
    if (raw instanceof Uint8Array) return { $data: Buffer.from(raw).toString('base64') };
    return value;
  });
}

export function decodeState(text: string): SimState {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === '$int') return BigInt((value as { $int: string }).$int);
      if (keys.length === 1 && keys[0] === '$data') return new Uint8Array(Buffer.from((value as { $data: string }).$data, 'base64'));
    }
    return value;
  }) as SimState;
}

// The shape of state.json, checked when a daemon resumes from it: a damaged file must be one clear
// line, not an internal error on the first command that touches the broken part. Plist property
// values inside registry nodes are the sim's own encoding and are not checked further.
const bigintValue = z.bigint();
const regNodeSchema = z.object({
  id: z.string(), name: z.string(), location: z.string().optional(), className: z.string(),
  props: z.record(z.string(), z.unknown()), parent: z.string().nullable(), children: z.array(z.string()),
  usbPlane: z.boolean(), registered: z.boolean(), matched: z.boolean(), busyMs: z.number().nullable(), retain: z.number(),
});
const stateSchema = z.object({
  format: z.literal(1),
  sip: z.enum(['enabled', 'disabled']),
  developerMode: z.boolean(),
  bootUuid: z.string(),
  bootTimeMs: z.number(),
  nextRegistryId: bigintValue,
  nextPid: z.number().int(),
  nextUsbAddress: z.number().int(),
  sessionCounter: bigintValue,
  ports: z.record(z.string(), z.array(z.boolean())),
  registry: z.record(z.string(), regNodeSchema),
  deviceNodes: z.record(z.string(), z.string()),
  extensions: z.array(z.object({
    teamId: z.string(), bundle: z.string(), shortVersion: z.string(), bundleVersion: z.string(), name: z.string(),
    category: z.string(), state: z.enum(['activated enabled', 'activated waiting for user', 'terminated waiting to uninstall on reboot']),
    personalities: z.record(z.string(), z.record(z.string(), z.unknown())), uuid: z.string(), cdhash: z.string(),
    executable: z.string().optional(),
  })),
  dexts: z.array(z.object({
    pid: z.number().int(), bundle: z.string(), shortVersion: z.string(), bundleVersion: z.string(), uuid: z.string(),
    serverName: z.string(), serverNodeId: z.string(), tag: z.string(), providerId: z.string(), serviceIds: z.array(z.string()),
    personality: z.string(), startTimeNs: bigintValue.optional(),
  })),
  crashes: z.record(z.string(), z.array(z.number())),
  relaunchPending: z.array(z.string()),
  log: z.array(z.object({
    us: bigintValue, machTimestamp: bigintValue, traceID: bigintValue, threadID: z.number(), messageType: z.string(),
    subsystem: z.string(), category: z.string(), processID: z.number(), processImagePath: z.string(),
    senderImagePath: z.string(), eventMessage: z.string(),
  })),
  lastLogUs: bigintValue,
  homebrew: z.object({ uhubctl: z.boolean() }).optional(),
  profiles: z.array(z.object({
    identifier: z.string(), uuid: z.string(), displayName: z.string(), organization: z.string(), installedAtMs: z.number(),
    viaMdm: z.boolean().optional(),
    payloads: z.array(z.object({
      type: z.string(), identifier: z.string(), uuid: z.string(), displayName: z.string(),
      fullDiskAccess: z.array(z.string()).optional(), filterDataProvider: z.string().optional(),
      allowedTeamIdentifiers: z.array(z.string()).optional(), allowedSystemExtensions: z.record(z.string(), z.array(z.string())).optional(),
      allowedSystemExtensionTypes: z.record(z.string(), z.array(z.string())).optional(),
    })),
  })).optional(),
  extensionProcesses: z.array(z.object({
    pid: z.number().int(), bundle: z.string(), shortVersion: z.string(), bundleVersion: z.string(), category: z.string(),
    uuid: z.string(), executable: z.string(), startTimeMs: z.number(),
  })).optional(),
  extensionRelaunchPending: z.array(z.string()).optional(),
  filterConfigurations: z.record(z.string(), z.object({ name: z.string(), enabled: z.boolean() })).optional(),
});

export function loadState(path: string, config: SimConfig): SimState {
  if (!existsSync(path)) return initialState(config);
  let decoded: unknown;
  try {
    decoded = decodeState(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const checked = stateSchema.safeParse(decoded);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const state = decoded as SimState;
  // Hubs added to the config since the state was written start with their ports off.
  for (const hub of config.hubs) {
    const ports = state.ports[hub.id] ?? [];
    state.ports[hub.id] = Array.from({ length: hub.ports }, (_, i) => ports[i] ?? false);
  }
  return state;
}

export function saveState(path: string, state: SimState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, encodeState(state));
  renameSync(tmp, path);
}
