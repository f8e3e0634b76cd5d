// What `dextbench history` shows. Per scenario × rig, over its last 30 runs:
// - passRate: the runs whose final attempt passed (a pass on Playwright's retry counts: the run
//   reported it passed) over the runs that ran it;
// - flakeScore: (status flips between neighbouring runs + runs Playwright called flaky, i.e. failed
//   then passed on its own retry) / runs, at most 1; PPFFF scores 0.2 (Buildkite's transition count,
//   shared/reference/nightly-ops.md §3.2);
// - lastFailure: the latest failed attempt, also from before the window.
// Per measurement (scenario × rig × name × unit), the series of its last 30 runs (a run's mean
// when it measured several times) and a regression flag: the last value lies outside mean ± 3σ of
// the 14 runs before it (σ of those values; at least MIN_BAND_RUNS of them, else no flag). mean ± 3σ
// rather than min..max, since one outlier in 14 nights would widen min..max for two weeks.
import type { Sql } from './store.ts';

export const WINDOW_RUNS = 30;
export const BAND_RUNS = 14;
export const MIN_BAND_RUNS = 5;

export interface LastFailure {
  run: number;
  at: string;
  status: string;
  class: string | null;
  error: string | null;
}

export interface ScenarioSummary {
  scenario: string;
  rig: string;
  runs: number;
  passRate: number;
  flakeScore: number;
  lastFailure: LastFailure | null;
}

export interface MeasurementSummary {
  name: string;
  unit: string;
  scenario: string;
  rig: string;
  values: { run: number; value: number }[];
  regression: boolean;
}

export interface HistorySummary {
  scenarios: ScenarioSummary[];
  measurements: MeasurementSummary[];
}

export interface SummaryFilter {
  scenario?: string;
  rig?: string;
}

const PER_SCENARIO = `
WITH attempts AS (
  SELECT r.run, ru.started, r.scenario, r.rig, r.status,
    row_number() OVER (PARTITION BY r.run, r.scenario, r.rig, r.repeat ORDER BY r.attempt DESC) AS from_last
  FROM results r JOIN runs ru ON ru.id = r.run
  WHERE ($1::text IS NULL OR r.scenario = $1) AND ($2::text IS NULL OR r.rig = $2)),
per_run AS (
  SELECT run, started, scenario, rig,
    bool_and(status IN ('passed', 'skipped')) FILTER (WHERE from_last = 1) AS passed,
    bool_or(status NOT IN ('passed', 'skipped')) AS any_failed,
    bool_and(status = 'skipped') AS skipped
  FROM attempts GROUP BY run, started, scenario, rig),
recent AS (
  SELECT *, row_number() OVER (PARTITION BY scenario, rig ORDER BY started DESC, run DESC) AS age
  FROM per_run WHERE NOT skipped),
windowed AS (
  SELECT *, lag(passed) OVER (PARTITION BY scenario, rig ORDER BY started, run) AS previous
  FROM recent WHERE age <= ${WINDOW_RUNS})
SELECT scenario, rig, count(*)::int AS runs,
  (count(*) FILTER (WHERE passed))::int AS passes,
  (count(*) FILTER (WHERE previous IS NOT NULL AND previous <> passed))::int AS flips,
  (count(*) FILTER (WHERE passed AND any_failed))::int AS flaky
FROM windowed GROUP BY scenario, rig ORDER BY scenario, rig`;

const LAST_FAILURES = `
SELECT DISTINCT ON (r.scenario, r.rig) r.scenario, r.rig, r.run::text AS run,
  to_char(ru.started AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, r.status, r.class, r.error
FROM results r JOIN runs ru ON ru.id = r.run
WHERE r.status NOT IN ('passed', 'skipped')
  AND ($1::text IS NULL OR r.scenario = $1) AND ($2::text IS NULL OR r.rig = $2)
ORDER BY r.scenario, r.rig, ru.started DESC, r.run DESC, r.repeat DESC, r.attempt DESC`;

const SERIES = `
WITH per_run AS (
  SELECT m.scenario, m.rig, m.name, m.unit, m.run, ru.started, avg(m.value) AS value
  FROM measurements m JOIN runs ru ON ru.id = m.run
  WHERE ($1::text IS NULL OR m.scenario = $1) AND ($2::text IS NULL OR m.rig = $2)
  GROUP BY m.scenario, m.rig, m.name, m.unit, m.run, ru.started),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY scenario, rig, name, unit ORDER BY started DESC, run DESC) AS age FROM per_run)
SELECT scenario, rig, name, unit, run::text AS run, value
FROM ranked WHERE age <= ${WINDOW_RUNS} ORDER BY scenario, rig, name, unit, started, run`;

export async function summarize(sql: Sql, filter: SummaryFilter = {}): Promise<HistorySummary> {
  const params = [filter.scenario ?? null, filter.rig ?? null];
  const [counts, failures, series] = [
    await sql.query<{ scenario: string; rig: string; runs: number; passes: number; flips: number; flaky: number }>(PER_SCENARIO, params),
    await sql.query<{ scenario: string; rig: string; run: string; at: string; status: string; class: string | null; error: string | null }>(LAST_FAILURES, params),
    await sql.query<{ scenario: string; rig: string; name: string; unit: string; run: string; value: number }>(SERIES, params),
  ];
  const failureOf = new Map(failures.map((f) => [`${f.scenario}\u0000${f.rig}`, f]));
  const scenarios = counts.map((c): ScenarioSummary => {
    const f = failureOf.get(`${c.scenario}\u0000${c.rig}`);
    return {
      scenario: c.scenario, rig: c.rig, runs: c.runs,
      passRate: round(c.passes / c.runs),
      flakeScore: round(Math.min(1, (c.flips + c.flaky) / c.runs)),
      lastFailure: f ? { run: Number(f.run), at: f.at, status: f.status, class: f.class, error: f.error } : null,
    };
  });
  const measurements: MeasurementSummary[] = [];
  for (const row of series) {
    let last = measurements.at(-1);
    if (!last || last.scenario !== row.scenario || last.rig !== row.rig || last.name !== row.name || last.unit !== row.unit) {
      last = { name: row.name, unit: row.unit, scenario: row.scenario, rig: row.rig, values: [], regression: false };
      measurements.push(last);
    }
    last.values.push({ run: Number(row.run), value: Number(row.value) });
  }
  for (const m of measurements) m.regression = outsideBand(m.values.map((v) => v.value));
  return { scenarios, measurements };
}

/** The last value against mean ± 3σ of the BAND_RUNS values before it. */
export function outsideBand(values: number[]): boolean {
  const band = bandOf(values.slice(0, -1).slice(-BAND_RUNS));
  if (!band || values.length === 0) return false;
  const last = values.at(-1)!;
  return last < band.low || last > band.high;
}

export function bandOf(values: number[]): { low: number; high: number } | undefined {
  if (values.length < MIN_BAND_RUNS) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sigma = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return { low: mean - 3 * sigma, high: mean + 3 * sigma };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
