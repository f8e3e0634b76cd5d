// What `dextbench run` hands to the Playwright config and workers (through the environment, since
// Playwright loads the config and specs in processes of its own).
import { resolve } from 'node:path';
import type { RigSession } from '../rig/connect.ts';
import { describeHolder, LeaseError, ourLeaseHolder } from '../rig/lease.ts';

export interface RunConfig {
  /** Absolute paths of the rig files; each becomes a Playwright project. */
  rigFiles: string[];
  /** Absolute paths of the scenario files to run. */
  scenarioFiles: string[];
  /** By scenario file: the names of the rigs it runs on (those with its devices). */
  runsOn: Record<string, string[]>;
  /** --var NAME=value */
  vars: Record<string, string>;
  /** Reporter names: list, line, dot, html, junit, json, blob. */
  reporters: string[];
  /** Where html/junit/json/blob reports go. */
  reportDir: string;
  /** Playwright's output dir (attachments, .last-run.json). */
  outputDir: string;
  /** The directory scenario paths are shown relative to. */
  rootDir: string;
  /** --hold: a failing scenario's rig is kept as the failure left it, for `forMs` (--hold-for); see hold.ts. */
  hold?: { forMs: number };
  /** Quarantined scenarios, by name: `quarantined by X until Y (why)` (harness/history). */
  quarantined?: Record<string, string>;
}

const ENV_KEY = 'DEXTBENCH_RUN';

export function writeRunConfig(config: RunConfig, env: NodeJS.ProcessEnv): void {
  env[ENV_KEY] = JSON.stringify(config);
}

export function readRunConfig(): RunConfig {
  const raw = process.env[ENV_KEY];
  if (!raw) {
    throw new Error('this Playwright config is driven by `npx dextbench run`; run that instead of `playwright test`');
  }
  return JSON.parse(raw) as RunConfig;
}

/** Environment key under which the holder of the rig's lease hands its token to a Playwright run and its workers. */
export function heldLeaseEnvKey(rigName: string): string {
  return `DEXTBENCH_LEASE_${Buffer.from(rigName).toString('hex')}`;
}

/**
 * The rig's lease the run was handed (engine/run-leases.ts) must still be this run's, and not a hold:
 * once a failure is held (hold.ts), the run's other scenarios leave that rig as it is.
 */
export async function verifyRunLease(rig: RigSession): Promise<void> {
  const token = process.env[heldLeaseEnvKey(rig.definition.name)];
  if (!token) throw new Error(`rig "${rig.definition.name}" was not reserved by this run (run scenarios with dextbench run)`);
  const holder = await ourLeaseHolder(rig.exec, rig.leaseDir, rig.definition.name, token, rig.definition.reservation.ttlMs);
  if (holder.hold) throw new LeaseError(`rig "${rig.definition.name}" is held by ${describeHolder(holder)}: this run's other scenarios on it do not run`);
}

/** The tag that marks a scenario for a rig's project when a run has several rigs. */
export function rigTag(rigName: string): string {
  return `@rig:${rigName}`;
}

export const engineDir = resolve(import.meta.dirname);
