// Exec over OpenSSH: the Mac under test reached from a CI controller or a developer's Linux box.
// One ControlMaster connection per host (shared by every process of a run through its socket) carries
// every command and the streaming ones (log stream, the bridge). The user's ~/.ssh/config, keys and
// agent apply; BatchMode means nothing ever prompts, so an unknown host key fails (strict by default).
//
// Each command reaches the remote login shell as ONE string, quoted once (POSIX single quotes, which
// zsh, bash and sh read alike), and runs under a small perl wrapper (/usr/bin/perl ships with macOS
// and is Essential on Debian) because the shell alone cannot:
// - tell a command killed by a signal from one that exited 128+n, nor from ssh's own 255: the
//   wrapper records either case in a status file that is read only when ssh exits 255;
// - be killed when a deadline passes: without a tty the remote side gets no SIGHUP when the local ssh
//   dies, so the wrapper records its process group and a second command kills that group;
// - set cwd, environment and a PATH prefix without another layer of shell quoting.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pollUntil, sleep } from '../common/time.ts';
import {
  collectProcess, DEFAULT_EXEC_TIMEOUT_MS, LocalExec, settleRun, shellQuote, TransportError,
  type Exec, type ExecOptions, type ExecProcess, type ExecRecord, type ExecResult,
} from './exec.ts';

/** A rig's `host: { ssh: user@host, port?, identityFile?, options? }`. */
export interface SshTarget {
  /** user@host, or a Host alias from ~/.ssh/config. */
  ssh: string;
  port?: number;
  identityFile?: string;
  /** Extra `-o Key=Value` options; they win over dextbench's defaults and over ~/.ssh/config. */
  options?: string[];
}

export interface HostExecOptions {
  /** Directories put first on PATH for every command (e.g. where Homebrew or the simulated Mac's shims live). */
  pathPrefix?: string[];
  /** Environment for every command. */
  env?: Record<string, string>;
  /** How the host is named in messages and the timeline. */
  where?: string;
  /** What to do when the host cannot be reached (default: check the Mac is on, with Remote Login). */
  unreachableFix?: string;
}

/** A rig's host as an Exec: `'local'` runs here, `{ssh: …}` runs on that Mac over OpenSSH. */
export function hostExec(host: 'local' | SshTarget, options: HostExecOptions = {}): Exec {
  if (host === 'local') return new LocalExec(options);
  return new SshExec(host, options);
}

/** Seconds a master stays up once its last command has finished (a run's lease renewal keeps it busy). */
const CONTROL_PERSIST_S = 60;
const CONNECT_TIMEOUT_S = 10;
/** Keepalives notice a dead connection within ServerAliveInterval × CountMax (15 s). */
const KEEPALIVE = ['-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3'];
/** Time for a remote kill or status query, over the master. */
const HOUSEKEEPING_TIMEOUT_MS = 10_000;
/** After a remote kill, how long the local ssh may take to end on its own before it is killed. */
const KILL_GRACE_MS = 3_000;
const RECONNECT_BACKOFF_MS = 500;
const MASTER_LOCK_STALE_MS = (CONNECT_TIMEOUT_S + 20) * 1000;

// The wrapper: token, cwd, PATH prefix, env count, env pairs…, then argv. No single quotes inside,
// so the quoted form stays readable in `ps`.
const WRAPPER = [
  'my ($t, $cwd, $pre, $n) = splice @ARGV, 0, 4;',
  'for (1 .. $n) { my ($k, $v) = splice @ARGV, 0, 2; $ENV{$k} = $v }',
  '$ENV{PATH} = "$pre:$ENV{PATH}" if length $pre;',
  'my $d = "/tmp/dextbench-exec-$<"; mkdir $d, 0700; my $f = "$d/$t";',
  // Files of commands whose connection dropped before their status was read: gone after a day.
  'unlink grep { -M $_ > 1 } glob "$d/*";',
  'if (open my $p, ">", "$f.pid") { print $p getpgrp(); close $p }',
  'if (length $cwd && !chdir $cwd) { print STDERR "cd: $cwd: $!\\n"; unlink "$f.pid"; exit 1 }',
  'my $r = system { $ARGV[0] } @ARGV; my $nf = $!{ENOENT}; my $e = "$!";',
  'unlink "$f.pid";',
  'if ($r == -1) { print STDERR "$ARGV[0]: ", ($nf ? "command not found" : $e), "\\n"; exit($nf ? 127 : 126) }',
  'my ($s, $c) = ($? & 127, $? >> 8);',
  'if ($s || $c == 255) {',
  '  if (open my $o, ">", "$f.status") {',
  '    if ($s) { require Config; my @n = split " ", $Config::Config{sig_name}; print $o "signal SIG$n[$s]" } else { print $o "exit 255" }',
  '    close $o }',
  '  exit 255 }',
  'exit $c;',
].join(' ');

// Sends a signal to a wrapped command's process group; waits briefly for a command that has not yet
// written its pid file (a kill right after the start). Then removes the command's files.
const KILLER = [
  'my ($t, $sig) = @ARGV; my $f = "/tmp/dextbench-exec-$</$t.pid";',
  'for (1 .. 40) { last if -e $f; select undef, undef, undef, 0.05 }',
  'open my $p, "<", $f or exit 3; my $g = <$p>; close $p;',
  'kill $sig, -$g if $g > 1;',
  // The wrapper dies with its group and leaves its files; a status it wrote racing the kill is moot.
  'select undef, undef, undef, 0.2; unlink $f, "/tmp/dextbench-exec-$</$t.status";',
].join(' ');

// Prints and removes a wrapped command's status file (written only on a signal or an exit 255).
const STATUS = [
  'my $f = "/tmp/dextbench-exec-$</$ARGV[0].status";',
  'if (open my $s, "<", $f) { print <$s>; close $s; unlink $f }',
].join(' ');

function perl(script: string, args: string[]): string {
  return ['exec', '/usr/bin/perl', '-e', script, ...args].map(shellQuote).join(' ');
}

export class SshExec implements Exec {
  readonly where: string;
  readonly controlPath: string;
  private readonly listeners = new Set<(record: ExecRecord) => void>();
  private readonly baseArgs: string[];
  private readonly pathPrefix: string;
  private readonly env: [string, string][];
  private master: Promise<void> | undefined;
  private readonly unreachableFix: string | undefined;

  constructor(readonly target: SshTarget, options: HostExecOptions = {}) {
    this.unreachableFix = options.unreachableFix;
    this.where = options.where ?? `ssh ${target.ssh}${target.port ? `:${target.port}` : ''}`;
    const id = createHash('sha256').update(JSON.stringify([target.ssh, target.port, target.identityFile, target.options])).digest('hex').slice(0, 16);
    this.controlPath = join(controlDir(), id);
    this.baseArgs = [
      ...(target.port ? ['-p', String(target.port)] : []),
      ...(target.identityFile ? ['-i', target.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
      // The rig's own options first: for ssh, the first value given for an option wins.
      ...(target.options ?? []).flatMap((option) => ['-o', option]),
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
      '-o', `ControlPath=${this.controlPath}`,
    ];
    this.pathPrefix = (options.pathPrefix ?? []).join(':');
    this.env = Object.entries(options.env ?? {});
  }

  onRecord(listener: (record: ExecRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(record: ExecRecord): void {
    for (const listener of this.listeners) listener(record);
  }

  async close(): Promise<void> {
    // The master is shared with the run's other processes; it ends CONTROL_PERSIST_S after the last
    // command, so there is nothing to tear down here.
    this.master = undefined;
  }

  async run(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await this.runOnce(argv, options);
    } catch (error) {
      if (!(error instanceof TransportError) || error.kind !== 'dropped' || !options.idempotent) throw error;
      // A read is safe to run again: reconnect once, after a pause, and retry it.
      this.master = undefined;
      await sleep(RECONNECT_BACKOFF_MS);
      return this.runOnce(argv, options);
    }
  }

  private async runOnce(argv: string[], options: ExecOptions): Promise<ExecResult> {
    if (argv.length === 0) throw new Error('Exec: empty argv');
    await this.ensureMaster();
    const token = randomBytes(12).toString('hex');
    const started = performance.now();
    const child = this.spawnSsh(token, argv, options);
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const collected = await collectProcess(child, {
      stdin: options.stdin, onLine: options.onLine, timeoutMs,
      onTimeout: () => this.killRemote(token, 'SIGKILL', child),
    });
    const exit = collected.timedOut
      ? { exitCode: null, signal: 'SIGKILL' }
      : await this.resolveExit(token, argv, collected.exitCode, collected.signal, collected.stderr.toString());
    return settleRun(argv, { ...collected, ...exit }, started, options, (record) => this.emit(record));
  }

  spawn(argv: string[], options: Omit<ExecOptions, 'nothrow' | 'stdin' | 'onLine'> = {}): ExecProcess {
    if (argv.length === 0) throw new Error('Exec: empty argv');
    const token = randomBytes(12).toString('hex');
    const started = performance.now();
    // spawn() is synchronous, so the connection is made lazily: stdin is buffered until ssh runs.
    const ready = this.ensureMaster();
    const child = this.spawnSsh(token, argv, options, ready);
    let timedOut = false;
    let killedWith: string | undefined;
    const timer = options.timeoutMs
      ? setTimeout(() => { timedOut = true; this.killRemote(token, 'SIGKILL', child.process); }, options.timeoutMs)
      : undefined;
    const exited = child.closed.then(async ({ code, signal, stderrTail }) => {
      if (timer) clearTimeout(timer);
      let exit: { exitCode: number | null; signal: string | null };
      try {
        // A group kill ends the wrapper too, so ssh says only 255: the signal is the one we sent.
        exit = timedOut ? { exitCode: null, signal: 'SIGKILL' }
          : killedWith && code === 255 ? { exitCode: null, signal: killedWith }
            : await this.resolveExit(token, argv, code, signal, stderrTail);
        child.finish();
      } catch (error) {
        // A streaming command whose connection failed: it ends as ssh's 255, saying why on stderr.
        child.finish((error as Error).message);
        exit = { exitCode: 255, signal: null };
      }
      const record: ExecRecord = { argv, ...exit, durationMs: Math.round(performance.now() - started), timedOut };
      this.emit(record);
      return record;
    });
    return {
      argv,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: (signal = 'SIGTERM') => {
        killedWith ??= signal;
        void ready.then(() => this.killRemote(token, signal, child.process), () => child.process.kill('SIGKILL'));
      },
    };
  }

  /** The ssh process for one wrapped command (for spawn: started once `ready` settles). */
  private spawnSsh(token: string, argv: string[], options: Pick<ExecOptions, 'cwd' | 'env'>): ChildProcess;
  private spawnSsh(token: string, argv: string[], options: Pick<ExecOptions, 'cwd' | 'env'>, ready: Promise<void>): LazySsh;
  private spawnSsh(token: string, argv: string[], options: Pick<ExecOptions, 'cwd' | 'env'>, ready?: Promise<void>): ChildProcess | LazySsh {
    const env = [...this.env, ...Object.entries(options.env ?? {})];
    const remote = perl(WRAPPER, [token, options.cwd ?? '', this.pathPrefix, String(env.length), ...env.flat(), ...argv]);
    const args = [...this.baseArgs, '-o', 'ControlMaster=no', '-T', '--', this.target.ssh, remote];
    if (!ready) return startSsh(args);
    return new LazySsh(args, ready);
  }

  /**
   * ssh said 255: the command's own exit 255, its death by a signal (both recorded by the wrapper),
   * or the transport's failure (then it throws a TransportError that says what to do).
   */
  private async resolveExit(
    token: string, argv: string[], code: number | null, signal: string | null, stderr: string,
  ): Promise<{ exitCode: number | null; signal: string | null }> {
    if (code !== 255) return { exitCode: code, signal };
    let status = '';
    try {
      status = (await runSsh([...this.baseArgs, '-o', 'ControlMaster=no', '-T', '--', this.target.ssh, perl(STATUS, [token])], HOUSEKEEPING_TIMEOUT_MS)).stdout.trim();
    } catch { /* the connection is gone: a transport failure, classified below */ }
    const killed = /^signal (SIG[A-Z0-9]+)$/.exec(status);
    if (killed) return { exitCode: null, signal: killed[1]! };
    if (status === 'exit 255') return { exitCode: 255, signal: null };
    const failure = classifySshFailure(this.target, stderr, this.unreachableFix);
    throw new TransportError(failure.kind, failure.kind === 'dropped'
      ? `${this.where}: the connection dropped during \`${shortArgv(argv)}\` (${failure.said}); ` +
        'a command that may have changed the Mac is never retried: check the rig (dextbench doctor) and run again'
      : failure.message, argv);
  }

  /** Signals the command's remote process group; the local ssh follows, or is killed after a grace. */
  private killRemote(token: string, signal: NodeJS.Signals | string, local: ChildProcess): void {
    const name = String(signal).replace(/^SIG/, '');
    const grace = setTimeout(() => abandon(local), KILL_GRACE_MS);
    local.once('close', () => clearTimeout(grace));
    void runSsh([...this.baseArgs, '-o', 'ControlMaster=no', '-T', '--', this.target.ssh, perl(KILLER, [token, name])], HOUSEKEEPING_TIMEOUT_MS)
      .catch(() => abandon(local));
  }

  /** The shared master connection, started by whichever process needs it first. */
  private ensureMaster(): Promise<void> {
    if (this.master && existsSync(this.controlPath)) return this.master;
    const starting = this.startMaster();
    this.master = starting;
    starting.catch(() => { if (this.master === starting) this.master = undefined; });
    return starting;
  }

  private async startMaster(): Promise<void> {
    const lock = `${this.controlPath}.lock`;
    await pollUntil(async () => {
      try {
        mkdirSync(lock);
        return { value: true, seen: 'locked' };
      } catch {
        if (existsSync(this.controlPath)) return { value: false, seen: 'started by another process' };
        if (Date.now() - (mtimeMs(lock) ?? Date.now()) > MASTER_LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
        return { seen: 'waiting' };
      }
    }, { timeoutMs: MASTER_LOCK_STALE_MS, intervalMs: 50, describe: () => `${this.where}: another process is still connecting` });
    if (!existsSync(lock)) return;
    try {
      const check = await runSsh([...this.baseArgs, '-O', 'check', '--', this.target.ssh], HOUSEKEEPING_TIMEOUT_MS).catch(() => undefined);
      if (check?.code === 0) return;
      rmSync(this.controlPath, { force: true }); // a socket left by a master that was killed
      // -f: ssh goes to the background once authenticated, so its exit says whether that worked.
      // Its stderr goes to a file: the backgrounded master keeps the descriptor open forever.
      const log = join(controlDir(), `${createHash('sha256').update(this.controlPath).digest('hex').slice(0, 8)}.log`);
      const fd = openSync(log, 'w');
      const master = spawn('ssh', [
        ...this.baseArgs, ...KEEPALIVE, '-o', 'ControlMaster=yes', '-o', `ControlPersist=${CONTROL_PERSIST_S}`,
        '-N', '-f', '--', this.target.ssh,
      ], { stdio: ['ignore', 'ignore', fd], detached: true });
      closeSync(fd);
      const exit = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => { master.kill('SIGKILL'); resolve(null); }, (CONNECT_TIMEOUT_S + 15) * 1000);
        master.on('error', () => { clearTimeout(timer); resolve(-1); });
        master.on('exit', (code) => { clearTimeout(timer); resolve(code); });
      });
      const said = readFileSync(log, 'utf8');
      rmSync(log, { force: true });
      if (exit === -1) throw new TransportError('unreachable', `${this.where}: the OpenSSH client (ssh) is not installed here: install openssh-client`);
      if (exit !== 0) {
        const failure = classifySshFailure(this.target, exit === null ? 'Connection timed out' : said, this.unreachableFix);
        throw new TransportError(failure.kind, failure.message);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** The stdio of an ssh that starts once its master is up: spawn() must return at once. */
class LazySsh {
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  readonly closed: Promise<{ code: number | null; signal: string | null; stderrTail: string }>;
  /** Set once started; a stand-in that is never alive before that. */
  process: ChildProcess;

  constructor(args: string[], ready: Promise<void>) {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
    this.process = { kill: () => false, once: () => undefined } as unknown as ChildProcess;
    type Closed = { code: number | null; signal: string | null; stderrTail: string };
    this.closed = ready.then(
      () => new Promise<Closed>((resolve) => {
        const child = startSsh(args);
        this.process = child;
        stdin.pipe(child.stdin!);
        child.stdin!.on('error', () => { /* the command may exit without reading its stdin */ });
        child.stdout!.pipe(stdout);
        let tail = '';
        child.stderr!.on('data', (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-2000); });
        child.stderr!.pipe(stderr, { end: false });
        child.on('close', (code, signal) => resolve({ code, signal, stderrTail: tail }));
      }),
      (error: Error) => {
        stdout.end();
        return { code: 255, signal: null, stderrTail: error.message } as Closed;
      },
    );
  }

  /** Ends stderr, after a line saying why the stream ended when the transport failed. */
  finish(note?: string): void {
    const stderr = this.stderr as PassThrough;
    if (note) stderr.write(`${note}\n`);
    stderr.end();
  }
}

/**
 * Gives up on a command whose remote kill did not end it: kills the local ssh and closes its pipes.
 * A mux client hands its stdio to the master, which keeps them open while the remote command runs,
 * so killing the client alone would never end the wait.
 */
function abandon(local: ChildProcess): void {
  local.kill('SIGKILL');
  for (const stream of [local.stdin, local.stdout, local.stderr]) stream?.destroy();
}

function startSsh(args: string[]): ChildProcess {
  // Own process group: a Ctrl-C at the terminal stops the runner, not the commands its cleanup needs.
  return spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
}

/** One housekeeping ssh command (master check, remote kill, status): exit code and output. */
function runSsh(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

interface SshFailure {
  kind: TransportError['kind'];
  /** What ssh said, in one line. */
  said: string;
  /** One line: what failed and what to do. */
  message: string;
}

/** What went wrong, from ssh's own stderr, with what to do about it. */
export function classifySshFailure(
  target: SshTarget, stderr: string,
  unreachableFix = 'check that the Mac is on and on the network, and that Remote Login is on (System Settings › General › Sharing)',
): SshFailure {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^@+$/.test(l) && !/^Warning: Permanently added/.test(l));
  const said = lines.find((l) => /refused|timed out|resolve|unreachable|No route|denied|verification|IDENTIFICATION|closed|reset|Broken pipe|not responding/i.test(l)) ?? lines.at(-1) ?? 'ssh exited with 255';
  const who = `ssh ${target.ssh}${target.port ? ` (port ${target.port})` : ''}`;
  const knownHost = target.port ? `[${hostOf(target.ssh)}]:${target.port}` : hostOf(target.ssh);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return { kind: 'host-key', said, message: `${who}: the host key changed since it was first trusted; if the Mac was reinstalled, run \`ssh-keygen -R '${knownHost}'\` then \`ssh ${target.port ? `-p ${target.port} ` : ''}${target.ssh} true\` once to trust the new key` };
  }
  if (/Host key verification failed|No \S* ?host key is known/.test(stderr)) {
    return { kind: 'host-key', said, message: `${who}: the host key is not trusted yet; run \`ssh ${target.port ? `-p ${target.port} ` : ''}${target.ssh} true\` once and accept it, or add StrictHostKeyChecking=accept-new to the rig's ssh options` };
  }
  if (/Permission denied \(/.test(stderr)) {
    return { kind: 'auth', said, message: `${who}: the Mac refused the key (${said}); install your public key there (\`ssh-copy-id ${target.ssh}\`) or set identityFile in the rig's host` };
  }
  if (/Could not resolve hostname|Name or service not known|nodename nor servname/.test(stderr)) {
    return { kind: 'unreachable', said, message: `${who}: cannot resolve the host name (${said}); check the name in the rig file and your DNS or ~/.ssh/config` };
  }
  if (/Connection refused|Connection timed out|Operation timed out|No route to host|Network is unreachable|connect to host/.test(stderr)) {
    return { kind: 'unreachable', said, message: `${who}: cannot reach the host (${said}); ${unreachableFix}` };
  }
  return { kind: 'dropped', said, message: `${who}: the connection failed (${said})` };
}

function hostOf(target: string): string {
  return target.includes('@') ? target.slice(target.lastIndexOf('@') + 1) : target;
}

function shortArgv(argv: string[]): string {
  const text = argv.join(' ');
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** Per-user folder for control sockets: short (sockets have a ~104-byte path limit) and private. */
function controlDir(): string {
  const dir = join(tmpdir(), `dextbench-ssh-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function mtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
