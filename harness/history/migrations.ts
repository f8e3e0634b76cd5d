// The history's schema: numbered plain-SQL migrations, one list for both stores (PGlite speaks the
// PostgreSQL server's SQL). A store applies the ones it lacks, each in a transaction together with
// its schema_version row, so a store is never left half migrated. Append new ones; never edit one
// that has shipped.
export interface Migration {
  version: number;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        id bigserial PRIMARY KEY,
        commit text,
        dext_versions jsonb NOT NULL DEFAULT '{}',
        rig text NOT NULL,
        started timestamptz NOT NULL,
        ended timestamptz NOT NULL,
        source text
      );
      CREATE TABLE results (
        run bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        scenario text NOT NULL,
        file text NOT NULL,
        rig text NOT NULL,
        repeat integer NOT NULL,
        attempt integer NOT NULL,
        status text NOT NULL,
        class text,
        duration_ms double precision NOT NULL,
        error text,
        PRIMARY KEY (run, scenario, rig, repeat, attempt)
      );
      CREATE INDEX results_by_scenario ON results (scenario, rig, run);
      CREATE TABLE measurements (
        run bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        scenario text NOT NULL,
        rig text NOT NULL,
        name text NOT NULL,
        unit text NOT NULL DEFAULT '',
        value double precision NOT NULL,
        min double precision,
        max double precision
      );
      CREATE INDEX measurements_by_series ON measurements (scenario, rig, name, unit, run);
      CREATE TABLE quarantine (
        scenario text PRIMARY KEY,
        owner text NOT NULL,
        until date NOT NULL,
        why text,
        added timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    // A run's identity (report.ts runKey): the same report imported twice, or a run's own report
    // imported after the run appended it, is one run. Runs from before it have none.
    version: 2,
    sql: `
      ALTER TABLE runs ADD COLUMN key text;
      CREATE UNIQUE INDEX runs_by_key ON runs (key);`,
  },
];

/** The highest version this dextbench knows. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
