// A real PostgreSQL server for a test file (the history's server store): initdb and pg_ctl from
// Debian's postgresql package (/usr/lib/postgresql/<version>/bin, not on PATH) in a temp folder, on
// a free port of 127.0.0.1, trust logins for the `postgres` role. The server refuses to run as root,
// so as root (these machines run the tests as root) it runs as nobody, in a folder nobody owns.
// Lane: POSTGRES_LANE (test/support/lane.ts). Start it in before(), stop it in after():
//
//   before(async () => { server = await startPostgres(); });
//   after(() => server?.stop());
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { tempDir } from './temp.ts';

const POSTGRES_LIB = '/usr/lib/postgresql';
/** initdb, start and stop each; pg_ctl's own -t is a little shorter, so its message comes first. */
const COMMAND_DEADLINE_MS = 60_000;
const PG_CTL_WAIT_S = 45;
const RUN_AS = 'nobody';

export interface PostgresServer {
  port: number;
  /** A new, empty database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest installed major version's bin folder, or undefined. */
export function postgresBin(): string | undefined {
  let versions: string[];
  try { versions = readdirSync(POSTGRES_LIB); } catch { return undefined; }
  return versions.filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a))
    .map((v) => join(POSTGRES_LIB, v, 'bin')).find((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl')));
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) throw new Error(`no initdb and pg_ctl under ${POSTGRES_LIB}/<version>/bin: apt-get install postgresql`);
  const asRoot = process.getuid?.() === 0;
  const dir = tempDir('dextbench-pg-');
  if (asRoot) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(spawnSync('id', [flag, RUN_AS], { encoding: 'utf8', timeout: 5000 }).stdout.trim()));
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`running as root, and there is no user ${RUN_AS} to run PostgreSQL as`);
    chownSync(dir, uid!, gid!);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const run = (tool: string, args: string[]): void => {
    const argv = asRoot ? ['runuser', '-u', RUN_AS, '--', join(bin, tool), ...args] : [join(bin, tool), ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: 'utf8', timeout: COMMAND_DEADLINE_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      const logTail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      throw new Error(`${argv.join(' ')} ${r.error ? `failed: ${r.error.message}` : `exited ${r.status}`}\n${r.stdout}${r.stderr}${logTail}`);
    }
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  // The socket goes in the temp folder too (the default /var/run/postgresql is root's); fsync off: a test's database.
  run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', String(PG_CTL_WAIT_S), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  let running = true;
  const stopNow = (mode: 'fast' | 'immediate') => {
    if (!running) return;
    running = false;
    run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', String(PG_CTL_WAIT_S), 'stop']);
  };
  // A test file that dies before its after() still leaves no server behind.
  const onExit = () => { try { stopNow('immediate'); } catch { /* exiting anyway */ } };
  process.on('exit', onExit);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 10_000 });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      process.off('exit', onExit);
      stopNow('fast');
    },
  };
}

/** A port nobody listens on now (the kernel's pick); the server binds it a moment later. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
