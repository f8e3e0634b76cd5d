// The unified log: `log stream` kept running through a scenario, and `log show` for what happened
// since a moment. Always `--style ndjson` (one JSON object per line; macos-formats.md §4.4); every
// line that is not a log event (the "Filtering the log data…" notice, the show footer) is skipped.
import type { Exec, ExecProcess, ExecRecord } from '../exec.ts';
import { exitedWithin, graceTimer, lineSplitter, stopProcess } from '../exec.ts';
import { KeptItems } from '../kept-items.ts';
import { parseUnifiedLogLine, type UnifiedLogEntry } from '../parsers/index.ts';
import { failure, oneLine, ToolError } from './tool-error.ts';

export type LogEntry = UnifiedLogEntry;
export type LogLevel = 'info' | 'debug';

export interface LogStreamOptions {
  /** An NSPredicate string, passed as one `--predicate` argument. */
  predicate?: string;
  /** `--level info|debug`; the default level shows Default, Error and Fault messages. */
  level?: LogLevel;
  /**
   * How long `log stream` must stay up before start() trusts it (a missing tool exits at once),
   * unless it printed its "Filtering the log data using" notice sooner.
   */
  startupMs?: number;
  /** Oldest entries are dropped beyond this many. */
  maxEntries?: number;
  /** A safety deadline for the stream process itself, should stop() never be called. */
  lifetimeMs?: number;
  /** How long to keep trying to restart the stream after its connection was lost (a reboot). */
  resumeWithinMs?: number;
}

/** The stream was down between two moments (its connection to the Mac was lost), then resumed. */
export interface LogGap {
  /** Why it ended: the exit of the stream that was lost. */
  ended: ExecRecord;
  downMs: number;
}

/**
 * How `log stream` over ssh ends when the connection is lost: ssh's 255 when the Mac is gone (a
 * reboot), or SIGPIPE when the Mac is up but the session was torn down (its stdout's reader went
 * away; while we read it, nothing else does that). `log` itself never exits 255.
 */
function connectionLost(record: ExecRecord): boolean {
  return record.exitCode === 255 || record.signal === 'SIGPIPE';
}
const RESUME_BACKOFF_MS = [500, 1_000, 2_000, 5_000];

const DEFAULT_STARTUP_MS = 300;
const NOTICE = 'Filtering the log data using';
const DEFAULT_MAX_ENTRIES = 100_000;
const DEFAULT_LIFETIME_MS = 4 * 60 * 60_000;
const DEFAULT_RESUME_WITHIN_MS = 10 * 60_000;
const STOP_GRACE_MS = 3_000;

/** `log stream --style ndjson` as a running collection of parsed entries. */
export class UnifiedLogStream {
  /** Each entry with the line it was parsed from, as the Mac printed it. */
  private readonly kept: KeptItems<{ entry: LogEntry; line: string }>;
  private stderrTail: string[] = [];
  /** `{` lines that were not valid log JSON (a torn write): skipped, counted. */
  malformed = 0;

  private child!: ExecProcess;
  private stopped = false;
  /** Resolved by log's "Filtering the log data using …" notice (see start). */
  private noticed!: () => void;
  private readonly notice = new Promise<void>((resolve) => { this.noticed = resolve; });
  private readonly gapListeners = new Set<(gap: LogGap) => void>();

  private constructor(
    private readonly exec: Exec,
    private readonly argv: string[],
    private readonly options: LogStreamOptions,
  ) {
    this.kept = new KeptItems(options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  /** Follows one `log stream` process; when its connection is lost, starts another (resume). */
  private attach(child: ExecProcess): void {
    this.child = child;
    const out = lineSplitter((line) => {
      if (line.startsWith(NOTICE)) this.noticed();
      this.accept(line);
    });
    const err = lineSplitter((line) => {
      if (line.startsWith(NOTICE)) this.noticed();
      this.stderrTail = [...this.stderrTail, line].slice(-5);
    });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    void child.exited.then((record) => {
      out.end();
      err.end();
      if (!this.stopped && connectionLost(record)) {
        void this.resume(record);
        return;
      }
      this.ended(record);
    });
  }

  private ended(record: ExecRecord): void {
    this.kept.end(record);
  }

  /** Restarts the stream once the Mac answers again (after a reboot), within resumeWithinMs. */
  private async resume(lost: ExecRecord): Promise<void> {
    const since = performance.now();
    const deadline = since + (this.options.resumeWithinMs ?? DEFAULT_RESUME_WITHIN_MS);
    for (let attempt = 0; !this.stopped && performance.now() < deadline; attempt++) {
      await graceTimer(RESUME_BACKOFF_MS[Math.min(attempt, RESUME_BACKOFF_MS.length - 1)]!);
      if (this.stopped) break;
      let child: ExecProcess;
      try {
        child = this.spawn();
      } catch {
        continue;
      }
      if (await exitedWithin(child, this.options.startupMs ?? DEFAULT_STARTUP_MS)) continue;
      this.attach(child);
      if (this.stopped) child.kill('SIGTERM');
      for (const listener of this.gapListeners) listener({ ended: lost, downMs: Math.round(performance.now() - since) });
      return;
    }
    this.ended(lost);
  }

  private spawn(): ExecProcess {
    return this.exec.spawn(this.argv, { timeoutMs: this.options.lifetimeMs ?? DEFAULT_LIFETIME_MS });
  }

  static async start(exec: Exec, options: LogStreamOptions = {}): Promise<UnifiedLogStream> {
    const argv = ['log', 'stream', '--style', 'ndjson'];
    if (options.level) argv.push('--level', options.level);
    if (options.predicate) argv.push('--predicate', options.predicate);
    const stream = new UnifiedLogStream(exec, argv, options);
    const child = stream.spawn();
    stream.attach(child);
    // `log` prints its notice once it has accepted the predicate, before any data; a missing tool
    // or a bad predicate exits before it. So the notice ends the wait at once (in a few ms on the
    // sim, a round trip over ssh), and only a stream without one (no --predicate) waits startupMs.
    // Unconfirmed whether the notice goes to stdout or stderr (macos-formats.md §4.4): both count.
    const early = await exitedWithin(child, options.startupMs ?? DEFAULT_STARTUP_MS, stream.notice);
    if (early) {
      stream.stopped = true;
      // Let the stderr reader deliver what the tool said before it exited.
      await new Promise((resolve) => setImmediate(resolve));
      const missing = early.exitCode === 127 || early.exitCode === -2;
      throw new ToolError(`log stream on ${exec.where} ${missing ? 'is not available (no `log` command)' : `exited at once with ${early.exitCode ?? early.signal}`}` +
        `${stream.stderrTail.length ? `: ${oneLine(stream.stderrTail.join('\n'))}` : ''}`);
    }
    return stream;
  }

  /** Called when the stream resumed after its connection was lost: the lines in between are missing. */
  onGap(listener: (gap: LogGap) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  private accept(line: string): void {
    const entry = parseLine(line, () => { this.malformed++; });
    if (!entry) return;
    this.kept.add({ entry, line });
  }

  /** Entries received so far, oldest first. */
  entries(): LogEntry[] {
    return this.kept.all().map((k) => k.entry);
  }

  /** The ndjson lines of those entries, exactly as received (every key, big integers exact). */
  lines(): string[] {
    return this.kept.all().map((k) => k.line);
  }

  onEntry(listener: (entry: LogEntry) => void): () => void {
    return this.kept.onItem((k) => listener(k.entry));
  }

  /**
   * The first entry `predicate` accepts: among those already received (unless `includePast` is
   * false), else the next to arrive. Rejects at the deadline, naming `description`.
   */
  waitFor(
    predicate: (entry: LogEntry) => boolean,
    options: { timeoutMs: number; description: string; includePast?: boolean },
  ): Promise<LogEntry> {
    const stderr = () => (this.stderrTail.length ? `: ${oneLine(this.stderrTail.join('\n'))}` : '');
    return this.kept.waitFor((k) => predicate(k.entry), {
      timeoutMs: options.timeoutMs,
      ...(options.includePast === undefined ? {} : { includePast: options.includePast }),
      timedOut: () => new ToolError(`no unified log line for ${options.description} within ${options.timeoutMs} ms (${this.kept.size} line(s) received)`),
      ended: (record) => new ToolError(`log stream exited (${record.exitCode ?? record.signal}) while waiting for ${options.description}${stderr()}`),
    }).then((k) => k.entry);
  }

  /** Ends `log stream` (SIGTERM, then SIGKILL after a grace period). Entries stay readable. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.kept.ended) return;
    await stopProcess(this.child, STOP_GRACE_MS);
  }
}

export interface LogShowOptions {
  start: Date;
  predicate?: string;
  level?: LogLevel;
  timeoutMs?: number;
}

/**
 * `log show --style ndjson --start "YYYY-MM-DD HH:MM:SS"`: the entries since `start`.
 * `--start` is read in the host's local time and to the second: `start` is formatted in this
 * machine's time zone, so an ssh host in another zone, or with a skewed clock, shifts the window
 * (keep the clocks synced; the window opens up to a second early).
 */
export async function logShow(exec: Exec, options: LogShowOptions): Promise<LogEntry[]> {
  const argv = ['log', 'show', '--style', 'ndjson', '--start', formatLocalSecond(options.start)];
  if (options.level === 'info') argv.push('--info');
  if (options.level === 'debug') argv.push('--info', '--debug');
  if (options.predicate) argv.push('--predicate', options.predicate);
  const result = await exec.run(argv, { timeoutMs: options.timeoutMs ?? 60_000, nothrow: true, idempotent: true });
  if (!result.ok) throw failure(result, 'reading the unified log');
  const entries: LogEntry[] = [];
  for (const line of result.stdout.split('\n')) {
    const entry = parseLine(line, () => undefined);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** One line as an entry; null for notices and footers, and for a malformed line (reported). */
function parseLine(line: string, onMalformed: () => void): LogEntry | null {
  try {
    return parseUnifiedLogLine(line);
  } catch {
    onMalformed();
    return null;
  }
}

/** `YYYY-MM-DD HH:MM:SS` in this machine's local time. */
export function formatLocalSecond(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

// The processes whose lines tell a dext's life story: the kernel (`DK:` lines, crash counters),
// sysextd (activation) and kernelmanagerd (dext validation) (macos-formats.md §7.4).
const SYSTEM_PROCESSES = ['kernel', 'sysextd', 'kernelmanagerd'];
const BUNDLE_ID = /^[A-Za-z0-9.-]+$/;
const CLASS_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An extension whose lines a scenario follows: its bundle id and its dext's service classes. */
export interface LogTarget {
  bundle: string;
  /** `IOUserClass` names its dext serves (kernel `DK: <class>-0x…` lines name the class, not the bundle). */
  userClasses?: string[];
}

/**
 * Dext lifecycle lines: everything from the kernel, sysextd and kernelmanagerd, plus each dext's
 * own lines — sender `<bundle>.dext` (§4-E) or the dext process, whose name is its bundle id (§3-B).
 */
export function dextPredicate(bundleIds: string[]): string {
  const clauses = SYSTEM_PROCESSES.map((p) => `process == "${p}"`);
  for (const bundleId of bundleIds) clauses.push(...ownLineClauses(checkedBundle(bundleId)));
  return clauses.join(' OR ');
}

/** The extensions a scenario follows, and other bundles it knows of (the rig's). */
export interface LogScope {
  targets: LogTarget[];
  /** Bundle ids whose lines are not wanted; they matter where a target's id is part of theirs. */
  others?: string[];
}

/**
 * The lines that concern the targets: kernel, sysextd and kernelmanagerd lines that name a target
 * bundle or one of its dexts' `<class>-0x` services, and each target dext's own lines. A bundle id
 * also matches inside a longer one (`com.example.echo.driver` in `com.example.echo.driver.beta`):
 * the reference shows no delimiter common to all these messages, so lines naming a longer id
 * among `others` are left out explicitly. Undefined when there is nothing to follow.
 */
export function extensionLogPredicate({ targets, others = [] }: LogScope): string | undefined {
  if (targets.length === 0) return undefined;
  const wanted = new Set(targets.map((t) => checkedBundle(t.bundle)));
  const named: string[] = [];
  const own: string[] = [];
  for (const target of targets) {
    const bundle = target.bundle;
    const longer = others.map(checkedBundle).filter((o) => !wanted.has(o) && o !== bundle && o.includes(bundle));
    named.push(longer.length
      ? `(eventMessage CONTAINS "${bundle}" AND NOT (${longer.map((o) => `eventMessage CONTAINS "${o}"`).join(' OR ')}))`
      : `eventMessage CONTAINS "${bundle}"`);
    for (const userClass of target.userClasses ?? []) {
      if (!CLASS_NAME.test(userClass)) throw new ToolError(`not a class name: ${JSON.stringify(userClass)}`);
      named.push(`eventMessage CONTAINS "${userClass}-0x"`);
    }
    own.push(...ownLineClauses(bundle));
  }
  // AND, NOT and parentheses are plain NSPredicate syntax; the reference's samples show only OR,
  // so the grouping is spelled out rather than left to operator precedence.
  const system = `(${SYSTEM_PROCESSES.map((p) => `process == "${p}"`).join(' OR ')})`;
  return [`(${system} AND (${[...new Set(named)].join(' OR ')}))`, ...new Set(own)].join(' OR ');
}

/**
 * A dext's own lines: sender `<bundle>.dext` (§4-E), the dext process (named by its bundle id,
 * §3-B), and sender `<bundle>` as older releases attributed dext lines to the kernel (§7-D).
 */
function ownLineClauses(bundle: string): string[] {
  return [`sender == "${bundle}.dext"`, `sender == "${bundle}"`, `process == "${bundle}"`];
}

function checkedBundle(bundleId: string): string {
  if (!BUNDLE_ID.test(bundleId)) throw new ToolError(`not a bundle identifier: ${JSON.stringify(bundleId)}`);
  return bundleId;
}
