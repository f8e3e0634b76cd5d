// Hands-on commands (`rig`, `sysext`) connect to a rig outside a run. A simulated Mac keeps its
// state in .dextbench/sim/<rig>, so `rig plug` then `rig status` see the same Mac, as on real hardware.
import { resolve } from 'node:path';
import { connectRig, type RigSession } from '../rig/connect.ts';
import { startSimulatedMac } from '../rig/sim-launcher.ts';
import { loadRig } from '../scenario/index.ts';
import { packageRoot } from './paths.ts';

export async function openRig(rigFile: string, vars: Record<string, string>): Promise<{ session: RigSession; close(): Promise<void> }> {
  const definition = loadRig(resolve(rigFile), { vars });
  if (definition.host.kind !== 'sim') {
    const session = connectRig(definition, {});
    return { session, close: () => session.close() };
  }
  const sim = await startSimulatedMac(definition, { stateDir: resolve('.dextbench', 'sim', definition.name), repoRoot: packageRoot });
  const session = connectRig(definition, { sim: { binDir: sim.binDir } });
  return {
    session,
    close: async () => {
      await session.close();
      await sim.stop();
    },
  };
}
