// The run history's store, one suite run against both stores: the embedded PGlite folder and a real
// PostgreSQL server (POSTGRES_LANE). Runs go in as Playwright would report them (results.json, read
// by harness/history/report.ts), and the summary is what `dextbench history` shows.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../harness/history/migrations.ts';
import { activeQuarantine, describeQuarantine, quarantine, unquarantine } from '../../../harness/history/quarantine.ts';
import { appendRun } from '../../../harness/history/record.ts';
import { readReport } from '../../../harness/history/report.ts';
import { openHistory, type HistoryStore, type HistoryTarget } from '../../../harness/history/store.ts';
import { summarize } from '../../../harness/history/summary.ts';
import { lane, POSTGRES_LANE } from '../../support/lane.ts';
import { writePlaywrightReport, type TestSpec } from '../../support/playwright-report.ts';
import { startPostgres, type PostgresServer } from '../../support/postgres.ts';
import { tempDir } from '../../support/temp.ts';

type StoreTarget = Exclude<HistoryTarget, { kind: 'off' }>;

const skipPostgres = lane('PostgreSQL server', POSTGRES_LANE);

/** Night `n` of the history (runs are ordered by their start). */
const night = (n: number) => new Date(Date.UTC(2026, 0, 1, 2, 0, 0) + n * 86_400_000);

async function record(store: HistoryStore, n: number, tests: TestSpec[]): Promise<number> {
  return (await appendRun(store, readReport(writePlaywrightReport(night(n), tests)))).id;
}

const pass = { status: 'passed' } as const;
const fail = (error = 'echo was not matched within 300ms') => ({ status: 'failed', class: 'product', error }) as const;

function storeSuite(newTarget: () => Promise<StoreTarget>): void {
  const opened: HistoryStore[] = [];
  const open = async (target: StoreTarget) => {
    const store = await openHistory(target);
    opened.push(store);
    return store;
  };
  // Each test's stores closed after it (before the server's own after() stops it).
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  });

  test('migrations apply once, each recorded in schema_version; a second open applies none and keeps the runs', async () => {
    const target = await newTarget();
    const first = await open(target);
    const versions = await first.query<{ version: number; applied: Date }>('SELECT version, applied FROM schema_version ORDER BY version');
    assert.deepEqual(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version));
    const tables = await first.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`);
    assert.deepEqual(tables.map((t) => t.table_name), ['measurements', 'quarantine', 'results', 'runs', 'schema_version']);
    const id = await record(first, 0, [{ scenario: 'kept', attempts: [pass] }]);
    await first.close();

    const second = await open(target);
    const again = await second.query<{ version: number; applied: Date }>('SELECT version, applied FROM schema_version ORDER BY version');
    assert.deepEqual(again, versions, 'the second open applied nothing');
    assert.deepEqual(await second.query('SELECT id::int AS id FROM runs'), [{ id }]);

    // A store a newer dextbench migrated is refused, not written with the old schema.
    await second.query('INSERT INTO schema_version (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
    await second.close();
    await assert.rejects(openHistory(target), new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this dextbench knows \\(${SCHEMA_VERSION}\\): upgrade dextbench`));
  });

  test('pass rate over the last 30 runs (a pass on Playwright\'s retry counts), flake score and the last failure', async () => {
    const store = await open(await newTarget());
    const ids: number[] = [];
    for (let n = 1; n <= 32; n++) {
      // Runs 1 and 2 failed (outside the window), run 10 failed, run 20 failed then passed on its retry.
      const attempts = n <= 2 || n === 10 ? [fail(`failure of run ${n}`)] : n === 20 ? [{ status: 'failed', class: 'infrastructure', error: 'hub1 port 2 did not answer' } as const, pass] : [pass];
      ids[n] = await record(store, n, [{ scenario: 'echo', attempts }, { scenario: 'steady', attempts: [pass] }]);
    }
    const { scenarios } = await summarize(store);
    assert.deepEqual(scenarios, [
      {
        scenario: 'echo', rig: 'sim', runs: 30,
        passRate: 0.967, // 29 of runs 3..32
        flakeScore: 0.1, // (2 flips around run 10 + 1 flaky) / 30
        lastFailure: { run: ids[20], at: '2026-01-21T02:00:00Z', status: 'failed', class: 'infrastructure', error: 'hub1 port 2 did not answer' },
      },
      { scenario: 'steady', rig: 'sim', runs: 30, passRate: 1, flakeScore: 0, lastFailure: null },
    ]);
    assert.deepEqual((await summarize(store, { scenario: 'steady' })).scenarios.map((s) => s.scenario), ['steady']);
  });

  test('flake score PPFFF is 0.2 per scenario × rig; skipped runs do not count; the last failure keeps its class and first line', async () => {
    const store = await open(await newTarget());
    const sequence = ['P', 'P', 'S', 'F', 'F', 'F'];
    for (const [n, letter] of sequence.entries()) {
      const onB = letter === 'P' ? [pass] : letter === 'S' ? [{ status: 'skipped' } as const] : [fail(`night ${n}: io error after 5 MiB`)];
      await record(store, n, [{ scenario: 'io', rig: 'mac-a', attempts: [pass] }, { scenario: 'io', rig: 'mac-b', attempts: onB }]);
    }
    const { scenarios } = await summarize(store);
    assert.deepEqual(scenarios.map(({ lastFailure, ...s }) => ({ ...s, lastError: lastFailure?.error ?? null, lastClass: lastFailure?.class ?? null })), [
      { scenario: 'io', rig: 'mac-a', runs: 6, passRate: 1, flakeScore: 0, lastError: null, lastClass: null },
      { scenario: 'io', rig: 'mac-b', runs: 5, passRate: 0.4, flakeScore: 0.2, lastError: 'night 5: io error after 5 MiB', lastClass: 'product' },
    ]);
    assert.deepEqual((await summarize(store, { rig: 'mac-b' })).scenarios.map((s) => s.rig), ['mac-b']);
  });

  test('measurement series (last 30 runs, a run\'s mean) and the regression flag against mean ± 3σ of the 14 runs before', async () => {
    const store = await open(await newTarget());
    const tight = (n: number) => (n % 2 ? 99 : 101);
    const LAST = 36;
    for (let n = 0; n <= LAST; n++) {
      const isLast = n === LAST;
      const measured = (name: string, value: number) => ({ name, value, unit: 'ms', min: 0, max: 2000 });
      const tests: TestSpec[] = [
        // Far outside 100 ± 3: a regression.
        { scenario: 'jump', attempts: [{ status: 'passed', measurements: [measured('settle', isLast ? 120 : tight(n))] }] },
        // Inside the band: none.
        { scenario: 'steady', attempts: [{ status: 'passed', measurements: [measured('settle', isLast ? 100.5 : tight(n))] }] },
        // Wild before the 14 runs before the last, tight within them: only those 14 make the band.
        { scenario: 'banded', attempts: [{ status: 'passed', measurements: [measured('settle', isLast ? 110 : n < LAST - 14 ? (n % 2 ? 0 : 1000) : tight(n))] }] },
        // From a measure: annotation (scene.ts writes `value unit`).
        { scenario: 'annotated', attempts: [{ status: 'passed', measureAnnotations: { rate: `${isLast ? 12.5 : 20} MB/s` } }] },
      ];
      // Four runs before its last: too few for a band, however far the last value lies.
      if (n >= LAST - 4) tests.push({ scenario: 'young', attempts: [{ status: 'passed', measurements: isLast ? [measured('settle', 1000), measured('settle', 1002)] : [measured('settle', 10)] }] });
      await record(store, n, tests);
    }
    const { measurements } = await summarize(store);
    const byScenario = new Map(measurements.map((m) => [m.scenario, m]));
    assert.deepEqual(measurements.map((m) => [m.scenario, m.name, m.unit, m.values.length, m.values.at(-1)!.value, m.regression]), [
      ['annotated', 'rate', 'MB/s', 30, 12.5, true],
      ['banded', 'settle', 'ms', 30, 110, true],
      ['jump', 'settle', 'ms', 30, 120, true],
      ['steady', 'settle', 'ms', 30, 100.5, false],
      ['young', 'settle', 'ms', 5, 1001, false],
    ]);
    // The series is the last 30 runs in order, each value with its run.
    const jump = byScenario.get('jump')!;
    const runs = jump.values.map((v) => v.run);
    assert.deepEqual(runs, [...runs].sort((a, b) => a - b));
    assert.deepEqual(jump.values.slice(0, 3).map((v) => v.value), [tight(7), tight(8), tight(9)]);
    assert.deepEqual((await store.query<{ n: number }>('SELECT count(DISTINCT run)::int AS n FROM measurements WHERE scenario = $1', ['jump']))[0]!.n, LAST + 1);
  });

  test('the summary has exactly the --json shape', async () => {
    const store = await open(await newTarget());
    await record(store, 0, [{ scenario: 's', attempts: [{ status: 'failed', class: 'harness', error: 'boom', measurements: [{ name: 'm', value: 1, unit: 'ms' }] }] }]);
    const summary = JSON.parse(JSON.stringify(await summarize(store)));
    assert.deepEqual(Object.keys(summary), ['scenarios', 'measurements']);
    assert.deepEqual(Object.keys(summary.scenarios[0]), ['scenario', 'rig', 'runs', 'passRate', 'flakeScore', 'lastFailure']);
    assert.deepEqual(Object.keys(summary.measurements[0]), ['name', 'unit', 'scenario', 'rig', 'values', 'regression']);
    assert.deepEqual(summary.measurements[0].values, [{ run: summary.scenarios[0].lastFailure.run, value: 1 }]);
  });

  test('quarantine: added with owner and last day, replaced, in force through its last day, lapses after, removed', async () => {
    const store = await open(await newTarget());
    await quarantine(store, { scenario: 'echo', owner: 'alice', until: '2026-03-10', why: null });
    await quarantine(store, { scenario: 'io', owner: 'bob', until: '2026-03-20', why: 'hub 2 flaps' });
    assert.deepEqual(await activeQuarantine(store, '2026-03-10'), [
      { scenario: 'echo', owner: 'alice', until: '2026-03-10', why: null },
      { scenario: 'io', owner: 'bob', until: '2026-03-20', why: 'hub 2 flaps' },
    ]);
    assert.deepEqual((await activeQuarantine(store, '2026-03-11')).map((e) => e.scenario), ['io'], 'echo lapsed after its last day');
    // Quarantined again: the new owner and day replace the old.
    await quarantine(store, { scenario: 'echo', owner: 'carol', until: '2026-03-31', why: null });
    assert.deepEqual((await activeQuarantine(store, '2026-03-11')).map((e) => `${e.scenario}: ${describeQuarantine(e)}`), [
      'echo: quarantined by carol until 2026-03-31',
      'io: quarantined by bob until 2026-03-20 (hub 2 flaps)',
    ]);
    assert.equal(await unquarantine(store, 'io'), true);
    assert.equal(await unquarantine(store, 'io'), false, 'not quarantined any more');
    assert.deepEqual((await activeQuarantine(store, '2026-03-11')).map((e) => e.scenario), ['echo']);
  });
}

describe('embedded store (PGlite folder)', () => {
  storeSuite(async () => ({ kind: 'embedded', dir: `${tempDir('dextbench-history-')}/history` }));
});

describe('PostgreSQL server store', { skip: skipPostgres }, () => {
  let server: PostgresServer | undefined;
  let databases = 0;
  before(async () => { server = await startPostgres(); });
  after(() => server?.stop());
  storeSuite(async () => ({ kind: 'postgres', url: await server!.createDatabase(`history_${++databases}`) }));
});
