// `eslogger <events…>` JSON Lines (reference/macos-formats.md §5). Key order is arbitrary, so
// everything is read by key; st_ino can exceed 2^53, so the JSON is parsed losslessly.
import { isRecord, parseJsonLossless, toBigInt, toSafeNumber } from './json.ts';

/** An audit_token_t, by field. */
export interface EsAuditToken {
  auid: number;
  euid: number;
  egid: number;
  ruid: number;
  rgid: number;
  pid: number;
  asid: number;
  pidversion: number;
}

/** An es_process_t, normalised across message versions. */
export interface EsProcess {
  pid: number;
  ppid: number;
  /** executable.path */
  path: string;
  signingId: string | null;
  /** null for platform binaries and ad hoc signing. */
  teamId: string | null;
  /** 40 uppercase hex digits. */
  cdhash: string | null;
  isPlatformBinary: boolean;
  auditToken: EsAuditToken;
  parentAuditToken?: EsAuditToken;
  responsibleAuditToken?: EsAuditToken;
}

/** One eslogger event. */
export interface EsloggerEvent {
  /** The single key of `event`: `exec`, `fork`, `exit`… */
  type: string;
  /** Numeric es_event_type_t (exec 9, fork 11, exit 15). */
  eventType: number;
  /** RFC 3339 as printed (nanoseconds, `Z`). */
  time: string;
  /** ES message version: 9 on macOS 15, 10 on macOS 26. */
  version: number;
  seqNum?: bigint;
  globalSeqNum?: bigint;
  process: EsProcess;
  /** exec: the new image. */
  target?: EsProcess;
  /** fork: the child. */
  child?: EsProcess;
  /** exec: argv. */
  args?: string[];
  /** exit: the wait(2) status. */
  exitStatus?: number;
  /** The whole object: integers beyond 2^53 are bigints, others numbers. */
  raw: Record<string, unknown>;
}

/**
 * audit_token_t val[] order, as read by libbsm's audit_token_to_{au32,auid,euid,…}: val[0] auid,
 * val[1] euid, val[2] egid, val[3] ruid, val[4] rgid, val[5] pid, val[6] asid, val[7] pidversion.
 * The reference has no labelled v10 sample showing the array form, so this order is from libbsm.
 */
const AUDIT_TOKEN_ORDER = ['auid', 'euid', 'egid', 'ruid', 'rgid', 'pid', 'asid', 'pidversion'] as const;

/**
 * Parses one eslogger JSON line. Returns null for blank lines, lines not starting with `{`
 * (stderr text mixed in) and objects without an `event`.
 *
 * @throws Error (one line) for invalid JSON or an event whose process/audit token is unreadable.
 */
export function parseEsloggerLine(line: string): EsloggerEvent | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  const raw = parseJsonLossless(text, 'eslogger line');
  if (!isRecord(raw) || !isRecord(raw['event'])) return null;
  const eventKeys = Object.keys(raw['event']);
  if (eventKeys.length !== 1) throw new Error(`eslogger line: "event" has ${eventKeys.length} keys, expected one (the event name)`);
  const type = eventKeys[0]!;
  const body = raw['event'][type];
  const event: EsloggerEvent = {
    type,
    eventType: toSafeNumber(raw['event_type']) ?? -1,
    time: typeof raw['time'] === 'string' ? raw['time'] : '',
    version: toSafeNumber(raw['version']) ?? -1,
    process: esProcess(raw['process'], 'process'),
    raw,
  };
  const seqNum = toBigInt(raw['seq_num']);
  const globalSeqNum = toBigInt(raw['global_seq_num']);
  if (seqNum !== undefined) event.seqNum = seqNum;
  if (globalSeqNum !== undefined) event.globalSeqNum = globalSeqNum;
  if (isRecord(body)) {
    if (type === 'exec') {
      if (body['target'] !== undefined) event.target = esProcess(body['target'], 'event.exec.target');
      if (Array.isArray(body['args'])) event.args = body['args'].map(String);
    } else if (type === 'fork' && body['child'] !== undefined) {
      event.child = esProcess(body['child'], 'event.fork.child');
    } else if (type === 'exit') {
      const status = toSafeNumber(body['stat']);
      if (status !== undefined) event.exitStatus = status;
    }
  }
  return event;
}

function esProcess(value: unknown, where: string): EsProcess {
  if (!isRecord(value)) throw new Error(`eslogger line: ${where} is not an object`);
  const auditToken = esAuditToken(value['audit_token'], `${where}.audit_token`);
  const executable = isRecord(value['executable']) ? value['executable'] : {};
  const process: EsProcess = {
    pid: auditToken.pid,
    ppid: toSafeNumber(value['ppid']) ?? -1,
    path: typeof executable['path'] === 'string' ? executable['path'] : '',
    signingId: stringOrNull(value['signing_id']),
    teamId: stringOrNull(value['team_id']),
    cdhash: stringOrNull(value['cdhash']),
    isPlatformBinary: value['is_platform_binary'] === true,
    auditToken,
  };
  if (value['parent_audit_token'] != null) process.parentAuditToken = esAuditToken(value['parent_audit_token'], `${where}.parent_audit_token`);
  if (value['responsible_audit_token'] != null) {
    process.responsibleAuditToken = esAuditToken(value['responsible_audit_token'], `${where}.responsible_audit_token`);
  }
  return process;
}

/** Object form (message version ≤ 9) or array of 8 integers (version 10). */
function esAuditToken(value: unknown, where: string): EsAuditToken {
  const token = {} as EsAuditToken;
  if (Array.isArray(value)) {
    if (value.length !== AUDIT_TOKEN_ORDER.length) throw new Error(`eslogger line: ${where} has ${value.length} values, expected 8`);
    AUDIT_TOKEN_ORDER.forEach((field, i) => (token[field] = tokenField(value[i], `${where}[${i}]`)));
    return token;
  }
  if (!isRecord(value)) throw new Error(`eslogger line: ${where} is neither an object nor an array`);
  for (const field of AUDIT_TOKEN_ORDER) token[field] = tokenField(value[field], `${where}.${field}`);
  return token;
}

function tokenField(value: unknown, where: string): number {
  const n = toSafeNumber(value);
  if (n === undefined || !Number.isInteger(n)) throw new Error(`eslogger line: ${where} is not an integer`);
  return n;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
