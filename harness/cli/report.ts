// `dextbench report [<results.json | run folder>] [--history [postgres://…|folder]] [-o report.html]`:
// one self-contained HTML file of a run (harness/report/), with the history's grid and trends.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { nightsOf, runTimes } from '../history/nights.ts';
import { historyTarget, openHistory } from '../history/store.ts';
import { summarize } from '../history/summary.ts';
import type { HistoryView } from '../report/history-charts.ts';
import { renderReport } from '../report/html.ts';
import { readRunModel, resultsFileOf } from '../report/model.ts';
import { parseArgs } from './args.ts';
import { UsageError } from './errors.ts';

const USAGE = 'usage: dextbench report [<results.json | run folder>] [--history [postgres://…|folder]] [-o report.html]';

export async function reportCommand(argv: string[]): Promise<number> {
  const args = parseArgs(historyValue(argv), { valued: ['-o', '--output', '--history'], strict: true });
  if (args.positionals.length > 1) throw new UsageError(`report takes one results.json or run folder\n${USAGE}`);
  const cwd = process.cwd();
  const out = resolve(cwd, args.options.get('-o')?.at(-1) ?? args.options.get('--output')?.at(-1) ?? 'report.html');
  const run = readRunModel(resultsFileOf(args.positionals[0], cwd), cwd);
  const historyOption = args.options.get('--history')?.at(-1);
  const history = historyOption === undefined ? undefined : await readHistory(historyOption === '' ? undefined : historyOption, cwd);
  const html = renderReport(run, history);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  const failed = run.scenarios.filter((s) => s.outcome === 'failed').length;
  console.log(`dextbench: report of ${run.scenarios.length} scenario runs (${failed} failed) written to ${relative(cwd, out) || out} (${Math.round(html.length / 1024)} KB)`);
  return 0;
}

/**
 * `--history` alone means the default store; its value is taken from the next argument only when
 * that names a store (a postgres URL, `off`, or a folder that is not a run's report folder), so
 * `report --history dextbench-report` still reads the run folder.
 */
function historyValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== '--history') { out.push(arg); continue; }
    const next = argv[i + 1];
    const isStore = next !== undefined && !next.startsWith('-') && (/^postgres(ql)?:\/\//.test(next) || next === 'off'
      || (existsSync(next) && statSync(next).isDirectory() && !existsSync(join(next, 'results.json'))));
    out.push(`--history=${isStore ? next : ''}`);
    if (isStore) i++;
  }
  return out;
}

async function readHistory(option: string | undefined, cwd: string): Promise<HistoryView> {
  const target = historyTarget(option, process.env, cwd);
  if (target.kind === 'off') throw new UsageError('report --history: the history is off (DEXTBENCH_HISTORY=off); name a store with --history folder|postgres://…');
  if (target.kind === 'embedded' && !existsSync(target.dir)) {
    throw new Error(`report --history: no history in ${relative(cwd, target.dir) || target.dir} (every \`dextbench run\` adds to it; or \`dextbench history import\` a results.json)`);
  }
  const store = await openHistory(target);
  try {
    const summary = await summarize(store);
    const nights = await nightsOf(store);
    const times = await runTimes(store, [...new Set(summary.measurements.flatMap((m) => m.values.map((v) => v.run)))]);
    return { where: store.where, summary, nights, runTimes: times };
  } finally {
    await store.close();
  }
}
