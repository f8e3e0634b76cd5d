// `dextbench history [--scenario s] [--rig r] [--json]`, `dextbench history import <results.json|blob dir>`,
// `dextbench history quarantine [<scenario> --owner o --until YYYY-MM-DD [--why w] | <scenario> --remove]`;
// each takes `--history postgres://…|folder|off` (default: DEXTBENCH_HISTORY, else .dextbench/history).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { activeQuarantine, describeQuarantine, localDay, quarantine, unquarantine } from '../history/quarantine.ts';
import { appendRun } from '../history/record.ts';
import { readReport, type RunRecord } from '../history/report.ts';
import { listRuns } from '../history/runs.ts';
import { historyTarget, openHistory, type HistoryStore } from '../history/store.ts';
import { summarize, type HistorySummary } from '../history/summary.ts';
import { parseArgs } from './args.ts';
import { UsageError } from './errors.ts';

const USAGE = 'usage: dextbench history [--scenario name] [--rig r] [--json] [--history postgres://…|folder]\n' +
  '       dextbench history import <results.json|blob report folder> [--history …]\n' +
  '       dextbench history quarantine [<scenario> --owner who --until YYYY-MM-DD [--why "…"] | <scenario> --remove] [--history …]';

export async function historyCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--history', '--scenario', '--rig', '--owner', '--until', '--why'], flags: ['--json', '--remove'], strict: true });
  const [action, ...rest] = args.positionals;
  const target = historyTarget(args.options.get('--history')?.at(-1), process.env, process.cwd());
  if (target.kind === 'off') throw new UsageError('the history is off (--history off or DEXTBENCH_HISTORY=off): name a store with --history');
  const only = (allowed: string[]) => {
    const extra = [...args.options.keys(), ...args.flags].filter((o) => !allowed.includes(o) && o !== '--history');
    if (extra.length) throw new UsageError(`${extra.join(', ')} ${extra.length > 1 ? 'do' : 'does'} not go with dextbench history${action ? ` ${action}` : ''}\n${USAGE}`);
  };
  if (action === 'import') {
    only([]);
    if (rest.length !== 1) throw new UsageError(USAGE);
    const run = importable(resolve(rest[0]!));
    return withStore(target, async (store) => {
      const { id, added } = await appendRun(store, run);
      if (!added) console.log(`${rest[0]} is already in the history as run ${id}: not imported again (${store.where})`);
      else console.log(`imported ${rest[0]} as run ${id}: ${run.results.length} results, ${run.measurements.length} measurements (${store.where})`);
      return 0;
    });
  }
  if (action === 'quarantine') {
    return quarantineCommand(args, rest, target, only);
  }
  if (action !== undefined) throw new UsageError(`unknown history command "${action}"\n${USAGE}`);
  only(['--scenario', '--rig', '--json']);
  const filter = { scenario: args.options.get('--scenario')?.at(-1), rig: args.options.get('--rig')?.at(-1) };
  return withStore(target, async (store) => {
    const summary = await summarize(store, filter);
    if (args.flags.has('--json')) {
      // `runs`: the commit and extension builds behind each run number the summary names.
      console.log(JSON.stringify({ ...summary, runs: await listRuns(store, filter) }, null, 2));
      return 0;
    }
    printSummary(summary, await activeQuarantine(store, localDay()), store.where);
    return 0;
  });
}

async function quarantineCommand(
  args: ReturnType<typeof parseArgs>, rest: string[], target: Parameters<typeof openHistory>[0], only: (allowed: string[]) => void,
): Promise<number> {
  if (rest.length === 0) {
    only([]);
    return withStore(target, async (store) => {
      const entries = await activeQuarantine(store, localDay());
      if (!entries.length) console.log('no scenario is quarantined');
      for (const e of entries) console.log(`${e.scenario}: ${describeQuarantine(e)}`);
      return 0;
    });
  }
  if (rest.length !== 1) throw new UsageError(`quarantine takes one scenario name (quote a name with spaces)\n${USAGE}`);
  const scenario = rest[0]!;
  if (args.flags.has('--remove')) {
    only(['--remove']);
    return withStore(target, async (store) => {
      if (!await unquarantine(store, scenario)) throw new Error(`"${scenario}" is not quarantined (dextbench history quarantine lists the quarantined)`);
      console.log(`${scenario}: no longer quarantined`);
      return 0;
    });
  }
  only(['--owner', '--until', '--why']);
  const owner = args.options.get('--owner')?.at(-1)?.trim();
  const until = args.options.get('--until')?.at(-1);
  if (!owner) throw new UsageError('quarantine needs --owner: who answers for the scenario while it is quarantined');
  if (!until) throw new UsageError('quarantine needs --until YYYY-MM-DD: the last day it holds (a quarantine never lasts for ever)');
  if (!validDay(until)) throw new UsageError(`--until expects a date YYYY-MM-DD, got ${JSON.stringify(until)}`);
  if (until < localDay()) throw new UsageError(`--until ${until} is in the past (today is ${localDay()})`);
  const entry = { scenario, owner, until, why: args.options.get('--why')?.at(-1) ?? null };
  return withStore(target, async (store) => {
    await quarantine(store, entry);
    console.log(`${scenario}: ${describeQuarantine(entry)}; it still runs and is reported, but its failure does not fail a run`);
    return 0;
  });
}

async function withStore(target: Parameters<typeof openHistory>[0], work: (store: HistoryStore) => Promise<number>): Promise<number> {
  const store = await openHistory(target);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function validDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** A results.json as it is; a blob report folder merged into one by Playwright's merge-reports. */
function importable(path: string): RunRecord {
  if (!existsSync(path)) throw new UsageError(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return readReport(path);
  const scratch = mkdtempSync(join(tmpdir(), 'dextbench-import-'));
  try {
    const merged = join(scratch, 'results.json');
    const cli = createRequire(import.meta.url).resolve('@playwright/test/cli');
    const r = spawnSync(process.execPath, [cli, 'merge-reports', '--reporter', 'json', path], {
      env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: merged }, encoding: 'utf8', timeout: 120_000,
    });
    if (r.status !== 0 || !existsSync(merged)) {
      const why = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n')[0];
      throw new Error(`${path}: not a blob report folder Playwright can merge (${why || `merge-reports exited ${r.status}`})`);
    }
    return { ...readReport(merged), source: path };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function printSummary(summary: HistorySummary, quarantined: Awaited<ReturnType<typeof activeQuarantine>>, where: string): void {
  if (!summary.scenarios.length) {
    console.log(`no runs in the history yet (${where})`);
    return;
  }
  const q = new Map(quarantined.map((e) => [e.scenario, e]));
  const percent = (x: number) => `${Math.round(x * 100)}%`;
  table(['scenario', 'rig', 'runs', 'pass', 'flake', 'last failure'], summary.scenarios.map((s) => [
    s.scenario + (q.has(s.scenario) ? ` [${describeQuarantine(q.get(s.scenario)!)}]` : ''),
    s.rig, String(s.runs), percent(s.passRate), s.flakeScore.toFixed(2),
    s.lastFailure ? `run ${s.lastFailure.run} ${s.lastFailure.at}${s.lastFailure.class ? ` [${s.lastFailure.class}]` : ''}: ${s.lastFailure.error ?? s.lastFailure.status}` : '-',
  ]));
  if (summary.measurements.length) {
    console.log('');
    table(['measurement', 'scenario', 'rig', 'runs', 'last', 'trend'], summary.measurements.map((m) => [
      m.name + (m.unit ? ` (${m.unit})` : ''), m.scenario, m.rig, String(m.values.length),
      String(round3(m.values.at(-1)!.value)),
      m.regression ? 'REGRESSION: outside mean ± 3σ of the 14 runs before' : 'in band',
    ]));
  }
  console.log(`\npass: runs whose final attempt passed, of the last 30; flake: (pass/fail flips + Playwright flaky) / runs (${where})`);
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
