// The history part of the report: a pass-rate grid per rig (scenario × night, cells coloured by
// outcome, flaky marked) as plain HTML, and a trend chart per measurement with its regression band
// (mean ± 3σ of the BAND_RUNS runs before the last, as summary.ts flags it) and the scenario's
// min/max, drawn by uPlot inlined from node_modules so the file needs no network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Nights } from '../history/nights.ts';
import { BAND_RUNS, bandOf, type HistorySummary } from '../history/summary.ts';
import { esc } from './timeline-svg.ts';

export interface HistoryView {
  where: string;
  summary: HistorySummary;
  nights: Nights;
  /** Run id → ISO start, for every run in a series. */
  runTimes: Map<number, string>;
}

export interface TrendChart {
  id: string;
  title: string;
  unit: string;
  regression: boolean;
  /** Seconds since the epoch, as uPlot's time axis wants. */
  x: number[];
  y: number[];
  runs: number[];
  band: { low: number; high: number } | null;
  min: number | null;
  max: number | null;
}

/** uPlot's browser build and stylesheet, read from the installed package at report time. */
export function uplotAssets(): { script: string; css: string } {
  const dir = dirname(createRequire(import.meta.url).resolve('uplot'));
  return { script: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
}

export function passRateGrids(view: HistoryView): string {
  const { nights, cells } = view.nights;
  if (!nights.length) return `<p class="muted">No runs in the history yet (${esc(view.where)}).</p>`;
  const rigs = [...new Set([...cells.map((c) => c.rig), ...view.summary.scenarios.map((s) => s.rig)])].sort();
  const passRate = new Map(view.summary.scenarios.map((s) => [`${s.scenario}\u0000${s.rig}`, s]));
  const head = nights.map((n) => `<th class="night" title="run ${n.run}, ${esc(n.at)}">${esc(`${n.at.slice(5, 10)} ${n.at.slice(11, 16)}`)}</th>`).join('');
  return rigs.map((rig) => {
    const ofRig = cells.filter((c) => c.rig === rig);
    const scenarios = [...new Set(ofRig.map((c) => c.scenario))].sort();
    const rows = scenarios.map((scenario) => {
      const byRun = new Map(ofRig.filter((c) => c.scenario === scenario).map((c) => [c.run, c]));
      const s = passRate.get(`${scenario}\u0000${rig}`);
      const tds = nights.map((n) => {
        const c = byRun.get(n.run);
        if (!c) return '<td class="cell none" title="not run"></td>';
        const detail = `run ${n.run} ${n.at}: ${c.status}${c.class ? ` [${c.class}]` : ''}${c.error ? ` — ${c.error}` : ''}`;
        return `<td class="cell ${c.status}" title="${esc(detail)}">${c.status === 'flaky' ? '~' : c.status === 'failed' ? '×' : ''}</td>`;
      }).join('');
      const rate = s ? `${Math.round(s.passRate * 100)}%` : '–';
      return `<tr><th class="scn">${esc(scenario)}</th><td class="rate" title="${s ? `flake score ${s.flakeScore.toFixed(2)} over ${s.runs} runs` : ''}">${rate}</td>${tds}</tr>`;
    }).join('');
    return `<h3>rig ${esc(rig)}</h3><div class="grid-wrap"><table class="grid"><thead><tr><th>scenario</th><th>pass</th>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
  }).join('');
}

export function trendCharts(view: HistoryView): TrendChart[] {
  const limits = new Map(view.nights.limits.map((l) => [`${l.scenario}\u0000${l.rig}\u0000${l.name}\u0000${l.unit}`, l]));
  return view.summary.measurements.map((m, i) => {
    const points = m.values.map((v) => ({ ...v, at: view.runTimes.get(v.run) })).filter((v) => v.at !== undefined);
    const values = points.map((p) => p.value);
    const limit = limits.get(`${m.scenario}\u0000${m.rig}\u0000${m.name}\u0000${m.unit}`);
    return {
      id: `trend-${i}`, title: `${m.name} — ${m.scenario} on ${m.rig}`, unit: m.unit, regression: m.regression,
      x: points.map((p) => Date.parse(p.at!) / 1000), y: values, runs: points.map((p) => p.run),
      band: bandOf(values.slice(0, -1).slice(-BAND_RUNS)) ?? null,
      min: limit?.min ?? null, max: limit?.max ?? null,
    };
  });
}

export function trendSection(charts: TrendChart[]): string {
  if (!charts.length) return '<p class="muted">No measurements in the history.</p>';
  const boxes = charts.map((c) => `<figure class="trend${c.regression ? ' regression' : ''}"><figcaption>${esc(c.title)}${c.unit ? ` (${esc(c.unit)})` : ''}${c.regression ? ' <span class="badge failed">regression</span>' : ''}<span class="muted"> · ${c.band ? `band ${fmt(c.band.low)}…${fmt(c.band.high)}` : `no band yet (fewer than 5 runs before the last)`}${c.min !== null ? ` · min ${fmt(c.min)}` : ''}${c.max !== null ? ` · max ${fmt(c.max)}` : ''}</span></figcaption><div class="chart" id="${c.id}"></div></figure>`);
  return `<noscript><p class="muted">The trend charts need JavaScript (uPlot, inlined in this file).</p></noscript><div class="trends">${boxes.join('')}</div>`;
}

/** Draws each chart into its box with uPlot, in the page's colours. */
export const TREND_SCRIPT = `(function () {
  var charts = JSON.parse(document.getElementById('trend-data').textContent);
  var css = getComputedStyle(document.documentElement);
  function v(name) { return css.getPropertyValue(name).trim(); }
  function flat(xs, value) { return xs.map(function () { return value; }); }
  charts.forEach(function (c) {
    var box = document.getElementById(c.id);
    var series = [{}, { label: 'value', stroke: v('--accent'), width: 2, points: { show: true, size: 6, fill: v('--accent') } }];
    var data = [c.x, c.y];
    var bands = [];
    if (c.band) {
      data.push(flat(c.x, c.band.low), flat(c.x, c.band.high));
      series.push({ label: 'band low', stroke: v('--band'), dash: [4, 4], points: { show: false } }, { label: 'band high', stroke: v('--band'), dash: [4, 4], points: { show: false } });
      bands.push({ series: [3, 2], fill: v('--band-fill') });
    }
    if (c.min !== null) { data.push(flat(c.x, c.min)); series.push({ label: 'min', stroke: v('--fail'), dash: [2, 3], points: { show: false } }); }
    if (c.max !== null) { data.push(flat(c.x, c.max)); series.push({ label: 'max', stroke: v('--fail'), dash: [2, 3], points: { show: false } }); }
    var axis = { stroke: v('--muted'), grid: { stroke: v('--rule') }, ticks: { stroke: v('--rule') } };
    new uPlot({
      width: Math.max(260, box.clientWidth), height: 170, series: series, bands: bands,
      scales: { x: { time: true } }, legend: { show: true },
      axes: [axis, Object.assign({ label: c.unit, size: 56 }, axis)],
    }, data, box);
  });
})();`;

function fmt(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
