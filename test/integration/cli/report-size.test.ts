// A nightly of 50 scenarios makes a report under 1 MB, with the history's grid and uPlot charts.
// The 50 are synthesized from a real run: three of the samples with the busiest timelines (two
// devices' io, a crash and relaunch, an upgrade) run on the simulated Mac, and their tests are
// copied under distinct names (`… #n`) into a results.json of 50, since running 50 real scenarios
// takes minutes; that results.json is also imported twice more (as later nights) into the history.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';

const BUSY = ['echo-two-devices-io.yaml', 'echo-crash-relaunch.yaml', 'echo-upgrade.yaml'].map((f) => join(repoRoot, 'scenarios/driverkit', f));
const MB = 1024 * 1024;

interface Suite { specs?: { title: string }[]; suites?: Suite[] }

test('a report of 50 scenarios with --history stays under 1 MB', async (t) => {
  const cwd = scratchDir();
  const env = { DEXTBENCH_HISTORY: join(cwd, 'history') };
  const run = await dextbench(['run', '--reporter', 'json', ...BUSY], { cwd, env, timeoutMs: 180_000 });
  assert.equal(run.code, 0, run.stdout + run.stderr);

  const report = JSON.parse(readFileSync(join(cwd, 'dextbench-report/results.json'), 'utf8')) as { suites: Suite[]; stats: { startTime: string } };
  const specs: { title: string }[] = [];
  const visit = (s: Suite): void => { specs.push(...(s.specs ?? [])); (s.suites ?? []).forEach(visit); };
  report.suites.forEach(visit);
  assert.equal(specs.length, 3);
  const fifty = Array.from({ length: 50 }, (_, i) => ({ ...structuredClone(specs[i % specs.length]!), title: `${specs[i % specs.length]!.title} #${i + 1}` }));
  const nightly = { ...report, suites: [{ title: 'nightly', file: 'nightly', specs: fifty, suites: [] }] };
  for (const night of [1, 2]) {
    const file = join(cwd, `night-${night}.json`);
    writeFileSync(file, JSON.stringify({ ...nightly, stats: { ...report.stats, startTime: new Date(Date.parse(report.stats.startTime) + night * 86_400_000).toISOString() } }));
    const imported = await dextbench(['history', 'import', file], { cwd, env });
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
  }

  const made = await dextbench(['report', join(cwd, 'night-2.json'), '--history', '-o', 'nightly.html'], { cwd, env });
  assert.equal(made.code, 0, made.stdout + made.stderr);
  const html = readFileSync(join(cwd, 'nightly.html'), 'utf8');
  const bytes = statSync(join(cwd, 'nightly.html')).size;
  const uplot = statSync(join(repoRoot, 'node_modules/uplot/dist/uPlot.iife.min.js')).size + statSync(join(repoRoot, 'node_modules/uplot/dist/uPlot.min.css')).size;
  t.diagnostic(`report of 50 scenarios with --history: ${bytes} bytes (uPlot inlined: ${uplot} bytes)`);
  assert.equal(html.match(/<svg class="timeline"/g)?.length, 50, 'a timeline for each of the 50');
  assert.ok(html.includes('<div class="chart" id="trend-0">'), 'trend charts');
  assert.ok(bytes < MB, `${bytes} bytes`);
});
