// Quarantine: a scenario (by its name) that still runs and is reported, but whose failure does not
// fail the run, until a date and with an owner (Buildkite's "muted", Datadog's "Quarantined";
// shared/reference/nightly-ops.md §3.2). The entry lapses after its `until` day by itself.
import type { Sql } from './store.ts';

export interface QuarantineEntry {
  scenario: string;
  owner: string;
  /** YYYY-MM-DD, the last day it holds. */
  until: string;
  why: string | null;
}

export async function quarantine(sql: Sql, entry: QuarantineEntry): Promise<void> {
  await sql.query(
    `INSERT INTO quarantine (scenario, owner, until, why) VALUES ($1, $2, $3::date, $4)
     ON CONFLICT (scenario) DO UPDATE SET owner = excluded.owner, until = excluded.until, why = excluded.why, added = now()`,
    [entry.scenario, entry.owner, entry.until, entry.why],
  );
}

/** False when the scenario was not quarantined. */
export async function unquarantine(sql: Sql, scenario: string): Promise<boolean> {
  return (await sql.query('DELETE FROM quarantine WHERE scenario = $1 RETURNING scenario', [scenario])).length > 0;
}

/** The entries in force on `today` (YYYY-MM-DD, the caller's local day). */
export async function activeQuarantine(sql: Sql, today: string): Promise<QuarantineEntry[]> {
  return sql.query<QuarantineEntry>(
    `SELECT scenario, owner, to_char(until, 'YYYY-MM-DD') AS until, why FROM quarantine WHERE until >= $1::date ORDER BY scenario`,
    [today],
  );
}

/** `quarantined by X until Y (why)`: what the list output and the report say. */
export function describeQuarantine(entry: QuarantineEntry): string {
  return `quarantined by ${entry.owner} until ${entry.until}${entry.why ? ` (${entry.why})` : ''}`;
}

/** Today, the local calendar day, as YYYY-MM-DD. */
export function localDay(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
