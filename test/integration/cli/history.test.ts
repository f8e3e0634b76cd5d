// The run history through the real CLI on the simulated Mac: every `dextbench run` appends to it,
// `dextbench history` summarizes it, `history import` adds a results.json, and a quarantined
// scenario still runs and is reported but does not fail the run. These tests keep a history
// (DEXTBENCH_HISTORY unset: the default .dextbench/history in the run's folder); the other CLI
// tests run with DEXTBENCH_HISTORY=off (test/support/cli.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { localDay } from '../../../harness/history/quarantine.ts';
import { dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';
import { lane, POSTGRES_LANE } from '../../support/lane.ts';
import { writePlaywrightReport } from '../../support/playwright-report.ts';
import { startPostgres, type PostgresServer } from '../../support/postgres.ts';

const project = join(repoRoot, 'test/fixtures/projects/history');
const reproProject = join(repoRoot, 'test/fixtures/projects/repro');
const loadBound = join(project, 'load-bound.yaml');
/** The default store, in the run's folder. */
const withHistory = { DEXTBENCH_HISTORY: '' };
const skipPostgres = lane('PostgreSQL server', POSTGRES_LANE);

async function historyJson(cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = withHistory) {
  const r = await dextbench(['history', '--json', ...args], { cwd, env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout);
}

test('two runs are two runs in `dextbench history --json`; history import adds a results.json as a third', async () => {
  const cwd = scratchDir();
  const first = await dextbench(['run', '--reporter', 'list', project], { cwd, env: withHistory });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /dextbench: run 1 added to the history \(\S+\/\.dextbench\/history\)/);
  const second = await dextbench(['run', '--reporter', 'list', '--var', 'LOAD=20', project], { cwd, env: withHistory });
  assert.equal(second.code, 1, second.stdout + second.stderr);

  const summary = await historyJson(cwd);
  const failedAt = summary.scenarios[0]?.lastFailure?.at;
  assert.deepEqual(summary.runs.map((r: { run: number }) => r.run), [1, 2]);
  assert.deepEqual({ scenarios: summary.scenarios, measurements: summary.measurements }, {
    scenarios: [
      { scenario: 'history load bound', rig: 'sim', runs: 2, passRate: 0.5, flakeScore: 0.5,
        lastFailure: { run: 2, at: failedAt, status: 'failed', class: 'product', error: 'load = 20 MB/s, above max 10 MB/s' } },
      { scenario: 'history steady', rig: 'sim', runs: 2, passRate: 1, flakeScore: 0, lastFailure: null },
    ],
    measurements: [
      { name: 'load', unit: 'MB/s', scenario: 'history load bound', rig: 'sim', values: [{ run: 1, value: 5 }, { run: 2, value: 20 }], regression: false },
      { name: 'settle', unit: 'ms', scenario: 'history steady', rig: 'sim', values: [{ run: 1, value: 12 }, { run: 2, value: 12 }], regression: false },
    ],
  });
  assert.match(failedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const table = await dextbench(['history'], { cwd, env: withHistory });
  assert.match(table.stdout, /^history load bound +sim +2 +50% +0\.50 +run 2 \S+ \[product\]: load = 20 MB\/s, above max 10 MB\/s$/m);

  // A nightly's results.json from elsewhere (CI's merged report), an hour after those runs.
  const report = writePlaywrightReport(new Date(Date.now() + 3_600_000), [
    { scenario: 'history steady', attempts: [{ status: 'timedOut', class: 'infrastructure', error: 'sim did not answer within 30s', measurements: [{ name: 'settle', value: 40, unit: 'ms' }] }] },
  ]);
  const imported = await dextbench(['history', 'import', report], { cwd, env: withHistory });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  assert.match(imported.stdout, /^imported \S+results\.json as run 3: 1 results, 1 measurements/m);
  const steady = await historyJson(cwd, ['--scenario', 'history steady']);
  assert.deepEqual(steady.scenarios.map((s: { runs: number; passRate: number; lastFailure: { run: number; class: string } }) => [s.runs, s.passRate, s.lastFailure.run, s.lastFailure.class]),
    [[3, 0.667, 3, 'infrastructure']]);
  assert.deepEqual(steady.measurements[0].values.map((v: { value: number }) => v.value), [12, 12, 40]);

  const notAReport = await dextbench(['history', 'import', join(project, 'steady.yaml')], { cwd, env: withHistory });
  assert.notEqual(notAReport.code, 0);
  assert.match(notAReport.stderr, /steady\.yaml: not a Playwright JSON report/);
  assert.doesNotMatch(notAReport.stderr, /^\s+at /m, 'one line, no stack');
});

/** What rig/manifest.ts hashes: a bundle folder's files, each as its relative path, size and bytes. */
const sha256OfInfoPlistBundle = (dext: string) => {
  const bytes = readFileSync(join(dext, 'Info.plist'));
  return createHash('sha256').update(`Info.plist\0${bytes.length}\0`).update(bytes).digest('hex');
};

test('each run records the project\'s commit (git, or CI\'s GITHUB_SHA) and the builds of its extensions; `history --json` lists them per run', async () => {
  const cwd = scratchDir();
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd }).toString().trim();
  git('init', '-q');
  git('commit', '-q', '--allow-empty', '-m', 'the project');
  const head = git('rev-parse', 'HEAD');
  const passes = join(reproProject, 'passes.yaml');
  const first = await dextbench(['run', '--rig', join(reproProject, 'rigs/sim-repro.yaml'), passes], { cwd, env: withHistory });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  // Two rigs with different builds of the echo driver: the run keeps both, by rig.
  const sha = 'a'.repeat(40);
  const second = await dextbench(['run', '--rig', join(reproProject, 'rigs/sim-repro.yaml'), '--rig', join(reproProject, 'rigs/sim-repro-v11.yaml'), passes],
    { cwd, env: { ...withHistory, GITHUB_SHA: sha } });
  assert.equal(second.code, 0, second.stdout + second.stderr);

  const v10 = { version: '1.0.0/1', sha256: sha256OfInfoPlistBundle(join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')) };
  const v11 = { version: '1.1.0/2', sha256: sha256OfInfoPlistBundle(join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.1.0.dext')) };
  const { runs } = await historyJson(cwd);
  assert.deepEqual(runs.map(({ started, ended, source, ...r }: { started: string; ended: string; source: string }) => {
    assert.match(started, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(ended >= started);
    assert.equal(source, join(cwd, 'dextbench-report/results.json'));
    return r;
  }), [
    { run: 1, commit: head, dextVersions: { 'com.example.echo.driver': v10 }, rig: 'sim-repro' },
    { run: 2, commit: sha, dextVersions: { 'com.example.echo.driver@sim-repro': v10, 'com.example.echo.driver@sim-repro-v11': v11 }, rig: 'sim-repro, sim-repro-v11' },
  ]);
  assert.deepEqual((await historyJson(cwd, ['--rig', 'sim-repro-v11'])).runs.map((r: { run: number }) => r.run), [2], 'only the runs of the filtered rig');

  // Outside a git checkout: no commit, no complaint; the builds come from the report's annotations.
  const elsewhere = scratchDir();
  const imported = await dextbench(['history', 'import', join(cwd, 'dextbench-report/results.json')], { cwd: elsewhere, env: withHistory });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  const third = await dextbench(['run', '--rig', join(reproProject, 'rigs/sim-repro.yaml'), passes], { cwd: elsewhere, env: withHistory });
  assert.equal(third.code, 0, third.stdout + third.stderr);
  assert.doesNotMatch(third.stdout + third.stderr, /not a git repository|fatal:/);
  assert.deepEqual((await historyJson(elsewhere)).runs.map((r: { commit: string | null; dextVersions: object }) => [r.commit, r.dextVersions]), [
    [null, { 'com.example.echo.driver@sim-repro': v10, 'com.example.echo.driver@sim-repro-v11': v11 }],
    [null, { 'com.example.echo.driver': v10 }],
  ]);
});

test('history import of a run\'s blob report folder: its results, measurements and builds arrive once; importing it again, or into the store the run appended to, adds nothing', async () => {
  const cwd = scratchDir();
  const ranInto = { DEXTBENCH_HISTORY: join(cwd, 'run-history') };
  const run = await dextbench(['run', '--reporter', 'list,blob', '--var', 'LOAD=20', project], { cwd, env: ranInto });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.ok(existsSync(join(cwd, 'dextbench-report/blob/report.zip')), 'the blob reporter wrote its report');

  const fresh = { DEXTBENCH_HISTORY: join(cwd, 'imported-history') };
  const imported = await dextbench(['history', 'import', 'dextbench-report/blob'], { cwd, env: fresh });
  assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  assert.equal(imported.stdout.trim(), `imported dextbench-report/blob as run 1: 2 results, 2 measurements (${fresh.DEXTBENCH_HISTORY})`);
  const [asRun, asImported] = [await historyJson(cwd, [], ranInto), await historyJson(cwd, [], fresh)];
  assert.deepEqual(asImported.scenarios.map((s: { scenario: string; runs: number; lastFailure: { class: string; error: string } | null }) => [s.scenario, s.runs, s.lastFailure?.class, s.lastFailure?.error]), [
    ['history load bound', 1, 'product', 'load = 20 MB/s, above max 10 MB/s'],
    ['history steady', 1, undefined, undefined],
  ]);
  assert.deepEqual(asImported.scenarios, asRun.scenarios, 'the blob holds what the run recorded');
  assert.deepEqual(asImported.measurements, asRun.measurements);
  assert.deepEqual(asImported.measurements.map((m: { name: string; values: { value: number }[] }) => [m.name, m.values.map((v) => v.value)]), [['load', [20]], ['settle', [12]]]);
  assert.deepEqual(asImported.runs[0].dextVersions, asRun.runs[0].dextVersions);
  assert.ok(Object.keys(asImported.runs[0].dextVersions).includes('com.example.echo.driver'), JSON.stringify(asImported.runs[0]));
  assert.equal(asImported.runs[0].started, asRun.runs[0].started);
  assert.equal(asImported.runs[0].source, join(cwd, 'dextbench-report/blob'));

  const again = await dextbench(['history', 'import', 'dextbench-report/blob'], { cwd, env: fresh });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(again.stdout.trim(), `dextbench-report/blob is already in the history as run 1: not imported again (${fresh.DEXTBENCH_HISTORY})`);
  assert.deepEqual((await historyJson(cwd, [], fresh)).scenarios.map((s: { runs: number }) => s.runs), [1, 1], 'not doubled');
  // CI importing the blob into the store the run already appended itself to.
  const intoOwn = await dextbench(['history', 'import', 'dextbench-report/blob'], { cwd, env: ranInto });
  assert.match(intoOwn.stdout, /^dextbench-report\/blob is already in the history as run 1: not imported again/m);
  assert.deepEqual((await historyJson(cwd, [], ranInto)).runs.map((r: { run: number }) => r.run), [1]);

  const notABlob = await dextbench(['history', 'import', join(cwd, 'dextbench-report')], { cwd, env: fresh });
  assert.notEqual(notABlob.code, 0);
  assert.match(notABlob.stderr, /dextbench-report: not a blob report folder Playwright can merge/);
  assert.doesNotMatch(notABlob.stderr, /^\s+at /m, 'one line, no stack');
});

test('a quarantined scenario runs and is reported, but its failure does not fail the run; --remove restores the failure', async () => {
  const cwd = scratchDir();
  const until = localDay(new Date(Date.now() + 2 * 86_400_000));
  const add = await dextbench(['history', 'quarantine', 'history load bound', '--owner', 'alice', '--until', until, '--why', 'meter recalibration'], { cwd, env: withHistory });
  assert.equal(add.code, 0, add.stdout + add.stderr);
  const listed = await dextbench(['history', 'quarantine'], { cwd, env: withHistory });
  assert.equal(listed.stdout.trim(), `history load bound: quarantined by alice until ${until} (meter recalibration)`);

  const quarantined = await dextbench(['run', '--reporter', 'list', '--var', 'LOAD=20', loadBound], { cwd, env: withHistory });
  assert.equal(quarantined.code, 0, quarantined.stdout + quarantined.stderr);
  assert.match(quarantined.stdout, /✘ .*history load bound/, 'it still ran, and failed');
  assert.match(quarantined.stdout,
    new RegExp(`^dextbench: "history load bound" failed on rig sim, but it is quarantined by alice until ${until} \\(meter recalibration\\): the run does not fail for it$`, 'm'));
  assert.deepEqual(readJsonReport(cwd)[0]!.annotations.filter((a) => a.type === 'dextbench.quarantined').map(({ type, description }) => ({ type, description })),
    [{ type: 'dextbench.quarantined', description: `quarantined by alice until ${until} (meter recalibration)` }]);

  const remove = await dextbench(['history', 'quarantine', 'history load bound', '--remove'], { cwd, env: withHistory });
  assert.equal(remove.code, 0, remove.stdout + remove.stderr);
  assert.match(remove.stdout, /history load bound: no longer quarantined/);
  const failing = await dextbench(['run', '--reporter', 'list', '--var', 'LOAD=20', loadBound], { cwd, env: withHistory });
  assert.equal(failing.code, 1, failing.stdout + failing.stderr);
  assert.doesNotMatch(failing.stdout, /quarantined/);
  // Both failures are in the history, quarantined or not.
  assert.deepEqual((await historyJson(cwd)).scenarios.map((s: { runs: number; passRate: number }) => [s.runs, s.passRate]), [[2, 0]]);

  const past = await dextbench(['history', 'quarantine', 'history load bound', '--owner', 'alice', '--until', '2020-01-31'], { cwd, env: withHistory });
  assert.notEqual(past.code, 0);
  assert.match(past.stderr, /--until 2020-01-31 is in the past \(today is \d{4}-\d\d-\d\d\)/);
  const noOwner = await dextbench(['history', 'quarantine', 'history load bound', '--until', until], { cwd, env: withHistory });
  assert.match(noOwner.stderr, /quarantine needs --owner/);
});

test('DEXTBENCH_HISTORY=off (the other CLI tests): a run keeps no history, and `dextbench history` says it is off', async () => {
  const cwd = scratchDir();
  const run = await dextbench(['run', '--reporter', 'list', join(project, 'steady.yaml')], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /added to the history/);
  assert.equal(existsSync(join(cwd, '.dextbench/history')), false);
  const history = await dextbench(['history'], { cwd });
  assert.notEqual(history.code, 0);
  assert.match(history.stderr, /the history is off \(--history off or DEXTBENCH_HISTORY=off\)/);
});

describe('a PostgreSQL server as the history (--history postgres://…)', { skip: skipPostgres }, () => {
  let server: PostgresServer | undefined;
  before(async () => { server = await startPostgres(); });
  after(() => server?.stop());

  test('the run is appended to the server, and `dextbench history` reads it from there', async () => {
    const url = await server!.createDatabase('cli_history');
    const cwd = scratchDir();
    const run = await dextbench(['run', '--reporter', 'list', '--history', url, join(project, 'steady.yaml')], { cwd });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`run 1 added to the history \\(postgres://postgres@127\\.0\\.0\\.1:${server!.port}/cli_history\\)`));
    assert.equal(existsSync(join(cwd, '.dextbench/history')), false, 'nothing embedded');
    const summary = await historyJson(cwd, [], { DEXTBENCH_HISTORY: url });
    assert.deepEqual(summary.scenarios.map((s: { scenario: string; runs: number }) => [s.scenario, s.runs]), [['history steady', 1]]);
  });
});
