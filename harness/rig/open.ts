// Opening a rig for use: reach its host (attaching its simulated Mac first, for a `host: sim` rig)
// and connect. A run and the hands-on commands open rigs the same way, so they reach the same Mac.
import { packageRoot } from '../common/package-root.ts';
import { connectRig, type RigSession } from './connect.ts';
import { acquireLease, type Lease, type LeaseState } from './lease.ts';
import { attachSimulatedMac, simStateDirFor } from './sim-launcher.ts';
import type { RigDefinition } from './types.ts';

export interface OpenedRig {
  session: RigSession;
  /** Lets go of the host (a simulated Mac stops once nobody uses it). */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The project whose .dextbench/ holds simulated Macs (the current directory for the CLI). */
  projectDir: string;
  /** Who uses it, as other users are told ("dextbench run pid 123"). */
  who: string;
}

export async function openRig(definition: RigDefinition, options: OpenOptions): Promise<OpenedRig> {
  if (definition.host.kind !== 'sim') {
    const session = connectRig(definition);
    return { session, close: () => session.close() };
  }
  const stateDir = simStateDirFor(options.projectDir, definition.name);
  const sim = await attachSimulatedMac(definition, { stateDir, repoRoot: packageRoot, who: options.who });
  try {
    const session = connectRig(definition, { sim: { binDir: sim.binDir, stateDir } });
    return {
      session,
      close: async () => {
        await session.close();
        await sim.detach();
      },
    };
  } catch (error) {
    await sim.detach();
    throw error;
  }
}

/** The rig's lease on its host, with the rig's TTL and the given wait. */
export function reserveRig(
  session: RigSession,
  options: { owner: string; waitMs: number; onWait?: (state: LeaseState) => void },
): Promise<Lease> {
  return acquireLease(session.exec, session.definition.name, {
    baseDir: session.leaseDir,
    ttlMs: session.definition.reservation.ttlMs,
    owner: options.owner,
    waitMs: options.waitMs,
    ...(options.onWait ? { onWait: options.onWait } : {}),
  });
}
