// eslogger events as the ES steps match them: one shape for every message version, with the fields a
// scenario names (`process.path`, `target.signingId`, `args`, `path`, `signal`, `pid`…).
// exec, fork and exit come from parseEsloggerLine (reference §5.4). The other bodies are read by the
// es_event_*_t field names of the ES header (open.file, create.destination.{existing_file|new_path},
// unlink.target, rename.source/destination, signal.{sig,target}, mount.statfs): eslogger says its JSON
// is "modelled after es_message_t", but the reference has no captured sample of them, so every one
// of these fields is optional here and an event without them still matches on the rest.
import { isRecord, toSafeNumber } from '../host/parsers/json.ts';
import type { EsloggerEvent, EsProcess } from '../host/parsers/index.ts';

/** The process fields a match may name. */
export interface EsProcessView {
  pid: number;
  ppid: number;
  path: string;
  signingId: string | null;
  teamId: string | null;
  cdhash: string | null;
  isPlatformBinary: boolean;
}

export interface EsEvent {
  /** The short name: exec, fork, exit, open, create, unlink, rename, signal, mount… */
  event: string;
  eventType: number;
  time: string;
  version: number;
  seqNum?: bigint;
  globalSeqNum?: bigint;
  process: EsProcessView;
  /** The acting process's pid (exec keeps it: the new image has the same pid). */
  pid: number;
  /** exec: the new image; signal: the process signalled. */
  target?: EsProcessView;
  /** fork: the child. */
  child?: EsProcessView;
  args?: string[];
  exitStatus?: number;
  /** File events: the file (rename: its source); mount: the mount point. */
  path?: string;
  /** rename: where it went. */
  to?: string;
  /** signal: `SIGKILL`…; `sig` is the number. */
  signal?: string;
  sig?: number;
  /** mount: f_mntfromname / f_fstypename. */
  device?: string;
  fsType?: string;
}

/** macOS signal numbers (<sys/signal.h>). */
export const MACOS_SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGEMT: 7, SIGFPE: 8, SIGKILL: 9,
  SIGBUS: 10, SIGSEGV: 11, SIGSYS: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGURG: 16, SIGSTOP: 17,
  SIGTSTP: 18, SIGCONT: 19, SIGCHLD: 20, SIGTTIN: 21, SIGTTOU: 22, SIGIO: 23, SIGXCPU: 24, SIGXFSZ: 25,
  SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGINFO: 29, SIGUSR1: 30, SIGUSR2: 31,
};

export function signalName(sig: number): string | undefined {
  return Object.keys(MACOS_SIGNALS).find((name) => MACOS_SIGNALS[name] === sig);
}

function view(p: EsProcess): EsProcessView {
  return { pid: p.pid, ppid: p.ppid, path: p.path, signingId: p.signingId, teamId: p.teamId, cdhash: p.cdhash, isPlatformBinary: p.isPlatformBinary };
}

/** The normalised form of one parsed eslogger line. */
export function normaliseEvent(e: EsloggerEvent): EsEvent {
  const out: EsEvent = {
    event: e.type, eventType: e.eventType, time: e.time, version: e.version,
    process: view(e.process), pid: e.process.pid,
  };
  if (e.seqNum !== undefined) out.seqNum = e.seqNum;
  if (e.globalSeqNum !== undefined) out.globalSeqNum = e.globalSeqNum;
  if (e.target) out.target = view(e.target);
  if (e.child) out.child = view(e.child);
  if (e.args) out.args = e.args;
  if (e.exitStatus !== undefined) out.exitStatus = e.exitStatus;
  const body = isRecord(e.raw['event']) ? e.raw['event'][e.type] : undefined;
  if (isRecord(body)) Object.assign(out, bodyFields(e.type, body));
  return out;
}

function bodyFields(type: string, body: Record<string, unknown>): Partial<EsEvent> {
  switch (type) {
    case 'open': return withPath(filePath(body['file']));
    case 'unlink': return withPath(filePath(body['target']));
    case 'create': return withPath(destinationPath(body['destination']));
    case 'rename': {
      const to = destinationPath(body['destination']);
      return { ...withPath(filePath(body['source'])), ...(to !== undefined ? { to } : {}) };
    }
    case 'signal': {
      const sig = toSafeNumber(body['sig']);
      const name = sig === undefined ? undefined : signalName(sig);
      return {
        ...(sig !== undefined ? { sig } : {}),
        ...(name ? { signal: name } : {}),
        ...(isRecord(body['target']) ? { target: targetView(body['target']) } : {}),
      };
    }
    case 'mount': {
      const statfs = isRecord(body['statfs']) ? body['statfs'] : {};
      const str = (k: string): string | undefined => (typeof statfs[k] === 'string' ? statfs[k] : undefined);
      const onName = str('f_mntonname');
      const fromName = str('f_mntfromname');
      const fsType = str('f_fstypename');
      return { ...withPath(onName), ...(fromName !== undefined ? { device: fromName } : {}), ...(fsType !== undefined ? { fsType } : {}) };
    }
    default: return {};
  }
}

function withPath(path: string | undefined): Partial<EsEvent> {
  return path === undefined ? {} : { path };
}

/** es_file_t: `{ path, path_truncated, stat }`. */
function filePath(file: unknown): string | undefined {
  return isRecord(file) && typeof file['path'] === 'string' ? file['path'] : undefined;
}

/** create/rename destinations: an existing file, or a new path `{ dir: es_file_t, filename }`. */
function destinationPath(destination: unknown): string | undefined {
  if (!isRecord(destination)) return undefined;
  const existing = filePath(destination['existing_file']);
  if (existing !== undefined) return existing;
  const fresh = destination['new_path'];
  if (!isRecord(fresh)) return undefined;
  const dir = filePath(fresh['dir']);
  const name = typeof fresh['filename'] === 'string' ? fresh['filename'] : undefined;
  if (dir === undefined || name === undefined) return undefined;
  return `${dir.replace(/\/$/, '')}/${name}`;
}

/** signal.target without the strictness of the parser's own process reader: a token may be either form. */
function targetView(p: Record<string, unknown>): EsProcessView {
  const token = p['audit_token'];
  // audit_token_t val[5] is the pid (the parser's order, from libbsm); object form by key.
  const pid = Array.isArray(token) ? toSafeNumber(token[5]) : isRecord(token) ? toSafeNumber(token['pid']) : undefined;
  const executable = isRecord(p['executable']) ? p['executable'] : {};
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    pid: pid ?? -1, ppid: toSafeNumber(p['ppid']) ?? -1,
    path: typeof executable['path'] === 'string' ? executable['path'] : '',
    signingId: str(p['signing_id']), teamId: str(p['team_id']), cdhash: str(p['cdhash']),
    isPlatformBinary: p['is_platform_binary'] === true,
  };
}

/**
 * A `match:` written with dotted keys (`process.path: /usr/bin/true`) as the nested shape the
 * event has, so that subset matching names `process.path` in what it reports.
 */
export function nestMatch(match: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(match)) {
    const parts = key.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) {
      const next = at[part];
      at = (at[part] = isRecord(next) ? next : {}) as Record<string, unknown>;
    }
    const last = parts.at(-1)!;
    const existing = at[last];
    at[last] = isRecord(existing) && isRecord(value) ? { ...existing, ...value } : value;
  }
  return out;
}
