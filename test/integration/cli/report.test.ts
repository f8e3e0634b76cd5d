// `dextbench report` through the real CLI, on what `dextbench run` wrote for a small project on the
// simulated Mac: one scenario passes (echo matched, a measurement), one fails with class product.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';

const project = join(repoRoot, 'test/fixtures/projects/report');
let cwd: string;

/** The steps a scenario file lists (setup, steps, cleanup): each is one bar on its timeline. */
function stepCount(file: string): number {
  const doc = parse(readFileSync(join(project, file), 'utf8')) as Record<string, unknown[] | undefined>;
  return (doc['setup']?.length ?? 0) + (doc['steps']?.length ?? 0) + (doc['cleanup']?.length ?? 0);
}

/** The scenario's <details> section, by its title. */
function section(html: string, title: string): string {
  const sections = html.split('<details class="scenario').slice(1).map((s) => s.slice(0, s.indexOf('</details>')));
  const found = sections.filter((s) => s.includes(`<b>${title}</b>`));
  assert.equal(found.length, 1, `one section for ${title}`);
  return found[0]!;
}

before(async () => {
  cwd = scratchDir();
  const run = await dextbench(['run', '--reporter', 'list,json', project], { cwd, env: { DEXTBENCH_HISTORY: join(cwd, 'history') } });
  assert.equal(run.code, 1, run.stdout + run.stderr);
});

test('dextbench report: counts per class, failures first and open, the failure line, the repro command, one timeline per scenario with a bar per step', async () => {
  const r = await dextbench(['report', '-o', 'x.html'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^dextbench: report of 2 scenario runs \(1 failed\) written to x\.html \(\d+ KB\)$/m);
  const html = readFileSync(join(cwd, 'x.html'), 'utf8');

  assert.match(html, /<div class="count failed" data-count="failed"><b>1<\/b>failed<\/div>/);
  assert.match(html, /<div class="count failed class" data-count="product"><b>1<\/b>class product<\/div>/);
  assert.match(html, /<div class="count passed" data-count="passed"><b>1<\/b>passed<\/div>/);
  assert.ok(html.indexOf('<b>report load above max</b>') < html.indexOf('<b>report echo matches</b>'), 'failures first');

  const failed = section(html, 'report load above max');
  const passed = section(html, 'report echo matches');
  assert.match(failed, /^ failed" id="s-report-load-above-max-sim" open>/);
  assert.match(passed, /^ passed" id="s-report-echo-matches-sim">/, 'a pass is collapsed');
  assert.ok(failed.includes(`<pre class="failure">${project}/fails.yaml:8: load = 20 MB/s, above max 10 MB/s</pre>`), failed);
  assert.match(failed, /class product/);
  assert.match(failed, /<code class="repro">npx dextbench repro \S*test-results\/scenario-report-load-above-max-sim\/repro<\/code>/);
  assert.doesNotMatch(passed, /class="repro"/);
  assert.match(html, /<tr class="failed"><td><span class="badge failed">failed<\/span><\/td><td><a href="#s-report-load-above-max-sim">report load above max<\/a>.*?<td class="class">product<\/td>/);

  for (const [part, file, statuses] of [[failed, 'fails.yaml', ['passed', 'failed']], [passed, 'passes.yaml', Array(7).fill('passed')]] as const) {
    assert.equal(part.match(/<svg class="timeline"/g)?.length, 1, `one timeline for ${file}`);
    const bars = [...part.matchAll(/<rect class="step (\w+)"/g)].map((m) => m[1]);
    assert.equal(bars.length, stepCount(file), `a bar per step of ${file}`);
    assert.deepEqual(bars, statuses);
  }
  // Host commands, registry changes, log lines and the measurement are marks with their detail.
  assert.match(failed, /<rect class="mark ok"[^>]*><title>sw_vers → exit 0 in \d+ms<\/title>/);
  assert.match(passed, /<title>registry change=device-added device=echo name=Loopback registryId=0x[0-9a-f]+ /);
  assert.match(passed, /<title>sysextd: client activation request for com\.example\.echo\.driver<\/title>/);
  assert.match(passed, /<title>settle = 12 ms \(min 0, max 100\)<\/title>/);

  // Self-contained: nothing to fetch.
  assert.doesNotMatch(html, /<link\b|\b(src|href)="(?!#)|url\(|@import/);
});

test('a timeline attached as a file is read from test-results/, and one that is gone is a line saying so', async () => {
  // Playwright writes an attachment made from a file as a path; turn the inline bodies into that.
  const resultsFile = join(cwd, 'dextbench-report/results.json');
  const report = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const timelines: { name: string; path?: string; body?: string }[] = [];
  JSON.stringify(report, (_k, v) => { if (v?.name === 'timeline.jsonl') timelines.push(v); return v; });
  assert.equal(timelines.length, 2);
  for (const [i, a] of timelines.entries()) {
    a.path = join(cwd, `timeline-${i}.jsonl`);
    writeFileSync(a.path, Buffer.from(a.body!, 'base64'));
    delete a.body;
  }
  writeFileSync(join(cwd, 'by-path.json'), JSON.stringify(report));
  const whole = await dextbench(['report', 'by-path.json', '-o', 'by-path.html'], { cwd });
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(readFileSync(join(cwd, 'by-path.html'), 'utf8').match(/<svg class="timeline"/g)?.length, 2);

  rmSync(timelines[0]!.path!);
  const gone = await dextbench(['report', 'by-path.json', '-o', 'gone.html'], { cwd });
  assert.equal(gone.code, 0, gone.stderr);
  const html = readFileSync(join(cwd, 'gone.html'), 'utf8');
  assert.equal(html.match(/<svg class="timeline"/g)?.length, 1);
  assert.match(html, /<p class="muted no-timeline">timeline file timeline-0\.jsonl is gone \(test-results\/ was cleaned or moved\)<\/p>/);
});

test('no results.json, or a file that is not one, is one line saying what was expected', async () => {
  const empty = scratchDir();
  const none = await dextbench(['report', '-o', 'x.html'], { cwd: empty });
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'dextbench: report: no results.json in dextbench-report/ — run `npx dextbench run` first, or pass a results.json or a run folder (--output)\n');
  writeFileSync(join(empty, 'results.json'), '{"suites": [');
  const broken = await dextbench(['report', 'results.json'], { cwd: empty });
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^dextbench: report: results\.json is not a Playwright JSON report \(.+\); write one with `npx dextbench run --reporter json`\n$/);
  const history = await dextbench(['report', join(cwd, 'dextbench-report'), '--history', '-o', 'y.html'], { cwd: empty, env: { DEXTBENCH_HISTORY: join(empty, 'no-history') } });
  assert.equal(history.code, 1);
  assert.equal(history.stderr, 'dextbench: report --history: no history in no-history (every `dextbench run` adds to it; or `dextbench history import` a results.json)\n');
});
