// `eslogger <events…>` kept running through a scenario: every line parsed with parseEsloggerLine and
// normalised (events.ts), gaps in global_seq_num counted as dropped events, and waits for an event
// with a deadline. eslogger needs root, so it runs as `sudo -n eslogger` (never prompts); when it
// cannot create its ES client it exits at once, and the es_new_client result on its stderr is
// turned into one line with the fix (new-client.ts).
import type { Exec, ExecProcess, ExecRecord } from '../host/exec.ts';
import { exitedWithin, lineSplitter, stopProcess } from '../host/exec.ts';
import { KeptItems } from '../host/kept-items.ts';
import { parseEsloggerLine } from '../host/parsers/index.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import { normaliseEvent, type EsEvent } from './events.ts';
import { findNewClientResult, newClientFix, type EsNewClientResult } from './new-client.ts';

/** eslogger could not start, or ended: one line, with the fix when the reason is known. */
export class EsloggerError extends Error {
  constructor(message: string, readonly result?: EsNewClientResult) {
    super(message);
    this.name = 'EsloggerError';
  }
}

/** Events that never reached us: global_seq_num jumped from `after` to `before`. */
export interface EsGap {
  after: bigint;
  before: bigint;
  missing: bigint;
}

export interface EsloggerStreamOptions {
  /** Event short names (`exec`, `fork`…); eslogger refuses the whole list when one is unknown. */
  events: string[];
  /** How long eslogger must stay up before start() trusts it (a refusal exits at once). */
  startupMs?: number;
  /** Oldest events are dropped beyond this many. */
  maxEvents?: number;
  /** A safety deadline for the process itself, should stop() never be called. */
  lifetimeMs?: number;
}

const DEFAULT_STARTUP_MS = 400;
const DEFAULT_MAX_EVENTS = 50_000;
const DEFAULT_LIFETIME_MS = 4 * 60 * 60_000;
const STOP_GRACE_MS = 3_000;
const EVENT_NAME = /^[a-z][a-z0-9_]*$/;

export function esloggerArgv(events: readonly string[]): string[] {
  return ['sudo', '-n', 'eslogger', ...events];
}

export class EsloggerStream {
  private readonly kept: KeptItems<EsEvent>;
  private readonly gapListeners = new Set<(gap: EsGap) => void>();
  private readonly gapList: EsGap[] = [];
  private lastGlobal: bigint | undefined;
  private stderrTail: string[] = [];
  private stopped = false;
  /** `{` lines that did not parse as an eslogger event: skipped, counted. */
  malformed = 0;
  /** Every event received, also those dropped from `events()` by maxEvents. */
  received = 0;

  private constructor(private readonly child: ExecProcess, readonly names: readonly string[], options: EsloggerStreamOptions) {
    this.kept = new KeptItems(options.maxEvents ?? DEFAULT_MAX_EVENTS);
    const out = lineSplitter((line) => this.accept(line));
    const err = lineSplitter((line) => { this.stderrTail = [...this.stderrTail, line].slice(-5); });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    void child.exited.then((record) => {
      out.end();
      err.end();
      this.kept.end(record);
    });
  }

  static async start(exec: Exec, options: EsloggerStreamOptions): Promise<EsloggerStream> {
    const bad = options.events.filter((e) => !EVENT_NAME.test(e));
    if (options.events.length === 0 || bad.length) {
      throw new EsloggerError(`eslogger: ${bad.length ? `not event names: ${bad.map((b) => JSON.stringify(b)).join(', ')}` : 'no events to subscribe to'}`);
    }
    const argv = esloggerArgv(options.events);
    const child = exec.spawn(argv, { timeoutMs: options.lifetimeMs ?? DEFAULT_LIFETIME_MS });
    const stream = new EsloggerStream(child, options.events, options);
    const early = await exitedWithin(child, options.startupMs ?? DEFAULT_STARTUP_MS);
    if (early) {
      stream.stopped = true;
      // Let the stderr reader deliver what eslogger said before it exited.
      await new Promise((resolve) => setImmediate(resolve));
      throw stream.startFailure(early, exec.where);
    }
    return stream;
  }

  private startFailure(record: ExecRecord, where: string): EsloggerError {
    const said = oneLine(this.stderrTail.join('\n'));
    const how = `eslogger ${this.names.join(' ')} on ${where} exited at once with ${record.exitCode ?? record.signal}${said ? `: ${said}` : ''}`;
    const result = findNewClientResult(said);
    if (result) return new EsloggerError(`${how}; ${newClientFix(result, { kind: 'eslogger' })}`, result);
    if (/a password is required|a terminal is required/.test(said)) {
      return new EsloggerError(`${how}; eslogger needs root: give the rig's user passwordless sudo for /usr/bin/eslogger (dextbench provision writes the rule)`);
    }
    if (record.exitCode === 127 || /eslogger: command not found/.test(said)) {
      return new EsloggerError(`${how}; eslogger is in /usr/bin from macOS 13 on`);
    }
    return new EsloggerError(how);
  }

  private accept(line: string): void {
    let event: EsEvent;
    try {
      const parsed = parseEsloggerLine(line);
      if (!parsed) return;
      event = normaliseEvent(parsed);
    } catch {
      this.malformed++;
      return;
    }
    this.received++;
    this.noteSequence(event);
    this.kept.add(event);
  }

  /**
   * global_seq_num counts every message sent to this client (reference §5.4): a jump means messages
   * were dropped. A number that goes back (a restarted client) starts the count afresh.
   */
  private noteSequence(event: EsEvent): void {
    const g = event.globalSeqNum;
    if (g === undefined) return;
    const last = this.lastGlobal;
    this.lastGlobal = g;
    if (last === undefined || g <= last + 1n) return;
    const gap: EsGap = { after: last, before: g, missing: g - last - 1n };
    this.gapList.push(gap);
    for (const listener of this.gapListeners) listener(gap);
  }

  /** Events received so far, oldest first. */
  events(): EsEvent[] {
    return this.kept.all();
  }

  gaps(): EsGap[] {
    return [...this.gapList];
  }

  /** How many events the gaps in global_seq_num say were dropped. */
  dropped(): bigint {
    return this.gapList.reduce((sum, g) => sum + g.missing, 0n);
  }

  onEvent(listener: (event: EsEvent) => void): () => void {
    return this.kept.onItem(listener);
  }

  onGap(listener: (gap: EsGap) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  /** Whether eslogger is still running. */
  get running(): boolean {
    return this.kept.ended === undefined;
  }

  /** Why eslogger ended, when it did (stderr's last lines included). */
  endedBecause(): string | undefined {
    const r = this.kept.ended;
    if (!r) return undefined;
    const said = oneLine(this.stderrTail.join('\n'));
    return `eslogger exited (${r.exitCode ?? r.signal})${said ? `: ${said}` : ''}`;
  }

  /**
   * The first event `predicate` accepts: among those already received, else the next to arrive.
   * Rejects at the deadline, or when eslogger ends first.
   */
  waitFor(predicate: (event: EsEvent) => boolean, options: { timeoutMs: number; description: string }): Promise<EsEvent> {
    return this.kept.waitFor(predicate, {
      timeoutMs: options.timeoutMs,
      timedOut: () => new EsloggerError(`no ${options.description} within ${options.timeoutMs} ms`),
      ended: () => new EsloggerError(`${this.endedBecause()} while waiting for ${options.description}`),
    });
  }

  /** Ends eslogger (SIGTERM, then SIGKILL after a grace period). Events stay readable. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.kept.ended) return;
    await stopProcess(this.child, STOP_GRACE_MS);
  }

  /** Whether stop() was called (an exit after it is not a failure). */
  get wasStopped(): boolean {
    return this.stopped;
  }
}
