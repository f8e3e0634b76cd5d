// eslogger's JSON Lines for the simulated Mac's events (macos-formats.md §5): message version 9
// (audit tokens as objects) before macOS 26, 10 (arrays, plus cs_validation_category) from 26 on;
// key order changes from event to event, as in real output; paths escaped `\/`; files on the sealed
// system volume have st_ino past 2^53, written exactly. Bodies other than exec/fork/exit follow the
// es_event_*_t field names of the ES header (no captured sample in the reference).
import { createHash } from 'node:crypto';
import type { EsNotify, EsProc } from './es.ts';

/** es_event_type_t NOTIFY values (reference §5.3, from the enum order). */
export const EVENT_TYPES: Readonly<Record<string, number>> = {
  exec: 9, open: 10, fork: 11, close: 12, create: 13, exchangedata: 14, exit: 15, get_task: 16, kextload: 17, kextunload: 18,
  link: 19, mmap: 20, mprotect: 21, mount: 22, unmount: 23, iokit_open: 24, rename: 25, setattrlist: 26, setextattr: 27,
  setflags: 28, setmode: 29, setowner: 30, signal: 31, unlink: 32, write: 33, file_provider_materialize: 35,
  file_provider_update: 37, readlink: 39, truncate: 41, lookup: 43, chdir: 51, getattrlist: 53, stat: 54, access: 55,
  chroot: 57, utimes: 59, clone: 61, fcntl: 62, getextattr: 64, listextattr: 66, readdir: 68, deleteextattr: 70,
  fsgetpath: 72, dup: 73, settime: 75, uipc_bind: 76, uipc_connect: 78, setacl: 82, pty_grant: 83, pty_close: 84,
  proc_check: 86, searchfs: 89, proc_suspend_resume: 93, cs_invalidated: 94, get_task_name: 95, trace: 96,
  remote_thread_create: 97, remount: 99, get_task_read: 101, get_task_inspect: 102, setuid: 103, setgid: 104,
  seteuid: 105, setegid: 106, setreuid: 107, setregid: 108,
};

/** Names the reference shows eslogger accepting beyond the numbered table (their numbers are unconfirmed: not emitted). */
export const LATER_EVENTS = [
  'authentication', 'authorization_judgement', 'btm_launch_item_add', 'btm_launch_item_remove', 'xp_malware_detected',
  'xp_malware_remediated', 'openssh_login', 'openssh_logout', 'login_login', 'login_logout', 'screensharing_attach',
  'su', 'sudo', 'profile_add', 'profile_remove', 'od_create_user', 'od_modify_password', 'od_group_add',
  'gatekeeper_user_override', 'tcc_modify',
];

type Json = string | number | bigint | boolean | null | Json[] | { [key: string]: Json };

/** JSON with bigints as bare integers and `/` escaped as `\/`, like eslogger. */
export function writeJson(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v).replace(/\//g, '\\/');
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(writeJson).join(',')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`).join(',')}}`;
}

/** The same keys in another order, chosen by `seed` (real eslogger's key order is arbitrary). */
function shuffled(obj: { [key: string]: Json }, seed: number): { [key: string]: Json } {
  const entries = Object.entries(obj);
  let s = (seed * 2654435761) >>> 0;
  for (let i = entries.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries);
}

const hashOf = (text: string): Buffer => createHash('sha1').update(text).digest();

/** The sealed system volume's inode numbers are above 2^60 (§5.4: 1152921500312525701). */
function inodeOf(path: string): bigint {
  const h = hashOf(path).readUInt32BE(0);
  return /^\/(usr|bin|sbin|System)\//.test(path) ? 1152921500311879000n + BigInt(h % 1_000_000) : BigInt(100000 + (h % 20_000_000));
}

function file(path: string, mode = 33261): { [key: string]: Json } {
  return {
    path, path_truncated: false,
    stat: {
      st_dev: /^\/(usr|bin|sbin|System)\//.test(path) ? 16777233 : 16777234, st_ino: inodeOf(path), st_mode: mode, st_nlink: 1,
      st_uid: 0, st_gid: 0, st_rdev: 0, st_size: 100000 + (hashOf(path).readUInt16BE(4)), st_blocks: 200, st_blksize: 4096,
      st_flags: 0, st_gen: 0,
      st_atimespec: '2026-01-01T00:00:00.000000000Z', st_mtimespec: '2025-11-20T08:00:00.000000000Z',
      st_ctimespec: '2025-11-20T08:00:00.000000000Z', st_birthtimespec: '2025-11-20T08:00:00.000000000Z',
    },
  };
}

function token(p: { pid: number; uid: number; pidversion: number }, version: number): Json {
  const fields = { auid: p.uid, euid: p.uid, egid: 20, ruid: p.uid, rgid: 20, pid: p.pid, asid: 100019, pidversion: p.pidversion };
  // v10: audit_token_t val[] order (libbsm): auid, euid, egid, ruid, rgid, pid, asid, pidversion.
  return version >= 10 ? [fields.auid, fields.euid, fields.egid, fields.ruid, fields.rgid, fields.pid, fields.asid, fields.pidversion] : fields;
}

function proc(p: EsProc, version: number, seed: number): { [key: string]: Json } {
  const cdhash = hashOf(`${p.path}:${p.signingId}`).toString('hex').toUpperCase();
  const out: { [key: string]: Json } = {
    audit_token: token(p, version),
    parent_audit_token: token({ pid: p.ppid, uid: p.uid, pidversion: 1000 + p.ppid }, version),
    responsible_audit_token: token({ pid: p.ppid, uid: p.uid, pidversion: 1000 + p.ppid }, version),
    ppid: p.ppid, original_ppid: p.ppid, group_id: p.pid, session_id: p.ppid,
    signing_id: p.signingId, team_id: p.teamId, cdhash,
    codesigning_flags: p.platform ? 570522385 : 570556931, is_platform_binary: p.platform, is_es_client: false,
    start_time: p.startTime, tty: null, executable: file(p.path),
  };
  if (version >= 10) out['cs_validation_category'] = p.platform ? 1 : 10;
  return shuffled(out, seed);
}

function destination(path: string, existed: boolean): { [key: string]: Json } {
  if (existed) return { existing_file: file(path, 33188) };
  const slash = path.lastIndexOf('/');
  return { new_path: { dir: file(path.slice(0, slash) || '/', 16877), filename: path.slice(slash + 1), mode: 420 } };
}

function body(e: EsNotify, version: number, seed: number): { [key: string]: Json } {
  switch (e.type) {
    case 'exec': return {
      target: proc(e.target, version, seed + 1), args: e.args, env: [], cwd: file(e.cwd, 16877), script: null,
      dyld_exec_path: e.target.path, fds: [{ fd: 0, fdtype: 1 }, { fd: 1, fdtype: 1 }, { fd: 2, fdtype: 1 }], last_fd: 2,
      image_cputype: 16777228, image_cpusubtype: 0,
    };
    case 'fork': return { child: proc(e.child, version, seed + 1) };
    case 'exit': return { stat: e.stat };
    case 'open': return { fflag: e.fflag, file: file(e.path, 33188) };
    case 'create': return { destination_type: e.existed ? 0 : 1, destination: destination(e.path, e.existed) };
    case 'unlink': return { target: file(e.path, 33188), parent_dir: file(e.path.slice(0, e.path.lastIndexOf('/')) || '/', 16877) };
    case 'rename': return { source: file(e.path, 33188), destination_type: e.existed ? 0 : 1, destination: destination(e.to, e.existed) };
    case 'signal': return { sig: e.sig, target: proc(e.target, version, seed + 1) };
    case 'mount': return {
      statfs: { f_mntonname: e.onName, f_mntfromname: e.fromName, f_fstypename: e.fsType, f_bsize: 4096, f_iosize: 1048576, f_blocks: 1000, f_flags: 0x101 },
    };
  }
}

export interface Sequence {
  global: bigint;
  perType: Map<string, bigint>;
}

/** One eslogger line for `e`, numbered by this client's counters. */
export function esloggerLine(e: EsNotify, version: number, seq: Sequence, machTime: bigint, threadId: number): string {
  seq.global += 1n;
  const own = (seq.perType.get(e.type) ?? 0n) + 1n;
  seq.perType.set(e.type, own);
  const seed = Number(seq.global % 100000n);
  const top: { [key: string]: Json } = {
    schema_version: 1, version, time: nanoTime(), mach_time: machTime, event_type: EVENT_TYPES[e.type]!, action_type: 1,
    action: { result: { result: { auth: 0 }, result_type: 0 } },
    seq_num: own, global_seq_num: seq.global, thread: { thread_id: threadId },
    process: proc(e.process, version, seed), event: { [e.type]: shuffled(body(e, version, seed), seed + 2) },
  };
  return writeJson(shuffled(top, seed));
}

/** RFC 3339 UTC with nanoseconds (§5.4). */
function nanoTime(): string {
  const ns = process.hrtime.bigint() % 1_000_000n;
  return new Date().toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${ns.toString().padStart(6, '0')}Z`);
}
