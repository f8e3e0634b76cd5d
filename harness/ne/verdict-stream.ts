// A content filter's verdicts as they happen: `log stream --predicate 'subsystem == "<its bundle id>"'`
// through the rig's Exec, each line parsed as FlowGate's (flowgate-log.ts). Started before the
// attempts it is to see (the first ne.* step of a scenario), stopped in cleanup.
import type { Exec } from '../host/exec.ts';
import { UnifiedLogStream, type LogEntry } from '../host/tools/log.ts';
import { ToolError } from '../host/tools/tool-error.ts';
import {
  describeVerdict, parseFlowGateMessage, verdictMismatches, verdictPredicate,
  type DnsVerdict, type FlowGateStarted, type FlowVerdict, type Verdict, type VerdictMatch,
} from './flowgate-log.ts';

export type VerdictLine = (FlowVerdict | DnsVerdict) & { at: Date };

export class VerdictStream {
  private constructor(private readonly log: UnifiedLogStream, readonly predicate: string) {}

  /** Follows the lines of the filters with these bundle ids (each logs under its own, contract §5). */
  static async start(exec: Exec, options: { bundles: string[] }): Promise<VerdictStream> {
    const predicate = verdictPredicate(options.bundles);
    return new VerdictStream(await UnifiedLogStream.start(exec, { predicate }), predicate);
  }

  /** Every verdict line received so far, oldest first. */
  verdicts(): VerdictLine[] {
    return this.log.entries().flatMap((e) => {
      const line = verdictOf(e);
      return line ? [line] : [];
    });
  }

  /**
   * The first verdict that matches, among those received so far and the ones still to come; a
   * ToolError at the deadline saying what was seen (the nearest lines, and why each differs).
   */
  async waitFor(verdict: Verdict, match: VerdictMatch, options: { timeoutMs: number }): Promise<VerdictLine> {
    const wanted = (e: LogEntry) => {
      const line = verdictOf(e);
      return !!line && verdictMismatches(line, verdict, match).length === 0;
    };
    try {
      return verdictOf(await this.log.waitFor(wanted, { timeoutMs: options.timeoutMs, description: 'a FlowGate verdict' }))!;
    } catch (error) {
      if (!(error instanceof ToolError)) throw error;
      const seen = this.verdicts();
      const shown = seen.slice(-3).map((l) => `${describeVerdict(l)} [${verdictMismatches(l, verdict, match).join(', ')}]`);
      const saw = seen.length === 0
        ? `no FlowGate verdict at all (${this.log.entries().length} line(s) from ${this.predicate})`
        : `${seen.length} other verdict(s), last: ${shown.join('; ')}`;
      throw new ToolError(`${/exited/.test(error.message) ? `${error.message}; ` : ''}saw ${saw}`);
    }
  }

  /** FlowGate's start lines received so far (startFilter: `FlowGate started rules=<n>`). */
  starts(): LogEntry[] {
    return this.log.entries().filter((e) => parseFlowGateMessage(e.eventMessage)?.kind === 'started');
  }

  /**
   * The next start line that is not one of `seen` (those before the filter was turned on): the
   * filter is in force from then on. A ToolError at the deadline.
   */
  async waitForStart(seen: LogEntry[], options: { timeoutMs: number }): Promise<FlowGateStarted> {
    const before = new Set(seen);
    const entry = await this.log.waitFor((e) => !before.has(e) && parseFlowGateMessage(e.eventMessage)?.kind === 'started',
      { timeoutMs: options.timeoutMs, description: 'FlowGate\'s start line (FlowGate started rules=<n>)' });
    return parseFlowGateMessage(entry.eventMessage) as FlowGateStarted;
  }

  stop(): Promise<void> {
    return this.log.stop();
  }
}

function verdictOf(entry: LogEntry): VerdictLine | undefined {
  const line = parseFlowGateMessage(entry.eventMessage);
  return line && line.kind !== 'started' ? { ...line, at: entry.timestamp } : undefined;
}
