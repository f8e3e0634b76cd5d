// The history of a run whose scenario failed on infrastructure on one rig and passed on an
// infrastructure retry on another rig of its class, with another build of the extension: read from
// the run's results.json merged with the retry (retry-merge.ts; what CI imports with `history
// import`), and from the run's own reports as `dextbench run` records them (cli/run-history.ts).
// Either way the passing attempt, its measurement and its build belong to the rig it ran on.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitIgnoringQuarantined, runRecord } from '../../../harness/cli/run-history.ts';
import type { RunConfig } from '../../../harness/engine/run-config.ts';
import { mergeInfraRetries } from '../../../harness/engine/retry-merge.ts';
import { readReport } from '../../../harness/history/report.ts';
import { tempDir } from '../../support/temp.ts';

const BUNDLE = 'com.example.echo.driver';
const V10 = { version: '1.0.0/1', sha256: 'a'.repeat(64) };
const V11 = { version: '1.1.0/2', sha256: 'b'.repeat(64) };
const SCENARIO = 'echo survives hotplug';
const SCENARIO_FILE = 'scenarios/echo-hotplug.yaml';
const START = '2026-12-02T02:00:00.000Z';

interface Attempt { status: 'passed' | 'failed'; build: typeof V10; settleMs: number; infrastructure?: string }

/** A result as Playwright 1.65's JSON reporter writes it, with the annotations the engine adds. */
function result(a: Attempt, retry: number) {
  const error = a.infrastructure ? { message: `Error: [infrastructure] ${a.infrastructure}` } : undefined;
  return {
    workerIndex: 0, parallelIndex: 0, status: a.status, duration: 1200, retry, startTime: START,
    ...(error ? { error } : {}), errors: error ? [error] : [], stdout: [], stderr: [],
    annotations: [
      { type: 'dextbench.extension', description: `${BUNDLE} ${a.build.version} sha256:${a.build.sha256}` },
      { type: 'measure:settle', description: `${a.settleMs} ms` },
      ...(a.infrastructure ? [{ type: 'dextbench.class', description: 'infrastructure' }] : []),
    ],
    attachments: [],
  };
}

/** results.json of a run of the one scenario on these rigs; a test's annotations are its last attempt's, as Playwright copies them. */
function report(rootDir: string, onRigs: Record<string, Attempt[]>): object {
  const tests = Object.entries(onRigs).map(([rig, attempts]) => {
    const results = attempts.map(result);
    const passed = attempts.at(-1)!.status === 'passed';
    return {
      timeout: 60000, annotations: results.at(-1)!.annotations, expectedStatus: 'passed', projectId: rig, projectName: rig, results,
      status: passed ? (attempts.length > 1 ? 'flaky' : 'expected') : 'unexpected',
    };
  });
  return {
    config: { rootDir, metadata: {} },
    suites: [{ title: SCENARIO_FILE, file: SCENARIO_FILE, line: 0, column: 0, specs: [{ title: SCENARIO, ok: true, tags: [], id: 'x', file: SCENARIO_FILE, line: 1, column: 1, tests }] }],
    errors: [],
    stats: { startTime: START, duration: 5000, expected: 0, unexpected: 1, flaky: 0, skipped: 0 },
  };
}

const failedOnA: Attempt = { status: 'failed', build: V10, settleMs: 40, infrastructure: 'hub1 port 2 did not answer' };
const passedOnB: Attempt = { status: 'passed', build: V11, settleMs: 11 };

/** The run's report folder: mac-a's infrastructure failure in results.json, mac-b's pass in infra-retry-1/. */
function runReports(mainRigs: Record<string, Attempt[]>): { rootDir: string; reportDir: string } {
  const rootDir = tempDir('dextbench-infra-history-');
  const reportDir = join(rootDir, 'dextbench-report');
  mkdirSync(join(reportDir, 'infra-retry-1'), { recursive: true });
  writeFileSync(join(reportDir, 'results.json'), JSON.stringify(report(rootDir, mainRigs), null, 2));
  writeFileSync(join(reportDir, 'infra-retry-1', 'results.json'), JSON.stringify(report(rootDir, { 'mac-b': [passedOnB] }), null, 2));
  return { rootDir, reportDir };
}

const rows = (run: ReturnType<typeof readReport>) => run.results.map((r) => [r.rig, r.attempt, r.status]).sort((a, b) => `${a}`.localeCompare(`${b}`));
const measured = (run: ReturnType<typeof readReport>) => run.measurements.map((m) => [m.rig, m.value]).sort((a, b) => `${a}`.localeCompare(`${b}`));

test('history import of results.json merged with a retry on another rig: the passing attempt, its measurement and its build are that rig\'s', async () => {
  // mac-b ran the scenario in the run too, flaky on Playwright's own retry: the moved attempt follows its attempts 0 and 1.
  const { rootDir, reportDir } = runReports({
    'mac-a': [failedOnA],
    'mac-b': [{ status: 'failed', build: V11, settleMs: 13 }, { status: 'passed', build: V11, settleMs: 12 }],
  });
  const mainFile = join(reportDir, 'results.json');
  copyFileSync(mainFile, join(rootDir, 'before-merge.json'));
  await mergeInfraRetries(reportDir, rootDir, [{ file: join(rootDir, SCENARIO_FILE), from: 'mac-a', to: 'mac-b', attempt: 1 }]);

  const imported = readReport(mainFile);
  assert.deepEqual(rows(imported), [['mac-a', 0, 'failed'], ['mac-b', 0, 'failed'], ['mac-b', 1, 'passed'], ['mac-b', 2, 'passed']]);
  assert.deepEqual(imported.results.find((r) => r.rig === 'mac-a')!.class, 'infrastructure');
  assert.deepEqual(measured(imported), [['mac-a', 40], ['mac-b', 11], ['mac-b', 12], ['mac-b', 13]]);
  assert.deepEqual(imported.dextVersions, { [`${BUNDLE}@mac-a`]: V10, [`${BUNDLE}@mac-b`]: V11 });
  assert.equal(imported.rig, 'mac-a, mac-b');
  // Still the run the run itself recorded: importing it into that store adds nothing.
  assert.equal(imported.key, readReport(join(rootDir, 'before-merge.json')).key);
});

test('history import of a merged results.json, the run on one rig only: the retry\'s rig and build are kept beside the failed rig\'s', async () => {
  const { rootDir, reportDir } = runReports({ 'mac-a': [failedOnA] });
  const ranItself = runRecord(reportDir, rootDir)!;
  await mergeInfraRetries(reportDir, rootDir, [{ file: join(rootDir, SCENARIO_FILE), from: 'mac-a', to: 'mac-b', attempt: 1 }]);
  const imported = readReport(join(reportDir, 'results.json'));
  assert.deepEqual(rows(imported), [['mac-a', 0, 'failed'], ['mac-b', 0, 'passed']]);
  assert.deepEqual(measured(imported), [['mac-a', 40], ['mac-b', 11]]);
  assert.deepEqual(imported.dextVersions, { [`${BUNDLE}@mac-a`]: V10, [`${BUNDLE}@mac-b`]: V11 });
  // What `dextbench run` recorded from the reports before the merge: the same run, the same rows.
  assert.equal(imported.key, ranItself.key);
  assert.deepEqual(imported.results.map(({ movedFrom: _m, ...r }) => r), ranItself.results);
  assert.deepEqual(imported.measurements, ranItself.measurements);
  assert.deepEqual(imported.dextVersions, ranItself.dextVersions);
});

test('the run recording its own reports: a retry on a rig with another build keeps both builds, by rig', () => {
  const { rootDir, reportDir } = runReports({ 'mac-a': [failedOnA] });
  const run = runRecord(reportDir, rootDir)!;
  assert.deepEqual(rows(run), [['mac-a', 0, 'failed'], ['mac-b', 0, 'passed']]);
  assert.deepEqual(measured(run), [['mac-a', 40], ['mac-b', 11]]);
  assert.deepEqual(run.dextVersions, { [`${BUNDLE}@mac-a`]: V10, [`${BUNDLE}@mac-b`]: V11 });
  assert.equal(run.rig, 'mac-a, mac-b');
});

test('the run recording its own reports: a retry with the same build as the run keeps it as the bundle\'s', () => {
  const rootDir = tempDir('dextbench-infra-history-');
  const reportDir = join(rootDir, 'dextbench-report');
  mkdirSync(join(reportDir, 'infra-retry-1'), { recursive: true });
  writeFileSync(join(reportDir, 'results.json'), JSON.stringify(report(rootDir, { 'mac-a': [failedOnA] })));
  writeFileSync(join(reportDir, 'infra-retry-1', 'results.json'), JSON.stringify(report(rootDir, { 'mac-b': [{ ...passedOnB, build: V10 }] })));
  assert.deepEqual(runRecord(reportDir, rootDir)!.dextVersions, { [BUNDLE]: V10 });
});

test('after the merge, a quarantined scenario that passed on its infrastructure retry is not named as a quarantined failure', async (t) => {
  const { rootDir, reportDir } = runReports({ 'mac-a': [failedOnA] });
  await mergeInfraRetries(reportDir, rootDir, [{ file: join(rootDir, SCENARIO_FILE), from: 'mac-a', to: 'mac-b', attempt: 1 }]);
  const config: RunConfig = { rigFiles: [], scenarioFiles: [], runsOn: {}, vars: {}, reporters: ['json'], reportDir, outputDir: join(reportDir, 'test-results'), rootDir };
  const log = t.mock.method(console, 'log', () => undefined);
  // Exit 1 from another scenario's failure: it stands, and mac-a's failure, passed on mac-b, is nobody's to forgive.
  assert.equal(exitIgnoringQuarantined(1, config, [{ scenario: SCENARIO, owner: 'alice', until: '2099-01-01', why: null }]), 1);
  assert.deepEqual(log.mock.calls.map((c) => c.arguments.join(' ')), []);
});
