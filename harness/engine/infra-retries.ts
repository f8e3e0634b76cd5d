// After a run: what failed on infrastructure (the `dextbench.class` annotation) is the rig's fault,
// not the driver's. Each rig that had one is health-checked again (LAVA puts such a device back
// through its health check, shared/reference/nightly-ops.md §1), and its failed scenarios run again,
// at most `retries` times: on another good rig of the same `class:` when the run has one, else on
// the same rig once its check passed. Product, configuration and harness failures are never retried
// here; Playwright's own --retries are its business, reported as such.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeHealth, healthRecord, readHealth, writeHealth, type HealthRecord } from '../rig/health.ts';
import type { RigSession } from '../rig/connect.ts';
import { activeHold, describeHolder } from '../rig/lease.ts';
import type { RigDefinition } from '../rig/types.ts';
import { runHealthCheck } from './health-check.ts';
import { runPlaywright } from './playwright-process.ts';
import { readRunResults, type ScenarioResult } from './run-results.ts';
import type { RunConfig } from './run-config.ts';
import type { RunLeases } from './run-leases.ts';

/** Options that must not narrow or repeat a retry the way they did the run. */
const NOT_FOR_RETRIES = new Set(['--shard', '--last-failed', '--repeat-each']);

/** A failure still to retry: `origin` is the rig it failed on in the run itself, `rig` the one it last failed on. */
interface OpenFailure { file: string; origin: string; rig: string; failure: string }

/** A scenario that failed on infrastructure on rig `from` in the run and passed on rig `to` on retry `attempt`. */
export interface PassedRetry { file: string; from: string; to: string; attempt: number }

export interface RetriesOutcome {
  /** The run's exit code: 0 when every failure was infrastructure that a retry then passed. */
  code: number;
  passed: PassedRetry[];
}

/**
 * Reads the finished run's results.json, checks and retries its infrastructure failures, and
 * returns the run's exit code and the retries that passed.
 */
export async function retryInfrastructureFailures(
  config: RunConfig, rigs: RigDefinition[], passthrough: string[], runExitCode: number, retries: number, leases: RunLeases,
): Promise<RetriesOutcome> {
  const results = readRunResults(join(config.reportDir, 'results.json'), config.rootDir);
  const passed: PassedRetry[] = [];
  if (!results) return { code: runExitCode, passed };
  const show = (file: string) => relative(config.rootDir, file) || file;
  for (const r of results.filter((r) => r.outcome === 'flaky')) {
    console.log(`dextbench: ${show(r.file)} on rig ${r.rig} passed on Playwright's own retry (--retries; attempt ${r.attempts} of the run): flaky`);
  }
  const failed = results.filter((r) => r.outcome === 'unexpected');
  const infrastructure = infrastructureFailures(results);
  let others = failed.length - infrastructure.length;
  let open: OpenFailure[] = infrastructure.map((r) => ({ file: r.file, origin: r.rig, rig: r.rig, failure: r.failure ?? 'failed' }));
  if (!open.length) return { code: runExitCode, passed };
  // --max-failures (dextbench repro --repeat-until-fail) asked the run to stop at its first
  // failures: running them again would go on where the user asked to stop.
  const stopped = stoppedEarly(join(config.reportDir, 'results.json'));
  if (stopped) {
    console.log(`dextbench: ${stopped}: its infrastructure failures are not retried (their rigs are still checked)`);
    retries = 0;
  }
  const byName = new Map(rigs.map((r) => [r.name, r]));
  const passthroughForRetries = withoutOptions(passthrough, NOT_FOR_RETRIES);

  for (let attempt = 1; open.length; attempt++) {
    const health = new Map<string, HealthRecord | 'held'>();
    for (const name of new Set(open.map((o) => o.rig))) {
      const first = open.find((o) => o.rig === name)!;
      health.set(name, await recheckRig(byName.get(name)!, config, `infrastructure failure in ${show(first.file)}: ${first.failure}`, leases));
    }
    if (attempt > retries) break;
    const plan: (OpenFailure & { to: string })[] = [];
    const stay: OpenFailure[] = [];
    for (const failure of open) {
      const to = await retryRig(byName.get(failure.rig)!, rigs, health, leases);
      if (to) plan.push({ ...failure, to });
      else {
        const was = health.get(failure.rig)!;
        console.log(`dextbench: ${show(failure.file)} is not retried: rig ${failure.rig} is ${was === 'held' ? 'held' : was.state}` +
          ` and the run has no other good rig of its class${byName.get(failure.rig)!.class ? ` (${byName.get(failure.rig)!.class})` : ' (the rig names no class:)'}`);
        stay.push(failure);
      }
    }
    if (!plan.length) break;
    for (const p of plan) {
      console.log(`dextbench: infrastructure retry ${attempt}/${retries}: ${show(p.file)} on rig ${p.to} (failed on rig ${p.rig}: ${p.failure})`);
    }
    const retryDir = `infra-retry-${attempt}`;
    const retryConfig: RunConfig = {
      ...config,
      rigFiles: [...new Set(plan.map((p) => byName.get(p.to)!.file))],
      scenarioFiles: [...new Set(plan.map((p) => p.file))],
      runsOn: Object.fromEntries([...new Set(plan.map((p) => p.file))].map((file) => [file, [...new Set(plan.filter((p) => p.file === file).map((p) => p.to))]])),
      reportDir: join(config.reportDir, retryDir),
      outputDir: join(config.outputDir, retryDir),
    };
    const exit = await runPlaywright(retryConfig, passthroughForRetries, leases.env(new Set(plan.map((p) => p.to))));
    if (exit.interrupted) return { code: exit.code, passed };
    const again = readRunResults(join(retryConfig.reportDir, 'results.json'), config.rootDir) ?? [];
    const next: OpenFailure[] = [];
    for (const p of plan) {
      const r: ScenarioResult | undefined = again.find((a) => a.file === p.file && a.rig === p.to);
      if (r && (r.outcome === 'expected' || r.outcome === 'flaky')) {
        console.log(`dextbench: ${show(p.file)} passed on rig ${p.to} on infrastructure retry ${attempt} (reports in ${show(retryConfig.reportDir)})`);
        passed.push({ file: p.file, from: p.origin, to: p.to, attempt });
      } else if (r?.failureClass === 'infrastructure') {
        next.push({ file: p.file, origin: p.origin, rig: p.to, failure: r.failure ?? 'failed' });
      } else {
        console.log(`dextbench: ${show(p.file)} failed again on rig ${p.to} on infrastructure retry ${attempt}${r?.failureClass ? ` (${r.failureClass})` : ''}: ${r?.failure ?? `the retry did not run it (exit ${exit.code})`}`);
        others++;
      }
    }
    open = next;
    others += stay.length;
  }
  return { code: others || open.length ? 1 : 0, passed };
}

/**
 * The rig's health after an infrastructure failure: its health check, under the run's lease, when
 * it names one; otherwise unknown, saying why (LAVA's device goes to Unknown). A held rig (--hold)
 * is left as it is: no check, its health unchanged.
 */
async function recheckRig(rig: RigDefinition, config: RunConfig, why: string, leases: RunLeases): Promise<HealthRecord | 'held'> {
  const session = leases.session(rig.name);
  if (await isHeld(session)) return 'held';
  let record: HealthRecord;
  if (!rig.health) {
    record = healthRecord(rig.name, 'unknown', { setBy: 'dextbench run', why });
    await writeHealth(session.exec, session.leaseDir, record);
  } else {
    console.log(`dextbench: rig ${rig.name} had an infrastructure failure: running its health check ${relative(config.rootDir, rig.health)}`);
    record = await runHealthCheck(session, { leaseToken: leases.token(rig.name), rootDir: config.rootDir, vars: config.vars, setBy: 'dextbench run' });
  }
  console.log(`dextbench: rig ${rig.name}: ${describeHealth(record)}`);
  return record;
}

/** Another good rig of the failed rig's class in this run, else the same rig when it is good again. */
async function retryRig(failedOn: RigDefinition, rigs: RigDefinition[], health: Map<string, HealthRecord | 'held'>, leases: RunLeases): Promise<string | undefined> {
  if (failedOn.class) {
    for (const other of rigs.filter((r) => r.class === failedOn.class && r.name !== failedOn.name)) {
      let record = health.get(other.name);
      if (!record) {
        const session = leases.session(other.name);
        record = await isHeld(session) ? 'held' : await readHealth(session.exec, session.leaseDir, other.name);
        health.set(other.name, record);
      }
      if (record !== 'held' && record.state === 'good') return other.name;
    }
  }
  const own = health.get(failedOn.name);
  return own !== 'held' && own?.state === 'good' ? failedOn.name : undefined;
}

/** A rig held as a failure left it (--hold) is a person's: nothing checks it or runs on it; says so once. */
async function isHeld(session: RigSession): Promise<boolean> {
  const { name, reservation } = session.definition;
  const hold = await activeHold(session.exec, session.leaseDir, name, reservation.ttlMs);
  if (hold) console.log(`dextbench: rig ${name} is held by ${describeHolder(hold)}: no health check and no retry runs on it while it is held`);
  return hold !== undefined;
}

/**
 * The run's failures that infrastructure retries take: infrastructure is what the failing attempt
 * was classed. An attempt cut short by a stop (--max-failures, Ctrl-C) is `interrupted`: whatever
 * it ran into then (a hub op killed mid-way) is the stop's doing, not the rig's, so a test whose
 * last attempt was interrupted is not one, whatever class that attempt carries.
 */
export function infrastructureFailures(results: ScenarioResult[]): ScenarioResult[] {
  return results.filter((r) => r.outcome === 'unexpected' && r.lastStatus !== 'interrupted' && r.failureClass === 'infrastructure');
}

/**
 * Playwright's line when --max-failures stopped the run (an error of the run, outside every test:
 * "1 error was not a part of any test"); undefined otherwise. Never a class of its own.
 */
export function stoppedEarly(resultsFile: string): string | undefined {
  if (!existsSync(resultsFile)) return undefined;
  const { errors } = JSON.parse(readFileSync(resultsFile, 'utf8')) as { errors?: { message?: string }[] };
  const line = errors?.map((e) => e.message ?? '').find((m) => /^Testing stopped early after \d+ maximum allowed failures/.test(m));
  return line?.replace(/\.$/, '').replace(/^Testing stopped/, 'the run stopped');
}

function withoutOptions(argv: string[], names: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split('=')[0]!;
    if (!names.has(name)) {
      out.push(arg);
      continue;
    }
    // `--shard 1/3` carries its value in the next word; `--last-failed` has none.
    if (!arg.includes('=') && name !== '--last-failed') i++;
  }
  return out;
}
