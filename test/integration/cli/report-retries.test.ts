// `dextbench report` on scenarios that passed on a later attempt, through the real CLI on simulated
// Macs: one flaky on Playwright's --retries 1 (its script fails the first attempt, counted in a file
// of the test's own), and one that failed on infrastructure on one rig and passed on dextbench's
// infrastructure retry on another of its class (the fixture of health.test.ts: a rig whose channel
// bridge is missing).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const flakyProject = join(repoRoot, 'test/fixtures/projects/flaky');
const flakyLine = readFileSync(join(flakyProject, 'flakes-once.yaml'), 'utf8').split('\n').findIndex((l) => /^\s+- script: /.test(l)) + 1;

/** The <details> section of a scenario on a rig, by its anchor. */
function section(html: string, id: string): string {
  const sections = html.split('<details class="scenario').slice(1).map((s) => s.slice(0, s.indexOf('</details>')));
  const found = sections.filter((s) => s.includes(`" id="${id}"`));
  assert.equal(found.length, 1, `one section for ${id}`);
  return found[0]!;
}

/** The scenario table's row of a scenario on a rig. */
function row(html: string, id: string): string {
  const rows = html.slice(html.indexOf('<table class="scenarios">'), html.indexOf('</table>')).split('<tr ').filter((r) => r.includes(`href="#${id}"`));
  assert.equal(rows.length, 1, `one row for ${id}`);
  return rows[0]!;
}

test('a scenario flaky on --retries 1: flaky in the list with its attempts and its first attempt\'s failure line and class; ~ in the history grid for that night', async () => {
  const cwd = scratchDir();
  const history = join(cwd, 'history');
  const attempts = join(cwd, 'attempts');
  const run = await dextbench(['run', '--retries', '1', '--reporter', 'list,json', '--var', `ATTEMPTS=${attempts}`, flakyProject], { cwd, env: { DEXTBENCH_HISTORY: history } });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(readFileSync(attempts, 'utf8'), '2', 'it ran twice');
  const [flaky] = readJsonReport(cwd);
  assert.deepEqual([flaky!.status, flaky!.results.map((r) => r.status)], ['flaky', ['failed', 'passed']]);

  const r = await dextbench(['report', '--history', '-o', 'x.html'], { cwd, env: { DEXTBENCH_HISTORY: history } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const html = readFileSync(join(cwd, 'x.html'), 'utf8');
  assert.match(html, /<div class="count flaky" data-count="flaky"><b>1<\/b>flaky<\/div>/);
  assert.match(html, /<div class="count failed" data-count="failed"><b>0<\/b>failed<\/div>/);

  const failure = `${flakyProject}/flakes-once.yaml:${flakyLine}: \\S*scripts/fails-first-attempt\\.mjs:\\d+: attempt 1 fails on purpose \\(counted in ${attempts}\\)`;
  const line = row(html, 's-flaky-fails-its-first-attempt-sim');
  assert.match(line, /^class="flaky"><td><span class="badge flaky">flaky<\/span><\/td>/);
  assert.match(line, /<td>sim<\/td><td class="class">product<\/td><td class="num">2<\/td>/, 'class product, two attempts');
  assert.match(line, new RegExp(`<td class="fail-line"><span class="attempt">attempt 1:</span> ${failure}</td>`));

  const part = section(html, 's-flaky-fails-its-first-attempt-sim');
  assert.match(part, /^ flaky" id="s-flaky-fails-its-first-attempt-sim" open>/, 'open, like a failure');
  assert.match(part, /<span class="meta">sim · class product · 2 attempts · /);
  assert.ok(part.includes('<p class="retry">attempt 1 of 2 failed (class product); passed on Playwright&#39;s retry (--retries)</p>'), part.slice(0, 1500));
  assert.match(part, new RegExp(`<pre class="failure">${failure}</pre>`));
  // The timeline is the passing attempt's: every step passed.
  assert.deepEqual([...part.matchAll(/<rect class="step (\w+)"/g)].map((m) => m[1]), ['passed', 'passed']);

  const grid = html.slice(html.indexOf('<h2 id="history">'), html.indexOf('<h2 id="trends">'));
  assert.match(grid, /<tr><th class="scn">flaky fails its first attempt<\/th><td class="rate"[^>]*>100%<\/td><td class="cell flaky" title="run 1 [^"]*: flaky">~<\/td><\/tr>/);
});

test('a scenario that failed on infrastructure and passed on the infrastructure retry on another rig: passed on retry, both rigs, the original infrastructure failure line', async () => {
  const cwd = scratchDir();
  const SIM = 'sip: disabled\ndeveloperMode: false\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }';
  const TOP = `health: ${join(repoRoot, 'scenarios/health/echo-rig.yaml')}\nclass: echo-sim`;
  // Rig r-a's channel bridge is missing: its call step fails on infrastructure; r-b is whole.
  const a = simRigFile(cwd, 'r-a', { sim: SIM, top: `${TOP}\nbridge: { command: [dextbench-bridge-gone] }` });
  const b = simRigFile(cwd, 'r-b', { sim: SIM, top: TOP });
  for (const file of [a, b]) {
    const set = await dextbench(['rig', 'state', 'good', '--why', 'racked', '--rig', file], { cwd });
    assert.equal(set.code, 0, set.stderr);
  }
  const ping = join(repoRoot, 'scenarios/driverkit/echo-channel-ping-info.yaml');
  const callLine = readFileSync(ping, 'utf8').split('\n').findIndex((l) => /^\s+- call: /.test(l)) + 1;
  const run = await dextbench(['run', '--rig', a, '--rig', b, '--reporter', 'list,json',
    '--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`, ping], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /passed on rig r-b on infrastructure retry 1 /);
  // What the report reads: results.json's documented shape after the retry was merged into it.
  const [onA] = readJsonReport(cwd).filter((t) => t.projectName === 'r-a');
  assert.equal(onA!.status, 'flaky');
  assert.ok(onA!.annotations.some((n) => n.type === 'dextbench.infra-retry'), JSON.stringify(onA!.annotations));

  const r = await dextbench(['report', '-o', 'x.html'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const html = readFileSync(join(cwd, 'x.html'), 'utf8');
  assert.match(html, /<div class="count retried" data-count="retried"><b>1<\/b>passed on retry<\/div>/);
  assert.match(html, /<div class="count passed" data-count="passed"><b>1<\/b>passed<\/div>/, 'the run on r-b passed first time');
  assert.match(html, /<div class="count failed" data-count="failed"><b>0<\/b>failed<\/div>/);
  assert.match(html, /<div class="count flaky" data-count="flaky"><b>0<\/b>flaky<\/div>/);

  const title = readJsonReport(cwd)[0]!.title.split(' › ').at(-1)!;
  const id = `s-${`${title}-r-a`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
  const failure = `\\S*echo-channel-ping-info\\.yaml:${callLine}: bridge command not found: dextbench-bridge-gone`;
  const line = row(html, id);
  assert.match(line, /^class="retried"><td><span class="badge retried">passed on retry<\/span><\/td>/);
  assert.match(line, /<td>r-a → r-b<\/td><td class="class">infrastructure<\/td><td class="num">2<\/td>/);
  assert.match(line, new RegExp(`<td class="fail-line"><span class="attempt">attempt 1:</span> ${failure}[^<]*</td>`));

  const part = section(html, id);
  assert.match(part, new RegExp(`^ retried" id="${id}" open>`));
  assert.match(part, /<span class="meta">r-a → r-b · class infrastructure · 2 attempts · /);
  assert.ok(part.includes('<p class="retry">attempt 1 of 2 failed (class infrastructure) on rig r-a; passed on rig r-b on infrastructure retry 1 (its reports are in infra-retry-1/)</p>'), part.slice(0, 1500));
  assert.match(part, new RegExp(`<pre class="failure">${failure}[^<]*</pre>`));
});
