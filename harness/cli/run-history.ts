// What `dextbench run` does with the history: before the run, which scenarios are quarantined (the
// report says so beside them); after it, the run appended (its results.json, and the reports of its
// infrastructure retries as later attempts) and the exit code with quarantined failures left out.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { activeQuarantine, describeQuarantine, localDay, type QuarantineEntry } from '../history/quarantine.ts';
import { appendRun } from '../history/record.ts';
import { addBuilds, dextVersionsOf, readReport, readReportWithBuilds, testKey, type RunRecord } from '../history/report.ts';
import { openHistory, type HistoryTarget } from '../history/store.ts';
import type { RunConfig } from '../engine/run-config.ts';

type StoreTarget = Exclude<HistoryTarget, { kind: 'off' }>;

export async function quarantinedNow(target: StoreTarget): Promise<QuarantineEntry[]> {
  const store = await openHistory(target);
  try {
    return await activeQuarantine(store, localDay());
  } finally {
    await store.close();
  }
}

/**
 * Appends the run; a history that cannot be written is one loud line, and the run's exit code
 * stays what its scenarios made it.
 */
export async function recordRun(target: StoreTarget, config: RunConfig): Promise<void> {
  const run = runRecord(config.reportDir, config.rootDir);
  if (!run) return;
  try {
    const store = await openHistory(target);
    try {
      const { id, added } = await appendRun(store, run);
      if (added) console.log(`dextbench: run ${id} added to the history (${store.where}): dextbench history shows pass rates and trends`);
      else console.log(`dextbench: the run's report is already in the history as run ${id} (${store.where})`);
    } finally {
      await store.close();
    }
  } catch (error) {
    console.error(`dextbench: the run was not added to the history: ${(error as Error).message}`);
  }
}

function reports(reportDir: string): string[] {
  const main = join(reportDir, 'results.json');
  if (!existsSync(main)) return [];
  const retries = readdirSync(reportDir).map((d) => /^infra-retry-(\d+)$/.exec(d)).filter((m) => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => join(reportDir, m[0], 'results.json')).filter(existsSync);
  return [main, ...retries];
}

/**
 * The run as one record: an infrastructure retry's attempts follow the run's own on that rig. The
 * builds stay per rig until all the reports are read, so a retry on a rig with another build of a
 * bundle keeps both (`<bundle>@<rig>`); on a rig both ran on, the run's own build stays.
 */
export function runRecord(reportDir: string, rootDir: string): RunRecord | undefined {
  const [first, ...retries] = reports(reportDir).map(readReportWithBuilds);
  if (!first) return undefined;
  const { record: main, builds } = first;
  const attempts = new Map<string, number>();
  for (const r of main.results) attempts.set(testKey(r), Math.max(attempts.get(testKey(r)) ?? -1, r.attempt));
  for (const { record: retry, builds: retryBuilds } of retries) {
    const next = new Map<string, number>();
    for (const r of retry.results) {
      const attempt = (attempts.get(testKey(r)) ?? -1) + 1 + r.attempt;
      next.set(testKey(r), Math.max(next.get(testKey(r)) ?? -1, attempt));
      main.results.push({ ...r, attempt });
    }
    for (const [k, v] of next) attempts.set(k, v);
    main.measurements.push(...retry.measurements);
    addBuilds(builds, retryBuilds);
    if (retry.ended > main.ended) main.ended = retry.ended;
  }
  const rigs = new Set(main.results.map((r) => r.rig));
  const commit = gitCommit(rootDir);
  return { ...main, dextVersions: dextVersionsOf(builds), rig: [...rigs].sort().join(', '), source: join(reportDir, 'results.json'), ...(commit ? { commit } : {}) };
}

/** The project's commit: CI's (GitHub Actions, GitLab, Buildkite), else git's; none outside a checkout. */
function gitCommit(dir: string): string | undefined {
  for (const name of ['GITHUB_SHA', 'CI_COMMIT_SHA', 'BUILDKITE_COMMIT']) {
    if (process.env[name]) return process.env[name];
  }
  // No git, or not a checkout: the run is recorded without a commit.
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && /^[0-9a-f]{40,64}$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
}

/**
 * Exit code 1 stands unless every scenario that failed is quarantined or passed on an
 * infrastructure retry; each quarantined failure is named with its owner and date.
 */
export function exitIgnoringQuarantined(code: number, config: RunConfig, quarantined: QuarantineEntry[]): number {
  if (code !== 1 || quarantined.length === 0) return code;
  const [main, ...retries] = reports(config.reportDir).map(readReport);
  if (!main) return code;
  const byName = new Map(quarantined.map((q) => [q.scenario, q]));
  const last = new Map<string, RunRecord['results'][number]>();
  // By test: an infrastructure retry merged into results.json is its test's last attempt, wherever it ran.
  for (const r of main.results) last.set(testKey({ ...r, rig: r.movedFrom ?? r.rig }), r);
  const failed = [...last.values()].filter((r) => r.status !== 'passed' && r.status !== 'skipped');
  if (!failed.length) return code;
  const passedOnRetry = new Set(retries.flatMap((retry) => retry.results.filter((r) => r.status === 'passed').map((r) => r.scenario)));
  let counted = 0;
  for (const r of failed) {
    const entry = byName.get(r.scenario);
    if (entry) console.log(`dextbench: "${r.scenario}" failed on rig ${r.rig}, but it is ${describeQuarantine(entry)}: the run does not fail for it`);
    else if (!passedOnRetry.has(r.scenario)) counted++;
  }
  return counted ? code : 0;
}
