// zx bound to a host: `hostShell(exec)` is a zx `$` whose commands run on the rig's Mac through its
// Exec (locally or over ssh) as `/bin/bash -c <script>`. zx builds the script and quotes every
// interpolated value with bash's $'…' (readable by macOS's bash 3.2, not by dash); the Exec carries
// that one argv element byte-exact. zx gets the process through its `spawn` option: a
// child_process.spawn stand-in that wraps ExecProcess (zurk, inside zx, uses pid, stdin/stdout/
// stderr, kill() and the error/exit/close events, nothing else).
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { $, defaults, quote, type Options, type Shell } from 'zx/core';
import { settlesWithin } from '../common/time.ts';
import { DEFAULT_EXEC_TIMEOUT_MS, shellQuote, type Exec, type ExecProcess, type ExecRecord } from './exec.ts';

/** The shell the scripts run in: bash 3.2 on macOS reads zx's quoting; /bin/sh (dash) does not. */
export const HOST_SHELL = '/bin/bash';
/** After a kill signal other than SIGKILL, how long a command gets before SIGKILL. */
const KILL_GRACE_MS = 3000;
/** After the command exited, how long its output streams get to end. */
const DRAIN_GRACE_MS = 2000;

export interface HostShellOptions {
  /** Per-command deadline (a command may set its own with `.timeout()`; 0 = none). Default 60 s. */
  timeoutMs?: number;
  /** Aborting it kills every command of this shell still running and refuses new ones. */
  signal?: AbortSignal;
}

/**
 * A zx `$` for the host behind `exec`. Quiet (stderr is captured, not echoed), `set -euo pipefail`,
 * and the host's own environment: `env` and `cwd` given to it apply on the host, over its defaults.
 */
export function hostShell(exec: Exec, options: HostShellOptions = {}): Shell {
  const settings: Partial<Options> = {
    shell: HOST_SHELL,
    prefix: 'set -euo pipefail;',
    postfix: '',
    quote,
    quiet: true,
    verbose: false,
    nothrow: false,
    detached: false,
    preferLocal: false,
    timeout: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
    spawn: spawnOn(exec, options.signal) as unknown as Options['spawn'],
    spawnSync: refuseSync as unknown as Options['spawnSync'],
  };
  return $(settings);
}

function refuseSync(): never {
  throw new Error(`host commands run asynchronously: write await $\`…\` (a host may be reached over ssh)`);
}

// zx kills a command through `$.kill(pid)` (for .kill() and timeouts), which looks the function up in
// its defaults when called outside the shell's own context. Host commands have no local pid, so each
// gets a handle from a range no OS hands out (Linux stops at 2^22, macOS at 99999) and this kill
// routes those to ExecProcess.kill; every other pid goes to zx's own kill, unchanged. The handles
// live on globalThis, so that a second copy of this module shares them and zx's one kill.
const HANDLE_BASE = 0x7f00_0000;
const handles = ((globalThis as Record<symbol, unknown>)[Symbol.for('dextbench.hostShell.handles')] ??=
  { next: HANDLE_BASE, running: new Map<number, HostProcess>(), zxKill: defaults.kill }) as
  { next: number; running: Map<number, HostProcess>; zxKill: typeof defaults.kill };
const running = handles.running;
if (defaults.kill === handles.zxKill) {
  defaults.kill = ((pid: number | `${number}`, signal?: NodeJS.Signals): Promise<void> => {
    if (Number(pid) < HANDLE_BASE) return handles.zxKill(pid, signal);
    running.get(Number(pid))?.kill(signal ?? 'SIGTERM');
    return Promise.resolve();
  }) as typeof defaults.kill;
}

/** child_process.spawn(command, args, {shell, env, cwd, signal}) as zx calls it, run through `exec`. */
function spawnOn(exec: Exec, shellSignal: AbortSignal | undefined) {
  return (command: string, args: readonly string[], spawnOptions: { shell?: string | boolean; env?: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal }): HostProcess => {
    const shell = typeof spawnOptions.shell === 'string' ? spawnOptions.shell : HOST_SHELL;
    const script = [command, ...args].join(' ');
    // zx passes this process's cwd when none was asked for; that directory means nothing on the host.
    const cwd = spawnOptions.cwd && spawnOptions.cwd !== process.cwd() ? spawnOptions.cwd : undefined;
    const argv = [shell, '-c', cwd ? `cd -- ${shellQuote(cwd)} || exit; ${script}` : script];
    const env = envOverrides(spawnOptions.env);
    return new HostProcess(argv, () => exec.spawn(argv, env ? { env } : {}), [shellSignal, spawnOptions.signal]);
  };
}

/**
 * zx passes a whole environment (this process's by default). The host keeps its own; only what the
 * caller added or changed goes over (a local PATH or HOME must not replace the Mac's).
 */
function envOverrides(env: NodeJS.ProcessEnv | undefined): Record<string, string> | undefined {
  if (!env || env === process.env) return undefined;
  const changed = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && process.env[e[0]] !== e[1]);
  return changed.length ? Object.fromEntries(changed) : undefined;
}

/** A ChildProcess as far as zx uses one, over an ExecProcess. */
class HostProcess extends EventEmitter {
  /** A handle for zx's kill (see HANDLE_BASE), not an OS process id. */
  readonly pid: number;
  readonly stdin: Writable | null = null;
  readonly stdout: Readable | null = null;
  readonly stderr: Readable | null = null;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  private process: ExecProcess | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(readonly spawnargs: string[], start: () => ExecProcess, signals: Array<AbortSignal | undefined>) {
    super();
    this.pid = handles.next++;
    const aborted = signals.find((s) => s?.aborted);
    if (aborted) {
      this.fail(new Error(`${spawnargs.slice(0, 2).join(' ')} not started: the script was aborted (${String(aborted.reason ?? 'aborted')})`));
      return;
    }
    try {
      this.process = start();
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    ({ stdin: this.stdin, stdout: this.stdout, stderr: this.stderr } = this.process as unknown as { stdin: Writable; stdout: Readable; stderr: Readable });
    running.set(this.pid, this);
    const onAbort = (): void => { this.kill('SIGTERM'); };
    for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
    // 'close' comes when the command has exited and its output is all read, as for a ChildProcess;
    // a transport whose streams do not end with the command gets a moment, not forever.
    const drained = Promise.all([this.stdout!, this.stderr!].map((s) => finished(s).catch(() => undefined)));
    this.process.exited.then(
      async (record) => { await settlesWithin(drained, DRAIN_GRACE_MS); this.done(record); },
      (error: Error) => { this.emit('error', error); this.done(undefined); },
    ).finally(() => {
      for (const signal of signals) signal?.removeEventListener('abort', onAbort);
    });
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (!this.process || !running.has(this.pid)) return false;
    const name = typeof signal === 'number' ? 'SIGTERM' : signal;
    this.killed = true;
    this.process.kill(name);
    if (name !== 'SIGKILL' && !this.graceTimer) {
      this.graceTimer = setTimeout(() => { if (running.has(this.pid)) this.process!.kill('SIGKILL'); }, KILL_GRACE_MS);
    }
    return true;
  }

  private fail(error: Error): void {
    // Like spawn(): the error comes asynchronously, then close.
    setImmediate(() => {
      this.emit('error', error);
      this.emit('close', null, null);
    });
  }

  private done(record: ExecRecord | undefined): void {
    running.delete(this.pid);
    clearTimeout(this.graceTimer);
    this.exitCode = record?.exitCode ?? null;
    this.signalCode = (record?.signal as NodeJS.Signals | null) ?? null;
    this.emit('exit', this.exitCode, this.signalCode);
    this.emit('close', this.exitCode, this.signalCode);
  }
}
