import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CleanupStackImpl } from '../../../harness/engine/cleanup.ts';
import { buildReporters } from '../../../harness/engine/reporters.ts';
import { engineDir } from '../../../harness/engine/run-config.ts';
import { TimelineRecorder } from '../../../harness/engine/timeline.ts';

test('cleanup runs last-in first-out and runs everything even when an action fails', async () => {
  const stack = new CleanupStackImpl();
  const ran: string[] = [];
  stack.push('first', async () => { ran.push('first'); });
  stack.push('failing', async () => { ran.push('failing'); throw new Error('port stuck'); });
  stack.push('last', async () => { ran.push('last'); });
  const failures = await stack.runAll();
  assert.deepEqual(ran, ['last', 'failing', 'first']);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.title, 'failing');
  assert.deepEqual(await stack.runAll(), [], 'a stack runs once');
});

test('file reporters get their files under the report dir, plus list output', () => {
  assert.deepEqual(buildReporters([], '/r'), [['list']]);
  assert.deepEqual(buildReporters(['junit', 'html'], '/r'), [
    ['list'],
    ['junit', { outputFile: '/r/junit.xml', embedAnnotationsAsProperties: true, includeProjectInTestName: true }],
    ['html', { outputFolder: '/r/html', open: 'never' }],
    ['blob', { outputDir: '/r/.html-blob', fileName: 'report.zip' }],
    [join(engineDir, 'junit-scenarios.ts'), { outputFile: '/r/junit.xml' }],
  ]);
  assert.deepEqual(buildReporters(['dot', 'blob'], '/r'), [['dot'], ['blob', { outputDir: '/r/blob' }]]);
});

test('timeline lines are JSON with exact big integers', () => {
  const timeline = new TimelineRecorder();
  timeline.record({ type: 'log', traceID: 41979461356879876n });
  const [line] = timeline.toJsonLines().trim().split('\n');
  const parsed = JSON.parse(line!);
  assert.equal(parsed.type, 'log');
  assert.equal(parsed.traceID, '41979461356879876');
  assert.equal(typeof parsed.t, 'number');
});
