// `dextbench run` on its rigs, reserved for the whole of it (engine/run-leases.ts): each rig's health
// judged first, refused rigs' scenarios moved to good rigs of their class (engine/rig-routing.ts),
// then the Playwright run, the rechecks after its infrastructure failures and their retries, all
// under the same leases.
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { healthLine } from '../rig/health.ts';
import type { RigDefinition } from '../rig/types.ts';
import { retryInfrastructureFailures, type PassedRetry } from './infra-retries.ts';
import { runPlaywright, type PlaywrightExit } from './playwright-process.ts';
import { routeAroundRefused } from './rig-routing.ts';
import { RunLeases } from './run-leases.ts';
import type { RunConfig } from './run-config.ts';

export interface ReservedRunExit extends PlaywrightExit {
  /** Whether Playwright ran at all (not when every rig or every scenario was refused). */
  ran: boolean;
  /** Scenarios refused on a rig with no other good rig of its class: the run fails for them, whatever else passed. */
  refused: number;
  /** Infrastructure failures that passed on a retry (engine/retry-merge.ts writes them into the run's reports). */
  passedRetries: PassedRetry[];
}

/**
 * Runs `config` on `rigs` with their leases held throughout. `config`'s rigFiles and runsOn are
 * narrowed to the rigs admitted, as the run's reports and history then see it.
 */
export async function runOnReservedRigs(config: RunConfig, rigs: RigDefinition[], passthrough: string[], infraRetries: number): Promise<ReservedRunExit> {
  const leases = await RunLeases.take(rigs, config.rootDir);
  try {
    // Ctrl-C during a health check cancels the check (the rig is then bad) and the run with it.
    let stopped = false;
    const stop = () => { stopped = true; };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const refused = await leases.admit(config).finally(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
    if (stopped) return { code: 130, interrupted: true, ran: false, refused: 0, passedRetries: [] };
    if (refused.size === rigs.length) {
      // Every rig refused (a run on one rig, say): the refusals, as they always read, and nothing runs.
      for (const record of refused.values()) console.error(`Error: ${leases.refusal(record)}`);
      return notRun(config, 0);
    }
    const route = routeAroundRefused(config.runsOn, rigs, new Set(refused.keys()));
    for (const [rig, to] of route.movedTo) {
      console.log(`dextbench: ${healthLine(refused.get(rig)!)}: its scenarios run on ${to.map((n) => `rig ${n}`).join(', ')} (class ${rigs.find((r) => r.name === rig)!.class})`);
    }
    for (const { file, rig } of route.unplaced) {
      const rigClass = rigs.find((r) => r.name === rig)!.class;
      console.error(`dextbench: ${relative(config.rootDir, file) || file} does not run: ${leases.refusal(refused.get(rig)!)}; ` +
        `and the run has no other good rig ${rigClass ? `of its class (${rigClass})` : '(the rig names no class:)'}`);
    }
    for (const name of refused.keys()) await leases.release(name);
    config.rigFiles = rigs.filter((r) => !refused.has(r.name)).map((r) => r.file);
    config.runsOn = route.runsOn;
    const refusedScenarios = route.unplaced.length;
    if (Object.values(route.runsOn).every((on) => on.length === 0)) return notRun(config, refusedScenarios);

    const exit = await runPlaywright(config, passthrough, leases.env());
    if (exit.interrupted) return { ...exit, ran: true, refused: refusedScenarios, passedRetries: [] };
    const admitted = rigs.filter((r) => !refused.has(r.name));
    const { code, passed } = await retryInfrastructureFailures(config, admitted, passthrough, exit.code, infraRetries, leases);
    return { code: code || (refusedScenarios ? 1 : 0), interrupted: false, ran: true, refused: refusedScenarios, passedRetries: passed };
  } finally {
    await leases.releaseAll();
  }
}

/**
 * A run refused before Playwright started: an earlier run's results.json or junit.xml in its report
 * folder must not be read (by CI, `dextbench report`) as this run's, as Playwright would have replaced them.
 */
function notRun(config: RunConfig, refused: number): ReservedRunExit {
  for (const name of ['results.json', 'junit.xml']) rmSync(join(config.reportDir, name), { force: true });
  return { code: 1, interrupted: false, ran: false, refused, passedRetries: [] };
}
