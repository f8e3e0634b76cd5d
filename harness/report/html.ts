// The report page: one self-contained HTML file (styles and scripts inline, nothing fetched).
// Counts per class at the top, then every scenario (failures first, expanded; passes collapsed)
// with its class, failure line, repro command and timeline picture; a scenario that passed on a
// later attempt (flaky, or retried on another rig) shows the attempt that failed; with a history, the pass-rate
// grid and the measurement trends.
import { passRateGrids, TREND_SCRIPT, trendCharts, trendSection, uplotAssets, type HistoryView } from './history-charts.ts';
import type { Outcome, ReportScenario, RunModel } from './model.ts';
import { esc, ms, timelineSvg } from './timeline-svg.ts';

const CSS = `
:root { color-scheme: light dark; --bg: #fbfbfc; --fg: #1d2129; --muted: #667085; --rule: #e3e6ea; --card: #fff;
  --pass: #2e9d5b; --fail: #d0433a; --flaky: #d99a1e; --retried: #2f8fa3; --skip: #98a2b3; --accent: #3f6fd8; --info: #7b8ba6;
  --band: #7b8ba6; --band-fill: rgba(123,139,166,.16); --code: #f2f4f7; }
@media (prefers-color-scheme: dark) { :root { --bg: #12151b; --fg: #e4e7ec; --muted: #98a2b3; --rule: #2b313c; --card: #1a1e26;
  --pass: #4cc27c; --fail: #f0645a; --flaky: #f0b53c; --retried: #4fb6c9; --skip: #667085; --accent: #7ea2f5; --info: #8d9bb5;
  --band: #8d9bb5; --band-fill: rgba(141,155,181,.18); --code: #232833; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 10px; } h3 { font-size: 14px; margin: 18px 0 6px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--code); padding: 8px 10px; border-radius: 6px; overflow-x: auto; margin: 6px 0; }
.counts { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; }
.count { background: var(--card); border: 1px solid var(--rule); border-left: 4px solid var(--skip); border-radius: 8px; padding: 8px 14px; min-width: 110px; }
.count b { display: block; font-size: 22px; } .count.failed { border-left-color: var(--fail); } .count.passed { border-left-color: var(--pass); }
.count.flaky { border-left-color: var(--flaky); } .count.retried { border-left-color: var(--retried); }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--rule); border-radius: 8px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
thead th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num { text-align: right; white-space: nowrap; } td.fail-line { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-word; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; color: #fff; background: var(--skip); }
.badge.failed { background: var(--fail); } .badge.passed { background: var(--pass); } .badge.flaky { background: var(--flaky); } .badge.retried { background: var(--retried); }
.class { font-family: ui-monospace, monospace; font-size: 12px; }
details.scenario { background: var(--card); border: 1px solid var(--rule); border-left: 4px solid var(--skip); border-radius: 8px; margin: 10px 0; padding: 0 14px; }
details.scenario.failed { border-left-color: var(--fail); } details.scenario.passed { border-left-color: var(--pass); } details.scenario.flaky { border-left-color: var(--flaky); }
details.scenario.retried { border-left-color: var(--retried); } .attempt { color: var(--muted); }
details.scenario > summary { cursor: pointer; padding: 10px 0; list-style-position: outside; }
details.scenario > summary .meta { color: var(--muted); font-size: 12.5px; margin-left: 6px; }
details.scenario[open] > summary { border-bottom: 1px solid var(--rule); margin-bottom: 8px; }
.scenario .body { padding-bottom: 12px; }
svg.timeline { display: block; margin: 8px 0 4px; max-height: 180px; }
svg.timeline text { fill: var(--muted); font: 11px system-ui, sans-serif; } svg.timeline text.tick { text-anchor: middle; font-size: 10px; }
svg.timeline .lane-rule { stroke: var(--rule); } svg.timeline .axis { stroke: var(--muted); }
svg.timeline .step.passed { fill: var(--pass); } svg.timeline .step.failed, svg.timeline .step.timedOut { fill: var(--fail); }
svg.timeline .step.unfinished { fill: var(--flaky); }
svg.timeline .mark.ok, svg.timeline .mark.info { fill: var(--info); } svg.timeline .mark.bad, svg.timeline .bucket.bad { fill: var(--fail); }
svg.timeline .mark.stopped { fill: var(--info); opacity: .3; } svg.timeline .bucket.info { fill: var(--info); opacity: .7; } svg.timeline rect:hover { opacity: .75; }
.legend { font-size: 12px; color: var(--muted); } .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: -1px; }
.grid-wrap { overflow-x: auto; } table.grid { width: auto; } table.grid th.scn { font-weight: 500; white-space: nowrap; }
table.grid th.night { font-size: 11px; writing-mode: vertical-rl; transform: rotate(180deg); padding: 4px 2px; }
td.cell { width: 18px; min-width: 18px; height: 18px; padding: 0; text-align: center; font-size: 11px; color: #fff; border: 2px solid var(--card); border-radius: 4px; }
td.cell.passed { background: var(--pass); } td.cell.failed { background: var(--fail); } td.cell.flaky { background: var(--flaky); }
td.cell.skipped { background: var(--skip); } td.cell.none { background: transparent; } td.rate { font-variant-numeric: tabular-nums; }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px; }
figure.trend { margin: 0; background: var(--card); border: 1px solid var(--rule); border-radius: 8px; padding: 10px; }
figure.trend.regression { border-color: var(--fail); } figure.trend figcaption { font-size: 13px; margin-bottom: 6px; }
.chart { min-height: 170px; }
.uplot, .uplot * { color: var(--fg); } .u-legend { font-size: 11px; }
`;

const OUTCOME_LABEL: Record<Outcome, string> = { failed: 'failed', flaky: 'flaky', retried: 'passed on retry', passed: 'passed', skipped: 'skipped' };

/** Bytes the timelines may take together (about 170 per mark with its tooltip), so 50 scenarios stay under 1 MB with uPlot. */
const TIMELINE_BYTES = 650_000;
const BYTES_PER_MARK = 170;

export function renderReport(run: RunModel, history?: HistoryView): string {
  const markBudget = Math.floor(TIMELINE_BYTES / BYTES_PER_MARK / Math.max(1, run.scenarios.length));
  const drawn = new Map(run.scenarios.map((s) => [s.id, s.timeline ? timelineSvg(s.timeline, s.title, markBudget) : undefined]));
  const charts = history ? trendCharts(history) : [];
  const uplot = history && charts.length ? uplotAssets() : undefined;
  const title = `dextbench report${run.startTime ? ` — ${run.startTime.slice(0, 16).replace('T', ' ')} UTC` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}${uplot ? uplot.css : ''}</style></head>
<body><main>
<h1>${esc(title)}</h1>
<p class="muted">${run.scenarios.length} scenario runs from ${esc(run.source)}${history ? ` · history: ${esc(history.where)}` : ''}</p>
${counts(run.scenarios)}
<h2>Scenarios</h2>
${scenarioTable(run.scenarios)}
<h2>Timelines</h2>
<p class="legend">steps:<i style="background:var(--pass)"></i>passed<i style="background:var(--fail)"></i>failed / timed out<i style="background:var(--flaky)"></i>did not finish · marks:<i style="background:var(--info)"></i>event<i style="background:var(--fail)"></i>failed command, warning · hover a mark for its detail</p>
${run.scenarios.map((s) => scenarioSection(s, drawn.get(s.id)?.svg)).join('\n')}
${history ? `<h2 id="history">Pass rate by night</h2>${passRateGrids(history)}<h2 id="trends">Measurement trends</h2>${trendSection(charts)}` : ''}
</main>
${uplot ? `<script>${uplot.script}</script><script type="application/json" id="trend-data">${jsonForScript(charts)}</script><script>${TREND_SCRIPT}</script>` : ''}
</body></html>
`;
}

function counts(scenarios: ReportScenario[]): string {
  const by = (o: Outcome) => scenarios.filter((s) => s.outcome === o);
  const failed = by('failed');
  const classes = new Map<string, number>();
  for (const s of failed) classes.set(s.failureClass ?? 'unclassified', (classes.get(s.failureClass ?? 'unclassified') ?? 0) + 1);
  const chip = (kind: string, key: string, n: number, label: string) => `<div class="count ${kind}" data-count="${esc(key)}"><b>${n}</b>${esc(label)}</div>`;
  return `<div class="counts">${[
    chip('failed', 'failed', failed.length, 'failed'),
    ...[...classes].sort((a, b) => b[1] - a[1]).map(([c, n]) => chip('failed class', c, n, `class ${c}`)),
    ...(['flaky', 'retried', 'passed', 'skipped'] as const).map((o) => chip(o, o, by(o).length, OUTCOME_LABEL[o])),
  ].join('')}</div>`;
}

function scenarioTable(scenarios: ReportScenario[]): string {
  const rows = scenarios.map((s) => `<tr class="${s.outcome}"><td><span class="badge ${s.outcome}">${OUTCOME_LABEL[s.outcome]}</span></td>`
    + `<td><a href="#${s.id}">${esc(s.title)}</a><div class="muted">${esc(s.file)}</div></td><td>${esc(s.passedOn ? `${s.rig} → ${s.passedOn.rig}` : s.rig)}</td>`
    + `<td class="class">${esc(s.failureClass ?? '')}</td><td class="num">${s.attempts}</td><td class="num">${ms(s.durationMs)}</td>`
    + `<td class="fail-line">${s.failedAttempt && s.failure ? `<span class="attempt">attempt ${s.failedAttempt}:</span> ` : ''}${esc(s.failure ?? '')}</td></tr>`).join('');
  return `<table class="scenarios"><thead><tr><th>outcome</th><th>scenario</th><th>rig</th><th>class</th><th>attempts</th><th>duration</th><th>failure</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function scenarioSection(s: ReportScenario, svg: string | undefined): string {
  const open = s.outcome === 'failed' || s.outcome === 'flaky' || s.outcome === 'retried' ? ' open' : '';
  const meta = [s.passedOn ? `${s.rig} → ${s.passedOn.rig}` : s.rig, s.failureClass ? `class ${s.failureClass}` : '', `${s.attempts} attempt${s.attempts > 1 ? 's' : ''}`, ms(s.durationMs)].filter(Boolean).join(' · ');
  return `<details class="scenario ${s.outcome}" id="${s.id}"${open}><summary><span class="badge ${s.outcome}">${OUTCOME_LABEL[s.outcome]}</span> <b>${esc(s.title)}</b><span class="meta">${esc(meta)}</span></summary><div class="body">`
    + `<div class="muted">${esc(s.file)}</div>`
    + (s.failedAttempt || s.outcome === 'retried' ? `<p class="retry">${esc(laterPass(s))}</p>` : '')
    + (s.failure ? `<pre class="failure">${esc(s.failure)}</pre>` : '')
    + (s.repro ? `<div>repro: <code class="repro">${esc(s.repro)}</code></div>` : '')
    + (svg ?? `<p class="muted no-timeline">${esc(s.noTimeline ?? 'no timeline')}</p>`)
    + '</div></details>';
}

/** How a scenario that failed an attempt passed after all, one line. */
function laterPass(s: ReportScenario): string {
  const failed = `attempt ${s.failedAttempt ?? 1} of ${s.attempts} failed${s.failureClass ? ` (class ${s.failureClass})` : ''}`;
  if (s.outcome === 'flaky') return `${failed}; passed on Playwright's retry (--retries)`;
  if (s.passedOn) return `${failed} on rig ${s.rig}; passed on rig ${s.passedOn.rig} on infrastructure retry ${s.passedOn.retry} (its reports are in infra-retry-${s.passedOn.retry}/)`;
  return `${failed} on rig ${s.rig}; ${s.retryNote ?? 'passed on an infrastructure retry'}`;
}

/** JSON inside a <script> element: `<` escaped so no `</script>` can end it early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
