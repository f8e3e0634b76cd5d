// The scenario's timeline: every step, host command, registry change and matched log line, with
// milliseconds since the scenario began. Attached to the test as JSON lines.
import type { Timeline, TimelineEvent } from '../steps/index.ts';

export class TimelineRecorder implements Timeline {
  private readonly events: string[] = [];
  private readonly t0 = performance.now();

  /** Safe to pass around unbound (steps hand it to rig helpers as their event sink). */
  readonly record = (event: TimelineEvent): void => {
    const line = { t: Math.round(performance.now() - this.t0), ...event };
    this.events.push(JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  };

  toJsonLines(): string {
    return this.events.length ? `${this.events.join('\n')}\n` : '';
  }
}
