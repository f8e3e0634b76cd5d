// Which failures of a run infrastructure retries take: only attempts that failed on infrastructure,
// never one a stop (--max-failures, Ctrl-C) interrupted, and never the run's own error outside the
// tests ("Testing stopped early after 1 maximum allowed failures", "1 error was not a part of any test").
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { infrastructureFailures, retryInfrastructureFailures, stoppedEarly } from '../../../harness/engine/infra-retries.ts';
import type { RunConfig } from '../../../harness/engine/run-config.ts';
import { RunLeases } from '../../../harness/engine/run-leases.ts';
import type { ScenarioResult } from '../../../harness/engine/run-results.ts';

const dir = mkdtempSync(join(tmpdir(), 'dextbench-infra-retries-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const infra = { type: 'dextbench.class', description: 'infrastructure' };
const product = { type: 'dextbench.class', description: 'product' };

/**
 * As Playwright 1.65 writes it for `--retries 1 --max-failures 1`: the first attempt failed as a
 * product failure, its retry was cut short by the stop, after a hub op it was in had failed (the
 * class fixture annotated it before Playwright marked it interrupted).
 */
function stoppedRun(reportDir: string): void {
  writeFileSync(join(reportDir, 'results.json'), JSON.stringify({
    config: { rootDir: '/p' },
    errors: [{ message: 'Testing stopped early after 1 maximum allowed failures.' }],
    suites: [{
      title: 'scenario.spec.ts',
      specs: [{
        title: 'echo', file: 'scenarios/a.yaml',
        tests: [
          {
            projectName: 'mini-1', status: 'unexpected', annotations: [infra],
            results: [
              { status: 'failed', retry: 0, error: { message: 'Error: [product] not matched' }, annotations: [product] },
              { status: 'interrupted', retry: 1, error: { message: 'Error: [infrastructure] uhubctl killed' }, annotations: [infra] },
            ],
          },
          { projectName: 'mini-2', status: 'skipped', annotations: [], results: [] },
        ],
      }],
    }],
  }));
}

test('an attempt interrupted by a stop is not an infrastructure failure, whatever class it carries', () => {
  const base: ScenarioResult = { file: '/p/a.yaml', rig: 'mini-1', outcome: 'unexpected', attempts: 2, lastStatus: 'interrupted', failureClass: 'infrastructure' };
  assert.deepEqual(infrastructureFailures([base]), []);
  const failed = { ...base, lastStatus: 'failed' };
  assert.deepEqual(infrastructureFailures([failed, { ...failed, failureClass: 'product' }, { ...failed, outcome: 'flaky' }]), [failed]);
});

test('the --max-failures stop is read from the run\'s own errors, and only it', () => {
  stoppedRun(dir);
  assert.equal(stoppedEarly(join(dir, 'results.json')), 'the run stopped early after 1 maximum allowed failures');
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ errors: [{ message: 'Error in global setup' }], suites: [] }));
  assert.equal(stoppedEarly(other), undefined);
  assert.equal(stoppedEarly(join(dir, 'missing.json')), undefined);
});

test('a run stopped by --max-failures whose only failure is product: no rig is rechecked or retried, the run\'s exit stays', async () => {
  const reportDir = mkdtempSync(join(dir, 'run-'));
  stoppedRun(reportDir);
  const config: RunConfig = {
    rigFiles: [], scenarioFiles: [], runsOn: {}, vars: {}, reporters: ['json'], reportDir, outputDir: join(reportDir, 'test-results'), rootDir: '/p',
  };
  // The run holds no rig: reaching one (a recheck, a retry) would throw "not reserved by this run".
  const leases = await RunLeases.take([], '/p');
  assert.deepEqual(await retryInfrastructureFailures(config, [], [], 1, 2, leases), { code: 1, passed: [] });
});
