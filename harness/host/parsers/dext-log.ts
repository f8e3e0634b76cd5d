// Kernel `DK:` lines and sysextd/kernelmanagerd lines about dexts (reference/macos-formats.md
// §7; matchers of §7.4). Objects are named `<registry name>-0x<registry id>` (the DKS format),
// the same id ioreg prints, so events join to registry entries by id.

/** `DK: <service>-0x<id>::start(<provider>-0x<id>) ok|fail` */
export interface ServiceStartedEvent {
  kind: 'service-started';
  service: string;
  serviceId: bigint;
  provider: string;
  providerId: bigint;
  ok: boolean;
}

/** `DK: IOUserServer(<server>-0x<tag>)[-0x<id>]::exit(<reason>)` or `::kill(<reason>)`. */
export interface ServerEndedEvent {
  kind: 'server-exit' | 'server-kill';
  /** The server name (dext bundle id) without its `-0x<tag>`. */
  server: string;
  serverTag?: bigint;
  /** Registry id of the IOUserServer node, when printed. */
  serverId?: bigint;
  reason: string;
}

/** `Driver <bundle id> has crashed <n> time(s)`: printed at every (re)launch; a 24-hour window. */
export interface CrashedEvent {
  kind: 'crashed';
  bundleId: string;
  count: number;
}

/** `DK: <provider>-0x<id> rematching after dext crash` */
export interface RematchEvent {
  kind: 'rematch';
  provider: string;
  providerId: bigint;
}

/** `DK: <service>-0x<id> failed to launch server | user server timeout | …` */
export interface LaunchFailedEvent {
  kind: 'launch-failed';
  service: string;
  serviceId: bigint;
  reason: 'failed to launch server' | 'user server timeout' | 'dext launches are disabled' | 'failed to reuse server';
}

/** Entitlement checks of a dext (not of a user client). */
export interface EntitlementFailedEvent {
  kind: 'entitlement-failed';
  /** provider/family: `DK: <service>-0x<id>: <check> entitlements check failed`; driverkit/missing: per process. */
  check: 'provider' | 'family' | 'driverkit' | 'missing';
  service?: string;
  serviceId?: bigint;
  /** Process name and pid for the per-process checks (`… for <name>[<pid>]`). */
  process?: string;
  pid?: number;
}

/** `DK: <user client>-0x<id>:UC <reason>`: a client app was refused a user client. */
export interface UserClientRefusedEvent {
  kind: 'userclient-refused';
  userClient: string;
  userClientId: bigint;
  /** The text after `:UC `, e.g. `entitlement check failed, app does not have … entitlement`. */
  reason: string;
}

/** `[com.apple.sx:StateChange(s)] extension <team> <bundle> (<version>) advancing state from <a> to <b>` */
export interface StateChangeEvent {
  kind: 'state-change';
  /** Absent when the line was elided (`... advancing state from …`, 7-H). */
  teamId?: string;
  bundleId?: string;
  /** `short/bundle` as printed. */
  version?: string;
  /** sysextd internal state names: `realizing`, `staging`, `validating_by_category`, `uninstalling`… */
  from: string;
  to: string;
}

/** sysextd `failed to validate! uninstalling` / `uninstalling invalid extension`, kernelmanagerd `[DextValidation]` failures. */
export interface ValidationFailedEvent {
  kind: 'validation-failed';
  bundleId?: string;
  /** kernelmanagerd's error, e.g. `.invalidProperties`. */
  detail?: string;
}

/** Any event {@link classifyDextLogMessage} recognises; `kind` tells which. */
export type DextLogEvent =
  | ServiceStartedEvent
  | ServerEndedEvent
  | CrashedEvent
  | RematchEvent
  | LaunchFailedEvent
  | EntitlementFailedEvent
  | UserClientRefusedEvent
  | StateChangeEvent
  | ValidationFailedEvent;

// Registry names may contain spaces (USB product names), so names are matched up to the last `-0x`.
const ID = '-0x([0-9a-fA-F]+)';
const SERVICE_STARTED = new RegExp(`DK: (.+?)${ID}::start\\((.*)${ID}\\) (ok|fail)\\b`);
const SERVER_ENDED = /DK: IOUserServer\(([^)]*)\)(?:-0x([0-9a-fA-F]+))?::(exit|kill)\((.*)\)/;
const SERVER_WITH_TAG = /^(.*)-0x([0-9a-fA-F]+)$/;
const CRASHED = /Driver (\S+) has crashed (\d+) time\(s\)/;
const REMATCH = new RegExp(`DK: (.+?)${ID} rematching after dext crash`);
const LAUNCH_FAILED = new RegExp(`DK: (.+?)${ID} (failed to launch server|user server timeout|dext launches are disabled|failed to reuse server)`);
const USER_CLIENT_REFUSED = new RegExp(`DK: (.+?)${ID}:UC (.+?)\\s*$`);
const SERVICE_ENTITLEMENT = new RegExp(`DK: (.+?)${ID}: (provider|family) entitlements check failed`);
const DRIVERKIT_ENTITLEMENT = /entitlement check failed for (.+)\[(\d+)\]/;
const MISSING_ENTITLEMENTS = /entitlements are missing for (.+)\[(\d+)\]/;
const STATE_CHANGE = /\[com\.apple\.sx:StateChanges?\] .*?advancing state from (\w+) to (\w+)/;
const STATE_CHANGE_SUBJECT = /extension (\S+) (\S+) \(([^)]*)\) advancing state/;
const FAILED_TO_VALIDATE = /(?:extension (\S+) )?failed to validate! uninstalling/;
const UNINSTALLING_INVALID = /uninstalling invalid extension(?: (\S+))?/;
const DEXT_NOT_VALID = /\[DextValidation\] Extension (\S+) is not valid/;
const DEXT_VALIDATION_ERROR = /\[DextValidation\] Validation of (\S+) error: (.+?)\s*$/;

/**
 * Recognises a dext-related log message (a unified-log `eventMessage` or a text log line) and
 * returns what it says, or null. Ids are exact bigints.
 */
export function classifyDextLogMessage(message: string): DextLogEvent | null {
  let m: RegExpExecArray | null;
  if ((m = SERVICE_STARTED.exec(message))) {
    return { kind: 'service-started', service: m[1]!, serviceId: hex(m[2]!), provider: m[3]!, providerId: hex(m[4]!), ok: m[5] === 'ok' };
  }
  if ((m = SERVER_ENDED.exec(message))) {
    const tagged = SERVER_WITH_TAG.exec(m[1]!);
    return {
      kind: m[3] === 'kill' ? 'server-kill' : 'server-exit',
      server: tagged ? tagged[1]! : m[1]!,
      ...(tagged ? { serverTag: hex(tagged[2]!) } : {}),
      ...(m[2] !== undefined ? { serverId: hex(m[2]) } : {}),
      reason: m[4]!,
    };
  }
  if ((m = CRASHED.exec(message))) return { kind: 'crashed', bundleId: m[1]!, count: Number(m[2]) };
  if ((m = REMATCH.exec(message))) return { kind: 'rematch', provider: m[1]!, providerId: hex(m[2]!) };
  if ((m = LAUNCH_FAILED.exec(message))) {
    return { kind: 'launch-failed', service: m[1]!, serviceId: hex(m[2]!), reason: m[3] as LaunchFailedEvent['reason'] };
  }
  // Before the per-process entitlement matcher: `:UC entitlement check failed, …` would match it too.
  if ((m = USER_CLIENT_REFUSED.exec(message))) return { kind: 'userclient-refused', userClient: m[1]!, userClientId: hex(m[2]!), reason: m[3]! };
  if ((m = SERVICE_ENTITLEMENT.exec(message))) {
    return { kind: 'entitlement-failed', check: m[3] as 'provider' | 'family', service: m[1]!, serviceId: hex(m[2]!) };
  }
  if ((m = DRIVERKIT_ENTITLEMENT.exec(message))) return { kind: 'entitlement-failed', check: 'driverkit', process: m[1]!, pid: Number(m[2]) };
  if ((m = MISSING_ENTITLEMENTS.exec(message))) return { kind: 'entitlement-failed', check: 'missing', process: m[1]!, pid: Number(m[2]) };
  if ((m = STATE_CHANGE.exec(message))) {
    const subject = STATE_CHANGE_SUBJECT.exec(message);
    return {
      kind: 'state-change',
      ...(subject ? { teamId: subject[1]!, bundleId: subject[2]!, version: subject[3]! } : {}),
      from: m[1]!,
      to: m[2]!,
    };
  }
  if ((m = FAILED_TO_VALIDATE.exec(message))) return validationFailed(m[1]);
  if ((m = UNINSTALLING_INVALID.exec(message))) return validationFailed(m[1]);
  if ((m = DEXT_VALIDATION_ERROR.exec(message))) return { kind: 'validation-failed', bundleId: m[1]!, detail: m[2]! };
  if ((m = DEXT_NOT_VALID.exec(message))) return validationFailed(m[1]);
  return null;
}

function validationFailed(bundleId: string | undefined): ValidationFailedEvent {
  return bundleId ? { kind: 'validation-failed', bundleId } : { kind: 'validation-failed' };
}

function hex(digits: string): bigint {
  return BigInt(`0x${digits}`);
}
