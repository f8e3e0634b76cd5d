// Appending a run: the run, its results and its measurements in one transaction (a run is in the
// history whole or not at all). Rows go in as arrays through unnest: one statement per table. A run
// already in the history (the same key: the same report again) is not added a second time.
import type { RunRecord } from './report.ts';
import type { HistoryStore } from './store.ts';

/** The run's id; `added` false when a run with its key was there already (nothing was written). */
export async function appendRun(store: HistoryStore, run: RunRecord): Promise<{ id: number; added: boolean }> {
  return store.transaction(async (sql) => {
    const [row] = await sql.query<{ id: string }>(
      `INSERT INTO runs (key, commit, dext_versions, rig, started, ended, source) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (key) DO NOTHING RETURNING id::text AS id`,
      [run.key ?? null, run.commit ?? null, JSON.stringify(run.dextVersions), run.rig, run.started.toISOString(), run.ended.toISOString(), run.source ?? null],
    );
    if (!row) {
      const [existing] = await sql.query<{ id: string }>('SELECT id::text AS id FROM runs WHERE key = $1', [run.key]);
      return { id: Number(existing!.id), added: false };
    }
    const id = row.id;
    const r = run.results;
    if (r.length) {
      await sql.query(
        `INSERT INTO results (run, scenario, file, rig, repeat, attempt, status, class, duration_ms, error)
         SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[], $9::float8[], $10::text[])`,
        [id, r.map((x) => x.scenario), r.map((x) => x.file), r.map((x) => x.rig), r.map((x) => x.repeat), r.map((x) => x.attempt),
          r.map((x) => x.status), r.map((x) => x.class ?? null), r.map((x) => x.durationMs), r.map((x) => x.error ?? null)],
      );
    }
    const m = run.measurements;
    if (m.length) {
      await sql.query(
        `INSERT INTO measurements (run, scenario, rig, name, unit, value, min, max)
         SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[])`,
        [id, m.map((x) => x.scenario), m.map((x) => x.rig), m.map((x) => x.name), m.map((x) => x.unit), m.map((x) => x.value),
          m.map((x) => x.min ?? null), m.map((x) => x.max ?? null)],
      );
    }
    return { id: Number(id), added: true };
  });
}
