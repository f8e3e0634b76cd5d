// What the NE steps of one scenario share: FlowGate's verdict stream, started by the first ne.*
// step (before the attempts it is to see) and stopped in cleanup. Keyed by the scenario's results
// map, the one object every step of a scenario is given and no other scenario shares.
import { VerdictStream } from '../../ne/index.ts';
import type { StepContext } from '../context.ts';

const streams = new WeakMap<object, Promise<VerdictStream>>();

export function verdictStream(ctx: StepContext): Promise<VerdictStream> {
  let stream = streams.get(ctx.results);
  if (!stream) {
    stream = VerdictStream.start(ctx.rig.exec);
    streams.set(ctx.results, stream);
    // A stream that failed to start is retried by the next step rather than kept as a failure.
    stream.catch(() => { if (streams.get(ctx.results) === stream) streams.delete(ctx.results); });
    const started = stream;
    ctx.cleanup.release('stop the FlowGate verdict stream', async () => {
      const s = await started.catch(() => undefined);
      await s?.stop();
    });
  }
  return stream;
}

/** How long an NE step waits: its `within:`, else its timeout, at most 10 s. */
export function withinMs(ctx: StepContext, within: number | undefined): number {
  return within ?? Math.min(ctx.timeoutMs, 10_000);
}
