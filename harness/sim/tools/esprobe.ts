// dextbench-esprobe on the simulated Mac (contract §4): one action, one JSON line. Exec asks the ES
// model for its AUTH verdict (a deny is EPERM, an inference the contract adopts from reference §D.3);
// files live on the Mac's own disk (<state dir>/fs); every action raises the NOTIFY events eslogger
// would show: the shell forking and exec'ing the probe (a Perl script, so the image is /usr/bin/perl),
// the child's fork, exec and exit, the file, signal and mount events. Nothing on this machine runs.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { authExec, emitEs, type EsProc } from '../es.ts';
import type { Mac } from '../mac.ts';
import type { Tool } from './context.ts';

/** Where dextbench provision installs the probe (contract §4). */
const PROBE_PATH = '/Users/Shared/dextbench/esprobe/dextbench-esprobe';
const PERL = '/usr/bin/perl';
/** The login shell the commands arrive through; a fixed process on the simulated Mac. */
const SHELL: EsProc = { pid: 1207, ppid: 1206, path: '/bin/zsh', signingId: 'com.apple.zsh', teamId: null, platform: true, uid: 501, pidversion: 2207, startTime: '2026-01-01T08:00:00.000000Z' };

/** Programs the simulated Mac has (platform binaries; `false` exits 1, the others 0). */
const BINARIES = ['/usr/bin/true', '/usr/bin/false', '/bin/echo', '/bin/sleep', '/bin/sh', '/bin/zsh', '/bin/ls', '/bin/cat', '/bin/date',
  '/usr/bin/nc', '/usr/bin/curl', '/usr/bin/env', '/usr/bin/perl', '/usr/bin/uname', '/usr/bin/id', '/usr/bin/whoami', '/usr/bin/touch'];

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, BUS: 10, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15, STOP: 17, TSTP: 18, CONT: 19, USR1: 30, USR2: 31,
};
const ERRNO: Record<string, number> = { EPERM: 1, ENOENT: 2, EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21 };
const USAGE = 'usage: dextbench-esprobe exec <path> [args...] | fork | signal <NAME> | open <path> | create <path> | unlink <path> | rename <from> <to> | mount <image.dmg>\n';

/** macOS firmlinks: the kernel (and so ES) reports /tmp, /var and /etc under /private. */
function realPath(path: string): string {
  return /^\/(tmp|var|etc)(\/|$)/.test(path) ? `/private${path}` : path;
}

/** A path of the Mac on this machine's disk: inside the Mac's own fs. */
function local(mac: Mac, path: string): string {
  return join(mac.stateDir, 'fs', path);
}

function now(): string {
  return new Date().toISOString().replace(/Z$/, '000Z');
}

function proc(mac: Mac, path: string, ppid: number, signingId: string | null, pid = mac.allocPid()): EsProc {
  return { pid, ppid, path, signingId, teamId: null, platform: signingId !== null, uid: 501, pidversion: 3000 + pid, startTime: now() };
}

const signingIdOf = (path: string): string | null => (BINARIES.includes(path) ? `com.apple.${path.split('/').pop()}` : null);

interface Result {
  action: string;
  path?: string;
  args?: string[];
  pid: number;
  ok: boolean;
  exitStatus: number | null;
  signal: string | null;
  errno: number | null;
  errnoName: string | null;
  [key: string]: unknown;
}

function failedWith(name: string): Pick<Result, 'ok' | 'errno' | 'errnoName'> {
  return { ok: false, errno: ERRNO[name] ?? null, errnoName: name };
}

export const esprobe: Tool = ({ mac, argv, cwd, out, err }) => {
  const [action, ...rest] = argv;
  const arity: Record<string, [number, number]> = {
    exec: [1, Infinity], fork: [0, 0], signal: [1, 1], open: [1, 1], create: [1, 1], unlink: [1, 1], rename: [2, 2], mount: [1, 1],
  };
  const want = action === undefined ? undefined : arity[action];
  if (!want || rest.length < want[0] || rest.length > want[1]) { err(USAGE); return 64; }
  if (action === 'signal' && SIGNALS[rest[0]!.toUpperCase().replace(/^SIG/, '')] === undefined) {
    err(`dextbench-esprobe: unknown signal ${rest[0]}\n`);
    return 64;
  }

  // The shell forks and execs the probe; that exec is AUTH too.
  const probeBefore = proc(mac, SHELL.path, SHELL.pid, SHELL.signingId);
  emitEs(mac, { type: 'fork', process: SHELL, child: probeBefore });
  const probe: EsProc = { ...probeBefore, path: PERL, signingId: signingIdOf(PERL), pidversion: probeBefore.pidversion + 1 };
  if (!authExec(mac, probe).allowed) {
    emitEs(mac, { type: 'exit', process: probeBefore, stat: 126 << 8 });
    err(`zsh:1: operation not permitted: ${PROBE_PATH}\n`);
    return 126;
  }
  emitEs(mac, { type: 'exec', process: probeBefore, target: probe, args: [PERL, PROBE_PATH, ...argv], cwd });

  const result = run(mac, probe, action!, rest, cwd);
  emitEs(mac, { type: 'exit', process: probe, stat: 0 });
  out(`${JSON.stringify(ordered(result))}\n`);
  return 0;
};

/** The real probe's key order: action, path, to, args, pid, ok, exitStatus, signal, errno, errnoName, then extras. */
function ordered(r: Result): Result {
  const { action, path, to, args, pid, ok, exitStatus, signal, errno, errnoName, ...extra } = r;
  return {
    action, ...(path !== undefined ? { path } : {}), ...(to !== undefined ? { to } : {}), ...(args !== undefined ? { args } : {}),
    pid, ok, exitStatus, signal, errno, errnoName, ...extra,
  };
}

function run(mac: Mac, probe: EsProc, action: string, rest: string[], cwd: string): Result {
  const none = { exitStatus: null, signal: null, errno: null, errnoName: null };
  switch (action) {
    case 'exec': {
      const path = realPath(resolve(cwd, rest[0]!));
      const args = [rest[0]!, ...rest.slice(1)];
      const child = proc(mac, PERL, probe.pid, probe.signingId);
      emitEs(mac, { type: 'fork', process: probe, child });
      const base = { action, path: rest[0]!, args, pid: child.pid };
      const exists = BINARIES.includes(path) || existsSync(local(mac, path));
      if (!exists) {
        emitEs(mac, { type: 'exit', process: child, stat: 127 << 8 });
        return { ...base, ...none, ...failedWith('ENOENT') };
      }
      const image: EsProc = { ...child, path, signingId: signingIdOf(path), platform: BINARIES.includes(path), pidversion: child.pidversion + 1 };
      if (!authExec(mac, image).allowed) {
        // The child reports execve's errno over its pipe and _exit(127)s; ES raises no exec.
        emitEs(mac, { type: 'exit', process: child, stat: 127 << 8 });
        return { ...base, ...none, ...failedWith('EPERM') };
      }
      emitEs(mac, { type: 'exec', process: child, target: image, args, cwd });
      const status = path === '/usr/bin/false' ? 1 : 0;
      emitEs(mac, { type: 'exit', process: image, stat: status << 8 });
      return { ...base, ok: true, exitStatus: status, signal: null, errno: null, errnoName: null };
    }
    case 'fork': {
      const child = proc(mac, PERL, probe.pid, probe.signingId);
      emitEs(mac, { type: 'fork', process: probe, child });
      emitEs(mac, { type: 'exit', process: child, stat: 0 });
      return { action, pid: child.pid, ok: true, exitStatus: 0, signal: null, errno: null, errnoName: null };
    }
    case 'signal': {
      const name = rest[0]!.toUpperCase().replace(/^SIG/, '');
      const sig = SIGNALS[name]!;
      const child = proc(mac, PERL, probe.pid, probe.signingId);
      emitEs(mac, { type: 'fork', process: probe, child });
      emitEs(mac, { type: 'signal', process: probe, sig, target: child });
      // Every modelled signal ends the sleeping child (STOP/CONT: the probe kills it after).
      // The child sleeps: CONT leaves it to exit 0; STOP/TSTP stop it (the probe then kills it); the rest end it.
      const stops = name === 'STOP' || name === 'TSTP';
      const ends = name !== 'CONT' && !stops;
      emitEs(mac, { type: 'exit', process: child, stat: ends ? sig : 0 });
      return {
        action, pid: child.pid, ok: true, exitStatus: ends || stops ? null : 0, signal: ends || stops ? `SIG${name}` : null, errno: null, errnoName: null,
        sent: `SIG${name}`, stopped: stops,
      };
    }
    case 'mount': {
      const image = resolve(cwd, rest[0]!);
      // $TMPDIR/dextbench-esprobe-mount.<pid>, as the real probe makes it (macOS's per-user TMPDIR).
      const mountPoint = `/private/var/folders/zz/dextbench/T/dextbench-esprobe-mount.${probe.pid}`;
      const base = { action, path: rest[0]!, pid: probe.pid, signal: null, errno: null, errnoName: null };
      if (!existsSync(image) && !existsSync(local(mac, image))) {
        return { ...base, ok: false, exitStatus: 1, mountPoint, message: 'hdiutil: attach failed - No such file or directory' };
      }
      emitEs(mac, { type: 'mount', process: probe, onName: mountPoint, fromName: `/dev/disk${4 + (probe.pid % 4)}s1`, fsType: 'apfs' });
      return { ...base, ok: true, exitStatus: 0, mountPoint, detached: true };
    }
    default:
      return fileOp(mac, probe, action, rest, cwd);
  }
}

function fileOp(mac: Mac, probe: EsProc, action: string, rest: string[], cwd: string): Result {
  const none = { exitStatus: null, signal: null, errno: null, errnoName: null };
  const path = realPath(resolve(cwd, rest[0]!));
  const at = local(mac, path);
  const base = { action, path: rest[0]!, pid: probe.pid };
  // The Mac's standard folders exist on its disk.
  for (const dir of ['/private/tmp', '/Users/Shared']) mkdirSync(local(mac, dir), { recursive: true });
  try {
    if (action === 'open') {
      closeSync(openSync(at, 'r'));
      emitEs(mac, { type: 'open', process: probe, path, fflag: 1 });
    } else if (action === 'create') {
      // O_CREAT|O_EXCL, as the real probe: an existing file is EEXIST.
      closeSync(openSync(at, 'wx'));
      emitEs(mac, { type: 'create', process: probe, path, existed: false });
    } else if (action === 'unlink') {
      unlinkSync(at);
      emitEs(mac, { type: 'unlink', process: probe, path });
    } else {
      const to = realPath(resolve(cwd, rest[1]!));
      if (!existsSync(dirname(local(mac, to)))) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' });
      const existed = existsSync(local(mac, to));
      renameSync(at, local(mac, to));
      emitEs(mac, { type: 'rename', process: probe, path, to, existed });
      return { ...base, to: rest[1]!, ...none, ok: true };
    }
    return { ...base, ...none, ok: true };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return { ...base, ...none, ...(action === 'rename' ? { to: rest[1]! } : {}), ok: false, errno: ERRNO[code] ?? null, errnoName: code };
  }
}
