// An in-memory Exec for unit tests: records every argv and answers with canned output in the
// real tools' formats, as a function of the argv (and stdin).
import { PassThrough } from 'node:stream';
import type { Exec, ExecOptions, ExecProcess, ExecRecord, ExecResult } from '../../../harness/host/exec.ts';
import { ExecError } from '../../../harness/host/exec.ts';

export interface CannedReply {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  timedOut?: boolean;
}

export type Responder = (argv: string[], options: ExecOptions) => CannedReply | Promise<CannedReply>;

export interface FakeCall {
  argv: string[];
  stdin?: string;
  timeoutMs?: number;
  idempotent?: boolean;
}

export class FakeExec implements Exec {
  readonly where = 'fake host';
  readonly calls: FakeCall[] = [];
  readonly spawned: FakeProcess[] = [];
  constructor(private readonly respond: Responder, private readonly onSpawn?: (p: FakeProcess) => void) {}

  async run(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv, stdin: options.stdin?.toString(), timeoutMs: options.timeoutMs, idempotent: options.idempotent });
    const reply = await this.respond(argv, options);
    const exitCode = reply.timedOut ? null : reply.exitCode ?? 0;
    const result: ExecResult = {
      argv, exitCode, signal: reply.timedOut ? 'SIGKILL' : null, durationMs: 1, timedOut: reply.timedOut ?? false,
      stdout: reply.stdout ?? '', stderr: reply.stderr ?? '', ok: exitCode === 0,
      stdoutBytes: Buffer.from(reply.stdout ?? ''), stderrBytes: Buffer.from(reply.stderr ?? ''),
    };
    if (!result.ok && !options.nothrow) throw new ExecError(result);
    return result;
  }

  async close(): Promise<void> {}

  spawn(argv: string[]): ExecProcess {
    this.calls.push({ argv });
    const p = new FakeProcess(argv);
    this.spawned.push(p);
    this.onSpawn?.(p);
    return p;
  }

  onRecord(): () => void {
    return () => undefined;
  }

  /** The argv of every call, for exact assertions. */
  argvs(): string[][] {
    return this.calls.map((c) => c.argv);
  }
}

export class FakeProcess implements ExecProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<ExecRecord>;
  killedWith: string[] = [];
  private finish!: (record: ExecRecord) => void;
  constructor(readonly argv: string[]) {
    this.exited = new Promise((resolve) => { this.finish = resolve; });
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.killedWith.push(signal);
    this.exit(null, signal);
  }
  exit(exitCode: number | null, signal: string | null = null): void {
    this.stdout.end();
    this.stderr.end();
    this.finish({ argv: this.argv, exitCode, signal, durationMs: 1, timedOut: false });
  }
}

/** Joins lines with "\n" and ends with one. */
export function lines(...text: string[]): string {
  return text.join('\n') + '\n';
}
