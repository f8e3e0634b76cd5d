// What the benchmarks share: how long a rate is measured, and the statistics.
export const IN_FLIGHT = 64;
export const RUN_MS = 1500;
const WARM_MS = 300;

export function median(values: number[]): number {
  return percentile(values, 0.5);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * Round trips/s of `roundTrip` driven by IN_FLIGHT workers, each starting its next round trip when
 * the last one resolves; after warmMs of the same load (JIT, pipe buffers), not counted.
 */
export async function pipelinedRate(roundTrip: (nonce: number) => Promise<unknown>, warmMs = WARM_MS): Promise<number> {
  const run = async (ms: number): Promise<number> => {
    let done = 0;
    const started = performance.now();
    const end = started + ms;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      for (let n = 0; performance.now() < end; n++) {
        await roundTrip(worker * 1_000_000 + n);
        done++;
      }
    }));
    return done / ((performance.now() - started) / 1000);
  };
  await run(warmMs);
  return run(RUN_MS);
}
