// Starts a simulated Mac for each sim rig of the run, before any worker: the sim outlives workers
// (a failing test restarts its worker, but a Mac keeps its state), and stops after the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRig } from '../scenario/index.ts';
import { startSimulatedMac } from '../rig/sim-launcher.ts';
import { readRunConfig, repoRoot, simEnvKey } from './run-config.ts';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const run = readRunConfig();
  const stops: (() => Promise<void>)[] = [];
  for (const file of run.rigFiles) {
    const rig = loadRig(file, { vars: run.vars });
    if (rig.host.kind !== 'sim') continue;
    const stateDir = mkdtempSync(join(tmpdir(), `dextbench-sim-${rig.name}-`));
    const sim = await startSimulatedMac(rig, { stateDir, repoRoot });
    process.env[simEnvKey(rig.name)] = JSON.stringify({ binDir: sim.binDir });
    stops.push(async () => {
      await sim.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });
  }
  return async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
}
