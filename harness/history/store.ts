// Where the run history lives: an embedded PGlite store (WASM PostgreSQL, no native build; the
// default, a folder under .dextbench/history/) or a PostgreSQL server (`--history postgres://…` or
// DEXTBENCH_HISTORY). Both speak the same SQL, so one schema, one set of migrations and one set of
// queries serve both (README.md beside this file: why PGlite, by measurement).
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pollUntil } from '../common/time.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface HistoryStore extends Sql {
  /** For messages: the folder, or the server URL without its password. */
  readonly where: string;
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type HistoryTarget = { kind: 'embedded'; dir: string } | { kind: 'postgres'; url: string } | { kind: 'off' };

export const DEFAULT_HISTORY_DIR = '.dextbench/history';
export const HISTORY_ENV = 'DEXTBENCH_HISTORY';

/**
 * `--history` wins over DEXTBENCH_HISTORY; `postgres://` and `postgresql://` URLs name a server,
 * `off` keeps no history, anything else is the embedded store's folder (relative to the project).
 */
export function historyTarget(option: string | undefined, env: NodeJS.ProcessEnv, projectDir: string): HistoryTarget {
  const value = option ?? env[HISTORY_ENV] ?? '';
  if (value === 'off') return { kind: 'off' };
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value };
  return { kind: 'embedded', dir: resolve(projectDir, value || DEFAULT_HISTORY_DIR) };
}

/** Opens the store and brings its schema up to date. */
export async function openHistory(target: Exclude<HistoryTarget, { kind: 'off' }>): Promise<HistoryStore> {
  const store = target.kind === 'postgres' ? await openServer(target.url) : await openEmbedded(target.dir);
  try {
    await migrate(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

async function migrate(store: HistoryStore): Promise<void> {
  await store.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())');
  const [row] = await store.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_version');
  const current = row?.version ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`history ${store.where} has schema version ${current}, newer than this dextbench knows (${SCHEMA_VERSION}): upgrade dextbench`);
  }
  for (const migration of MIGRATIONS.filter((m) => m.version > current)) {
    await store.transaction(async (sql) => {
      // Two processes migrating one server at once: the second waits here and finds the row.
      await sql.query('LOCK TABLE schema_version IN EXCLUSIVE MODE');
      const [done] = await sql.query('SELECT 1 FROM schema_version WHERE version = $1', [migration.version]);
      if (done) return;
      for (const statement of migration.sql.split(';').map((s) => s.trim()).filter(Boolean)) await sql.query(statement);
      await sql.query('INSERT INTO schema_version (version) VALUES ($1)', [migration.version]);
    });
  }
}

async function openServer(url: string): Promise<HistoryStore> {
  const where = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`history: cannot reach PostgreSQL at ${where}: ${(error as Error).message}`);
  }
  const query: Sql['query'] = async (text, params) => (await client.query(text, params as unknown[])).rows;
  return {
    where, query,
    async transaction(work) {
      await client.query('BEGIN');
      try {
        const result = await work({ query });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    close: () => client.end(),
  };
}

/** How long a run waits for another process to finish with the embedded store. */
const LOCK_WAIT_MS = 120_000;

/**
 * PGlite is one process's database: two processes opening one folder would corrupt it, so the
 * folder is held by a lock (a directory, made atomically, holding the owner's pid) while open.
 */
async function openEmbedded(dir: string): Promise<HistoryStore> {
  mkdirSync(dirname(dir), { recursive: true });
  const release = await lockFolder(`${dir}.lock`);
  let db: PGlite;
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) await createStore(dir);
    db = await PGlite.create(dir);
  } catch (error) {
    release();
    throw new Error(`history: cannot open the store in ${dir}: ${(error as Error).message}`);
  }
  const query: Sql['query'] = async (text, params) => (await db.query(text, params)).rows as never;
  return {
    where: dir, query,
    transaction: (work) => db.transaction((tx) => work({ query: async (text, params) => (await tx.query(text, params)).rows as never })),
    async close() {
      try { await db.close(); } finally { release(); }
    },
  };
}

async function lockFolder(lock: string): Promise<() => void> {
  await pollUntil(async () => {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return { value: true, seen: undefined };
    } catch {
      const owner = Number(readText(join(lock, 'pid')));
      // A holder that died leaves its lock behind; a pid not yet written is a holder just starting.
      if (owner && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      return { seen: owner || undefined };
    }
  }, { timeoutMs: LOCK_WAIT_MS, intervalMs: 50, describe: (owner) => `history store ${lock.replace(/\.lock$/, '')} is still in use by process ${owner ?? '?'} after ${LOCK_WAIT_MS / 1000} s (remove ${lock} if that process is gone)` });
  return () => rmSync(lock, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM'; }
}

function readText(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

// A new PGlite store runs initdb in WASM, 5-13 s on this project's 2-core machines; a copy of an
// empty store made once per machine (a cold copy of a cleanly shut down data folder) takes well
// under a second. Keyed by PGlite's version, since its on-disk format follows it.
function templateDir(): string {
  // Its exports hide package.json: found from the entry point, which is in its dist/.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const version = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  const cache = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cache, 'dextbench', `pglite-${version}-empty`);
}

/** A new, empty store in `dir`: a copy of the template, or initdb (which then becomes the template). */
async function createStore(dir: string): Promise<void> {
  const template = templateDir();
  if (existsSync(join(template, 'PG_VERSION'))) {
    cpSync(template, dir, { recursive: true });
    return;
  }
  await (await PGlite.create(dir)).close();
  // Copied under a name of its own and renamed: another process never sees half a template.
  const partial = `${template}.${process.pid}`;
  try {
    mkdirSync(dirname(template), { recursive: true });
    cpSync(dir, partial, { recursive: true });
    renameSync(partial, template);
  } catch {
    // Another process saved one first, or the cache is not writable: only a speed-up is lost.
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
