// The report in a real browser: Debian's chromium, driven by playwright-core, opens the file with
// every request that is not file: or data: blocked (and none attempted), and the timelines (inline
// SVG, also with scripts off) and, with --history, the uPlot trend charts draw, without console or
// page errors. The history holds three runs of a small project on the simulated Mac.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { BROWSER_LANE, lane } from '../../support/lane.ts';

const skip = lane('browser (Debian chromium)', BROWSER_LANE);
const project = join(repoRoot, 'test/fixtures/projects/report');

describe('the report in chromium, offline', { skip }, () => {
  let cwd: string;
  let browser: Browser;

  before(async () => {
    cwd = scratchDir();
    const env = { DEXTBENCH_HISTORY: join(cwd, 'history') };
    // Three nights: the load scenario passes, passes, fails (product); settle moves.
    for (const [load, settle] of [['5', '12'], ['7', '40'], ['20', '15']]) {
      const run = await dextbench(['run', '--reporter', 'json', '--var', `LOAD=${load}`, '--var', `SETTLE=${settle}`, project], { cwd, env });
      assert.equal(run.code, load === '20' ? 1 : 0, run.stdout + run.stderr);
    }
    const report = await dextbench(['report', '--history', '-o', 'with-history.html'], { cwd, env });
    assert.equal(report.code, 0, report.stdout + report.stderr);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
  });

  /** Opens the file with the network blocked; what it tried to fetch and every console error or page error. */
  async function open(file: string, options: { javaScriptEnabled?: boolean } = {}): Promise<{ page: Page; fetched: string[]; errors: string[] }> {
    const context = await browser.newContext({ ...options, offline: true });
    const fetched: string[] = [];
    const errors: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      return /^(file|data):/.test(url) ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    page.on('request', (r) => { if (!/^(file|data):/.test(r.url())) fetched.push(r.url()); });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${join(cwd, file)}`, { waitUntil: 'load', timeout: 30_000 });
    return { page, fetched, errors };
  }

  test('the trend charts draw with uPlot inlined, the grid shows three nights, every timeline draws its step bars', async () => {
    const { page, fetched, errors } = await open('with-history.html');
    await page.waitForFunction("document.querySelectorAll('.chart canvas').length === 2", undefined, { timeout: 10_000 });
    const canvases = await page.$$eval('.chart canvas', (list) => list.map((c) => {
      // (The tests compile without the DOM's types.)
      const canvas = c as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let drawn = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) drawn++;
      const box = c.getBoundingClientRect();
      return { width: box.width, height: box.height, drawn };
    }));
    for (const c of canvases) {
      assert.ok(c.width > 100 && c.height > 50, `canvas ${c.width}×${c.height}`);
      assert.ok(c.drawn > 200, `canvas has drawn pixels (${c.drawn})`);
    }
    const captions = await page.$$eval('figure.trend figcaption', (list) => list.map((f) => f.textContent));
    assert.deepEqual(captions.map((c) => c!.split(' · ')[0]), ['settle — report echo matches on sim (ms)', 'load — report load above max on sim (MB/s)']);

    const grid = await page.$$eval('table.grid tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td.cell')].map((td) => td.className.replace('cell ', ''))));
    assert.deepEqual(grid, [['passed', 'passed', 'passed'], ['passed', 'passed', 'failed']]);

    await page.$$eval('details.scenario', (list) => list.forEach((d) => { (d as unknown as { open: boolean }).open = true; }));
    const timelines = await page.$$eval('svg.timeline', (list) => list.map((svg) => ({
      box: svg.getBoundingClientRect().width * svg.getBoundingClientRect().height,
      bars: [...svg.querySelectorAll('rect.step')].filter((r) => r.getBoundingClientRect().width > 0 && r.getBoundingClientRect().height > 0).length,
    })));
    assert.equal(timelines.length, 2);
    // Failures first: fails.yaml's 2 steps, then passes.yaml's 7.
    assert.deepEqual(timelines.map((t) => t.bars), [2, 7]);
    for (const t of timelines) assert.ok(t.box > 1000, `timeline drawn (${t.box} px²)`);

    assert.deepEqual(fetched, [], 'nothing fetched from the network');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  test('with scripts off, the timelines still draw (they are SVG written at report time)', async () => {
    const { page, fetched, errors } = await open('with-history.html', { javaScriptEnabled: false });
    const boxes = await page.$$eval('details[open] svg.timeline rect.step', (list) => list.map((r) => r.getBoundingClientRect().height));
    assert.equal(boxes.length, 2, 'the failed scenario is open: its 2 step bars');
    for (const h of boxes) assert.ok(h > 0);
    assert.equal(await page.$$eval('.chart canvas', (list) => list.length), 0);
    assert.deepEqual(fetched, []);
    assert.deepEqual(errors, []);
  });
});
