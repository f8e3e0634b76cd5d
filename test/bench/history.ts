// The run history's figures, one JSON line (run by bench.ts): an embedded (PGlite) store seeded
// with a year of nightly runs, 365 runs × 20 scenarios × 2 measurements, one appended run at a time
// as `dextbench run` appends it.
// history_insert_ms_per_run: appendRun (one transaction: the run, its 20 results, its 40 measurements).
// history_query_ms: the `dextbench history` summary over that store (pass rate, flake score, last
// failure per scenario over its last 30 runs, the 30-run series and band of each measurement), median.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { appendRun } from '../../harness/history/record.ts';
import type { RunRecord } from '../../harness/history/report.ts';
import { openHistory } from '../../harness/history/store.ts';
import { summarize } from '../../harness/history/summary.ts';
import { median } from './support.ts';

export interface HistoryBenchmarks {
  history_insert_ms_per_run: number;
  history_query_ms: number;
}

export const RUNS = 365;
export const SCENARIOS = 20;
const QUERIES = 7;

/** Night n: every scenario on one rig, a few failing now and then (so there are flips and last failures to find). */
function nightly(n: number): RunRecord {
  const started = new Date(Date.UTC(2025, 0, 1, 2) + n * 86_400_000);
  const scenarios = Array.from({ length: SCENARIOS }, (_, i) => `scenario ${String(i).padStart(2, '0')}`);
  return {
    dextVersions: { 'com.example.echo.driver': { version: `1.0.${n}` } },
    rig: 'mac-mini-1', started, ended: new Date(started.getTime() + 600_000), source: `nightly ${n}`,
    results: scenarios.map((scenario, i) => {
      const failed = (n * 7 + i) % 11 === 0;
      return {
        scenario, file: `scenarios/${i}.yaml`, rig: 'mac-mini-1', repeat: 0, attempt: 0,
        status: failed ? 'failed' : 'passed', durationMs: 1000 + i,
        ...(failed ? { class: 'product' as const, error: `echo was not matched within 300ms (night ${n})` } : {}),
      };
    }),
    measurements: scenarios.flatMap((scenario, i) => [
      { scenario, rig: 'mac-mini-1', name: 'settle', unit: 'ms', value: 10 + ((n + i) % 5), min: 0, max: 100 },
      { scenario, rig: 'mac-mini-1', name: 'throughput', unit: 'MB/s', value: 400 + ((n * 3 + i) % 17) },
    ]),
  };
}

async function historyFigures(): Promise<HistoryBenchmarks> {
  const dir = mkdtempSync(join(tmpdir(), 'dextbench-bench-history-'));
  try {
    const store = await openHistory({ kind: 'embedded', dir: join(dir, 'history') });
    try {
      let insertMs = 0;
      for (let n = 0; n < RUNS; n++) {
        const run = nightly(n);
        const started = performance.now();
        await appendRun(store, run);
        insertMs += performance.now() - started;
      }
      const queryMs: number[] = [];
      await summarize(store); // warm: PGlite's plans and pages
      for (let q = 0; q < QUERIES; q++) {
        const started = performance.now();
        const summary = await summarize(store);
        queryMs.push(performance.now() - started);
        if (summary.scenarios.length !== SCENARIOS || summary.measurements.length !== 2 * SCENARIOS) throw new Error('the summary does not cover the seeded store');
      }
      return {
        history_insert_ms_per_run: Number((insertMs / RUNS).toFixed(3)),
        history_query_ms: Number(median(queryMs).toFixed(1)),
      };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await historyFigures()));
}
