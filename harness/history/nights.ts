// The history night by night, for `dextbench report --history`: the last WINDOW_RUNS runs, each
// scenario × rig's outcome in each (for the pass-rate grid), and each measurement's latest bounds
// (the scenario's min/max, drawn beside its series and band from summary.ts).
import type { Sql } from './store.ts';
import { WINDOW_RUNS } from './summary.ts';

export interface Night {
  run: number;
  /** ISO time the run began. */
  at: string;
}

/** passed; flaky: passed on Playwright's retry; failed: the final attempt did not pass. */
export type NightStatus = 'passed' | 'flaky' | 'failed' | 'skipped';

export interface NightCell {
  run: number;
  scenario: string;
  rig: string;
  status: NightStatus;
  class: string | null;
  error: string | null;
}

export interface MeasurementLimits {
  scenario: string;
  rig: string;
  name: string;
  unit: string;
  min: number | null;
  max: number | null;
}

export interface Nights {
  nights: Night[];
  cells: NightCell[];
  limits: MeasurementLimits[];
}

const NIGHTS = `
SELECT id::text AS run, to_char(started AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at
FROM runs ORDER BY started DESC, id DESC LIMIT ${WINDOW_RUNS}`;

// As summary.ts's PER_SCENARIO: a run passed a scenario when every repeat's final attempt passed.
const CELLS = `
WITH attempts AS (
  SELECT r.run, r.scenario, r.rig, r.status, r.class, r.error, r.repeat, r.attempt,
    row_number() OVER (PARTITION BY r.run, r.scenario, r.rig, r.repeat ORDER BY r.attempt DESC) AS from_last
  FROM results r WHERE r.run = ANY($1::bigint[]))
SELECT run::text AS run, scenario, rig,
  bool_and(status IN ('passed', 'skipped')) FILTER (WHERE from_last = 1) AS passed,
  bool_or(status NOT IN ('passed', 'skipped')) AS any_failed,
  bool_and(status = 'skipped') AS skipped,
  (array_agg(class ORDER BY repeat DESC, attempt DESC) FILTER (WHERE status NOT IN ('passed', 'skipped')))[1] AS class,
  (array_agg(error ORDER BY repeat DESC, attempt DESC) FILTER (WHERE status NOT IN ('passed', 'skipped')))[1] AS error
FROM attempts GROUP BY run, scenario, rig ORDER BY scenario, rig, run`;

const LIMITS = `
SELECT DISTINCT ON (m.scenario, m.rig, m.name, m.unit) m.scenario, m.rig, m.name, m.unit, m.min, m.max
FROM measurements m JOIN runs ru ON ru.id = m.run
ORDER BY m.scenario, m.rig, m.name, m.unit, ru.started DESC, m.run DESC`;

export async function nightsOf(sql: Sql): Promise<Nights> {
  const nights = (await sql.query<{ run: string; at: string }>(NIGHTS)).map((n) => ({ run: Number(n.run), at: n.at })).reverse();
  const rows = await sql.query<{ run: string; scenario: string; rig: string; passed: boolean; any_failed: boolean; skipped: boolean; class: string | null; error: string | null }>(
    CELLS, [nights.map((n) => String(n.run))]);
  const cells = rows.map((r): NightCell => ({
    run: Number(r.run), scenario: r.scenario, rig: r.rig,
    status: r.skipped ? 'skipped' : r.passed ? (r.any_failed ? 'flaky' : 'passed') : 'failed',
    class: r.passed ? null : r.class, error: r.passed ? null : r.error,
  }));
  const limits = (await sql.query<{ scenario: string; rig: string; name: string; unit: string; min: number | null; max: number | null }>(LIMITS))
    .map((l) => ({ ...l, min: l.min === null ? null : Number(l.min), max: l.max === null ? null : Number(l.max) }));
  return { nights, cells, limits };
}

/** When each of these runs began (ISO), for a series' time axis. */
export async function runTimes(sql: Sql, runs: number[]): Promise<Map<number, string>> {
  const rows = await sql.query<{ run: string; at: string }>(
    `SELECT id::text AS run, to_char(started AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM runs WHERE id = ANY($1::bigint[])`,
    [runs.map(String)]);
  return new Map(rows.map((r) => [Number(r.run), r.at]));
}
