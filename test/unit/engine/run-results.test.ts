// Reading a run's Playwright JSON report: each scenario × rig with its outcome, its failure class
// (the dextbench.class annotation) and its failure as one `file:line: message` line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRunResults } from '../../../harness/engine/run-results.ts';

const dir = mkdtempSync(join(tmpdir(), 'dextbench-results-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const report = {
  config: { rootDir: '/p/node_modules/dextbench/harness/engine' },
  suites: [{
    title: 'scenario.spec.ts',
    specs: [{
      file: '../../../../scenarios/a.yaml',
      tests: [
        {
          projectName: 'mini-1', status: 'unexpected', annotations: [],
          results: [{
            status: 'failed', retry: 0,
            error: { message: '\u001b[31mError: [infrastructure] bridge command not found: x\u001b[39m\nmore', location: { file: '/p/scenarios/a.yaml', line: 15, column: 5 } },
            annotations: [{ type: 'dextbench.class', description: 'infrastructure' }],
          }],
        },
        {
          projectName: 'mini-2', status: 'flaky', annotations: [],
          results: [{ status: 'failed', retry: 0, error: { message: 'Error: [product] no' } }, { status: 'passed', retry: 1 }],
        },
      ],
    }],
    suites: [{ title: 'inner', specs: [{ file: '../../../../scenarios/b.yaml', tests: [{ projectName: 'mini-1', status: 'expected', results: [{ status: 'passed', retry: 0 }] }] }] }],
  }],
};

test('each scenario × rig: outcome, attempts, class, and the failure as file:line: message without colours', () => {
  const file = join(dir, 'results.json');
  writeFileSync(file, JSON.stringify(report));
  assert.deepEqual(readRunResults(file, '/p'), [
    { file: '/p/scenarios/a.yaml', rig: 'mini-1', outcome: 'unexpected', attempts: 1, lastStatus: 'failed', failureClass: 'infrastructure',
      failure: 'scenarios/a.yaml:15: [infrastructure] bridge command not found: x' },
    { file: '/p/scenarios/a.yaml', rig: 'mini-2', outcome: 'flaky', attempts: 2, lastStatus: 'passed' },
    { file: '/p/scenarios/b.yaml', rig: 'mini-1', outcome: 'expected', attempts: 1, lastStatus: 'passed' },
  ]);
});

test('a run that wrote no report (refused before any test): undefined', () => {
  assert.equal(readRunResults(join(dir, 'missing.json'), '/p'), undefined);
});
