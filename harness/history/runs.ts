// The runs themselves, for `dextbench history --json`: which commit and which extension builds each
// run tested, on which rigs, when; the latest WINDOW_RUNS of those that ran the filtered scenarios.
import type { DextVersion } from './report.ts';
import type { Sql } from './store.ts';
import { WINDOW_RUNS, type SummaryFilter } from './summary.ts';

export interface RunSummary {
  run: number;
  commit: string | null;
  dextVersions: Record<string, DextVersion>;
  rig: string;
  started: string;
  ended: string;
  source: string | null;
}

const RUNS = `
WITH latest AS (
  SELECT ru.id, ru.commit, ru.dext_versions, ru.rig, ru.started, ru.ended, ru.source FROM runs ru
  WHERE EXISTS (SELECT 1 FROM results r WHERE r.run = ru.id
    AND ($1::text IS NULL OR r.scenario = $1) AND ($2::text IS NULL OR r.rig = $2))
  ORDER BY ru.started DESC, ru.id DESC LIMIT ${WINDOW_RUNS})
SELECT id::text AS run, commit, dext_versions::text AS dext_versions, rig, source,
  to_char(started AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started,
  to_char(ended AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ended
FROM latest ORDER BY latest.started, latest.id`;

/** Oldest first, as the measurement series are. */
export async function listRuns(sql: Sql, filter: SummaryFilter = {}): Promise<RunSummary[]> {
  const rows = await sql.query<{ run: string; commit: string | null; dext_versions: string; rig: string; started: string; ended: string; source: string | null }>(
    RUNS, [filter.scenario ?? null, filter.rig ?? null]);
  return rows.map((r) => ({
    run: Number(r.run), commit: r.commit, dextVersions: JSON.parse(r.dext_versions) as Record<string, DextVersion>,
    rig: r.rig, started: r.started, ended: r.ended, source: r.source,
  }));
}
