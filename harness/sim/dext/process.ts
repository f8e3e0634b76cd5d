// One simulated dext process on the TypeScript model: the model outlives any one bridge
// connection, moves its io at the rig's rate whether or not anyone is connected, and ends every
// connection when it stops (unplug, crash, deactivation) — as dextbench-sim-dext does for the C model.
import type { LoopbackModel } from './model.ts';

const TICK_MS = 2;
// At most this much io per tick: a call waits behind a tick (1 MiB is a few ms of generate+verify,
// where 4 MiB kept IoStatus waiting ~30 ms), and 1 MiB per 2 ms still allows ~520 MB/s.
const MAX_TICK_BYTES = 1024 * 1024;

/** What a connection needs from its dext process. */
export interface DextConnection {
  /** The dext stopped: the connection reports TERMINATED and ends. */
  terminate(ioReturn: number): void;
}

export class TsDextProcess {
  private readonly connections = new Set<DextConnection>();
  private timer: NodeJS.Timeout | undefined;
  private lastTickNs = process.hrtime.bigint();
  private stopped = false;

  /** rate: io bytes per second (the C server's --rate). */
  constructor(readonly model: LoopbackModel, private readonly rate: number) {}

  get alive(): boolean { return !this.stopped; }

  attach(connection: DextConnection): void { this.connections.add(connection); }

  detach(connection: DextConnection): void { this.connections.delete(connection); }

  /** After a call: io may have started, so keep it moving. */
  kick(): void {
    if (this.stopped || this.timer || !this.model.busy()) return;
    this.lastTickNs = process.hrtime.bigint();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** The dext's Stop: Stopping, running io aborted, every connection terminated. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.model.stop();
    for (const connection of [...this.connections]) connection.terminate(0);
    this.connections.clear();
  }

  private tick(): void {
    const now = process.hrtime.bigint();
    const budget = Number((now - this.lastTickNs) * BigInt(this.rate) / 1_000_000_000n);
    if (budget > 0) {
      this.model.advance(Math.min(budget, MAX_TICK_BYTES));
      this.lastTickNs = now;
    }
    if (!this.model.busy()) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
