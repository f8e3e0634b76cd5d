// Running a rig's health check (its `health:` scenario); a run judges its rigs' health with it
// (engine/run-leases.ts). The check is an ordinary run of that scenario on that rig, by whoever holds the rig's
// lease: the holder hands its lease to the check (the lease's token, through the environment), so
// nobody can take the rig between the check and what the holder does next.
import { join, relative } from 'node:path';
import type { RigSession } from '../rig/connect.ts';
import { healthRecord, stateAfterCheck, writeHealth, type HealthRecord } from '../rig/health.ts';
import { runPlaywright } from './playwright-process.ts';
import { readRunResults } from './run-results.ts';
import { heldLeaseEnvKey, type RunConfig } from './run-config.ts';

export interface HealthCheckOptions {
  /** The token of the rig's lease, which the caller holds for the whole check. */
  leaseToken: string;
  /** The project: scenario paths are shown relative to it, and checks report under its .dextbench/health/. */
  rootDir: string;
  vars: Record<string, string>;
  /** Who runs it ("dextbench rig check", "dextbench run"), as the health record says. */
  setBy: string;
}

/** A health check's run id: the rig and the time, so that its reports sort by time. */
export function healthCheckRunId(rigName: string, now = new Date()): string {
  return `check-${rigName}-${now.toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * Runs the rig's health check and records its outcome as the rig's health: passed → good; failed or
 * cancelled → bad, why the failing step's line. Reports go to .dextbench/health/<rig>/<run id>/.
 */
export async function runHealthCheck(session: RigSession, options: HealthCheckOptions): Promise<HealthRecord> {
  const rig = session.definition;
  if (!rig.health) throw new Error(`rig "${rig.name}" names no health check (health: <scenario file> in ${rig.file})`);
  const runId = healthCheckRunId(rig.name);
  const reportDir = join(options.rootDir, '.dextbench', 'health', rig.name, runId);
  const config: RunConfig = {
    rigFiles: [rig.file], scenarioFiles: [rig.health], runsOn: { [rig.health]: [rig.name] }, vars: options.vars,
    reporters: ['list', 'json'], reportDir, outputDir: join(reportDir, 'test-results'), rootDir: options.rootDir,
  };
  const exit = await runPlaywright(config, [], { [heldLeaseEnvKey(rig.name)]: options.leaseToken });
  const results = readRunResults(join(reportDir, 'results.json'), options.rootDir) ?? [];
  const failed = results.find((r) => r.outcome === 'unexpected');
  const outcome = exit.interrupted || failed?.lastStatus === 'interrupted' ? 'cancelled'
    : exit.code === 0 && results.length > 0 && !failed ? 'passed' : 'failed';
  const check = relative(options.rootDir, rig.health);
  const why = outcome === 'passed' ? `health check ${check} passed`
    : outcome === 'cancelled' ? `health check ${check} was cancelled${failed?.failure ? ` during ${failed.failure}` : ''}`
      : failed?.failure ?? `health check ${check} failed before its scenario ran (exit ${exit.code}; reports in ${relative(options.rootDir, reportDir)})`;
  const record = healthRecord(rig.name, stateAfterCheck(outcome), { setBy: options.setBy, why, runId });
  await writeHealth(session.exec, session.leaseDir, record);
  return record;
}
