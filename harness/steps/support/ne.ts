// What the NE steps of one scenario share: the filters' verdict stream, started by the first ne.*
// step (before the attempts it is to see) and stopped in cleanup. Keyed by the scenario's results
// map, the one object every step of a scenario is given and no other scenario shares.
import { VerdictStream } from '../../ne/index.ts';
import type { StepContext } from '../context.ts';

/**
 * The bundle ids whose log lines the stream follows: every extension the scenario may name but the
 * dexts. A filter logs under its bundle id (contract §5), and lines of an ES client there are not
 * FlowGate's, so they are passed over.
 */
function followedBundles(ctx: StepContext): string[] {
  return [...new Set(Object.values(ctx.extensions).filter((d) => d.dext === undefined).map((d) => d.bundle))];
}

const streams = new WeakMap<object, Promise<VerdictStream>>();

export function verdictStream(ctx: StepContext): Promise<VerdictStream> {
  let stream = streams.get(ctx.results);
  if (!stream) {
    const bundles = followedBundles(ctx);
    if (bundles.length === 0) {
      return Promise.reject(new Error('the scenario and the rig declare no system extension whose verdict lines to follow: declare the filter under uses.extensions or the rig\'s extensions (a bundle id is enough)'));
    }
    stream = VerdictStream.start(ctx.rig.exec, { bundles });
    streams.set(ctx.results, stream);
    // A stream that failed to start is retried by the next step rather than kept as a failure.
    stream.catch(() => { if (streams.get(ctx.results) === stream) streams.delete(ctx.results); });
    const started = stream;
    ctx.cleanup.release('stop the filter verdict stream', async () => {
      const s = await started.catch(() => undefined);
      await s?.stop();
    });
  }
  return stream;
}

/**
 * The stream for steps that can do without it (ne.connect, ne.dns, ne.filter): started for a later
 * ne.expect, and when it cannot start, a timeline warning saying what is lost (`lost`) instead of a
 * failure.
 */
export function verdictStreamIfAny(ctx: StepContext, lost = ''): Promise<VerdictStream | undefined> {
  return verdictStream(ctx).catch((error: unknown) => {
    ctx.timeline.record({ type: 'warning', message: `filter verdict stream unavailable${lost}: ${(error as Error).message}` });
    return undefined;
  });
}

/** How long an NE step waits: its `within:`, else its timeout, at most 10 s. */
export function withinMs(ctx: StepContext, within: number | undefined): number {
  return within ?? Math.min(ctx.timeoutMs, 10_000);
}
