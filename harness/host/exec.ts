// Exec: run argv arrays on the host under test. Never a shell string: each argv element reaches
// the target byte-exact. Transport-neutral: `LocalExec` now, ssh later behind the same interface.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ExecRecord {
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  timedOut: boolean;
}

export interface ExecResult extends ExecRecord {
  stdout: string;
  stderr: string;
  /** The same output as bytes, exactly as the command wrote them (binary output, non-UTF-8 text). */
  stdoutBytes: Buffer;
  stderrBytes: Buffer;
  /** True when exitCode === 0. */
  ok: boolean;
}

export interface ExecOptions {
  /** Deadline in ms; the process tree is killed when it passes. Default 60 s: every wait has a deadline. */
  timeoutMs?: number;
  stdin?: string | Buffer;
  /** Extra environment for this command (merged over the host's). */
  env?: Record<string, string>;
  cwd?: string;
  /** Called for every complete line of output as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Do not reject on a non-zero exit or a timeout (a lost connection still rejects: TransportError). */
  nothrow?: boolean;
  /**
   * A read that is safe to run twice (ioreg, `systemextensionsctl list`, sw_vers…): over ssh it is
   * retried once after a reconnect when the connection drops. Commands that change state never are.
   */
  idempotent?: boolean;
}

/**
 * The transport failed, not the command: the host is unreachable, refused the key, changed its host
 * key, or the connection dropped mid-command. The message is one line that says what to do.
 */
export class TransportError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'auth' | 'host-key' | 'dropped',
    message: string,
    readonly argv?: string[],
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export class ExecError extends Error {
  constructor(readonly result: ExecResult) {
    const why = result.timedOut
      ? `timed out after ${result.durationMs} ms`
      : result.signal
        ? `killed by ${result.signal}`
        : `exited with ${result.exitCode}`;
    const stderr = result.stderr.trim().split('\n').slice(-3).join(' | ');
    super(`${formatArgv(result.argv)} ${why}${stderr ? `: ${stderr}` : ''}${sudoHint(result)}`);
    this.name = 'ExecError';
  }
}

/** `sudo -n` that needs a password: say how to give the rig's user passwordless sudo for it. */
function sudoHint(result: ExecResult): string {
  if (result.argv[0] !== 'sudo' || !/a password is required|a terminal is required/.test(result.stderr)) return '';
  const command = result.argv.slice(1).find((a) => !a.startsWith('-')) ?? 'the command';
  return ` (sudo needs a password for ${command} on this host: run \`dextbench provision\`, which allows exactly the commands dextbench runs as root)`;
}

/** A running command: await it for the result, or stream its lines. zx-style fluent modifiers. */
export interface ExecCommand extends PromiseLike<ExecResult> {
  timeout(ms: number): ExecCommand;
  nothrow(): ExecCommand;
  stdin(data: string | Buffer): ExecCommand;
  lines(onLine: (line: string, stream: 'stdout' | 'stderr') => void): ExecCommand;
  env(vars: Record<string, string>): ExecCommand;
  /** A read, safe to retry once over a reconnected ssh connection. */
  idempotent(): ExecCommand;
}

/** A long-running process with its stdio exposed (log stream, the channel bridge). */
export interface ExecProcess {
  readonly argv: string[];
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  readonly exited: Promise<ExecRecord>;
  kill(signal?: NodeJS.Signals): void;
}

/** Ends a streaming process: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(child: ExecProcess, graceMs: number): Promise<void> {
  child.kill('SIGTERM');
  if (await Promise.race([child.exited, graceTimer(graceMs)])) return;
  child.kill('SIGKILL');
  await Promise.race([child.exited, graceTimer(graceMs)]);
}

/**
 * A tool that refuses to run (missing, no permission, a bad argument) exits at once: its exit
 * record when it ended within `ms`, else undefined (it is running, trust it).
 */
export async function exitedWithin(child: ExecProcess, ms: number, upSooner?: Promise<unknown>): Promise<ExecRecord | undefined> {
  // Ref'd, unlike a grace period: the caller is waiting on this answer. `upSooner` (the tool said
  // it is running) ends the wait before `ms`.
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      child.exited,
      new Promise<undefined>((resolve) => { timer = setTimeout(resolve, ms, undefined); }),
      ...(upSooner ? [upSooner.then(() => undefined)] : []),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Unref'd: a grace period must not keep the harness alive on its own. */
export function graceTimer(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

export interface Exec {
  /** A short description of where commands run ("local", "ssh ci@mac-mini-3"). */
  readonly where: string;
  run(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  spawn(argv: string[], options?: Omit<ExecOptions, 'nothrow' | 'stdin' | 'onLine'>): ExecProcess;
  /** Observers see every finished command (the timeline records them). */
  onRecord(listener: (record: ExecRecord) => void): () => void;
  /** Lets go of the transport (an ssh Exec drops its use of the shared connection). */
  close(): Promise<void>;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

/** Fluent wrapper: `$(exec, ['ioreg', '-a']).timeout(5000).nothrow()`. */
export function $(exec: Exec, argv: string[]): ExecCommand {
  const options: ExecOptions = {};
  let promise: Promise<ExecResult> | undefined;
  const command: ExecCommand = {
    timeout(ms) { options.timeoutMs = ms; return command; },
    nothrow() { options.nothrow = true; return command; },
    stdin(data) { options.stdin = data; return command; },
    lines(onLine) { options.onLine = onLine; return command; },
    env(vars) { options.env = { ...options.env, ...vars }; return command; },
    idempotent() { options.idempotent = true; return command; },
    then(onFulfilled, onRejected) {
      promise ??= exec.run(argv, options);
      return promise.then(onFulfilled, onRejected);
    },
  };
  return command;
}

/** argv as a person would paste it into a POSIX shell (for messages and the timeline only). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** POSIX single-quote escaping: the only form every sh, bash and zsh reads the same way. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Splits a byte stream into lines, keeping a partial last line until more arrives. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        onLine(rest.slice(0, nl).replace(/\r$/, ''));
        rest = rest.slice(nl + 1);
      }
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

export interface LocalExecOptions {
  /** Directories put first on PATH (the simulated Mac's shims). */
  pathPrefix?: string[];
  env?: Record<string, string>;
  where?: string;
}

/** Runs commands on this machine with child_process.spawn and no shell. */
export class LocalExec implements Exec {
  readonly where: string;
  private readonly listeners = new Set<(record: ExecRecord) => void>();
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: LocalExecOptions = {}) {
    this.where = options.where ?? 'local';
    const path = [...(options.pathPrefix ?? []), process.env.PATH ?? ''].filter(Boolean).join(':');
    this.env = { ...process.env, ...options.env, PATH: path };
  }

  async close(): Promise<void> {
    // One-shot local processes: nothing to let go of.
  }

  onRecord(listener: (record: ExecRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(record: ExecRecord): void {
    for (const listener of this.listeners) listener(record);
  }

  private start(argv: string[], options: ExecOptions): { child: ChildProcess; started: number } {
    if (argv.length === 0) throw new Error('Exec: empty argv');
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ? { ...this.env, ...options.env } : this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group, so a timeout kills the whole tree the command started.
      detached: true,
    });
    return { child, started: performance.now() };
  }

  async run(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { child, started } = this.start(argv, options);
    const collected = await collectProcess(child, {
      stdin: options.stdin, onLine: options.onLine, timeoutMs: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      onTimeout: () => killTree(child, 'SIGKILL'),
    });
    const failed = collected.spawnError;
    if (!failed) return settleRun(argv, collected, started, options, (record) => this.emit(record));
    const enoent = (failed as NodeJS.ErrnoException).code === 'ENOENT';
    return settleRun(argv, {
      ...collected, exitCode: enoent ? 127 : 126, signal: null,
      stderr: Buffer.from(enoent ? `${argv[0]}: command not found` : failed.message),
    }, started, options, (record) => this.emit(record));
  }

  spawn(argv: string[], options: Omit<ExecOptions, 'nothrow' | 'stdin' | 'onLine'> = {}): ExecProcess {
    const { child, started } = this.start(argv, options);
    const timeoutMs = options.timeoutMs;
    let timedOut = false;
    const timer = timeoutMs ? setTimeout(() => { timedOut = true; killTree(child, 'SIGKILL'); }, timeoutMs) : undefined;
    const exited = new Promise<ExecRecord>((resolve) => {
      child.on('error', () => { /* reported through close */ });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        const record: ExecRecord = {
          argv, exitCode: code, signal: signal ?? null,
          durationMs: Math.round(performance.now() - started), timedOut,
        };
        this.emit(record);
        resolve(record);
      });
    });
    child.stdin!.on('error', () => { /* peer gone; exited reports it */ });
    return {
      argv,
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: (signal = 'SIGTERM') => killTree(child, signal),
    };
  }
}

export interface CollectedProcess {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  spawnError?: Error;
}

/**
 * Feeds a started process its stdin, collects its output (calling onLine per line), and calls
 * onTimeout once the deadline passes; resolves when it has closed. Shared by the local and ssh Execs.
 */
export function collectProcess(
  child: ChildProcess,
  options: Pick<ExecOptions, 'stdin' | 'onLine'> & { timeoutMs: number; onTimeout: () => void },
): Promise<CollectedProcess> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const onLine = options.onLine;
    const outLines = onLine ? lineSplitter((l) => onLine(l, 'stdout')) : undefined;
    const errLines = onLine ? lineSplitter((l) => onLine(l, 'stderr')) : undefined;
    child.stdout!.on('data', (c: Buffer) => { out.push(c); outLines?.push(c); });
    child.stderr!.on('data', (c: Buffer) => { err.push(c); errLines?.push(c); });
    child.stdin!.on('error', () => { /* the command may exit without reading its stdin */ });
    child.stdin!.end(options.stdin ?? '');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      options.onTimeout();
    }, options.timeoutMs);
    let spawnError: Error | undefined;
    child.on('error', (e) => { spawnError = e; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      outLines?.end();
      errLines?.end();
      resolve({
        exitCode: code, signal: signal ?? null, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut,
        ...(spawnError ? { spawnError } : {}),
      });
    });
  });
}

/** A finished command as an ExecResult: its record goes to the observers, and it throws unless ok or nothrow. */
export function settleRun(
  argv: string[],
  outcome: Pick<CollectedProcess, 'exitCode' | 'signal' | 'timedOut' | 'stdout' | 'stderr'>,
  started: number,
  options: Pick<ExecOptions, 'nothrow'>,
  emit: (record: ExecRecord) => void,
): ExecResult {
  const record: ExecRecord = {
    argv, exitCode: outcome.exitCode, signal: outcome.signal,
    durationMs: Math.round(performance.now() - started), timedOut: outcome.timedOut,
  };
  emit(record);
  const result: ExecResult = {
    ...record,
    stdout: outcome.stdout.toString(), stderr: outcome.stderr.toString(),
    stdoutBytes: outcome.stdout, stderrBytes: outcome.stderr,
    ok: outcome.exitCode === 0,
  };
  if (!result.ok && !options.nothrow) throw new ExecError(result);
  return result;
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}
