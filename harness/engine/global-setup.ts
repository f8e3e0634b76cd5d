// Before any worker: attach every rig of the run (a simulated Mac first, which then stays up until
// the run's last user lets go) and check that the run still holds its lease. The process that
// started Playwright holds the leases and renews them across its runs (engine/run-leases.ts for
// `dextbench run`, the rig check's caller for a health check) and hands each lease's token here
// through the environment; workers come and go (a failing test restarts its worker) and check the
// same token before each scenario.
import { checkLeaseHeld } from '../rig/lease.ts';
import { openRig, type OpenedRig } from '../rig/open.ts';
import { loadRig } from '../scenario/index.ts';
import { heldLeaseEnvKey, readRunConfig } from './run-config.ts';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const run = readRunConfig();
  const opened: OpenedRig[] = [];
  const closeAll = async (): Promise<void> => {
    for (const rig of opened.reverse()) await rig.close().catch(() => { /* the host is gone */ });
  };
  const rigs = run.rigFiles.map((file) => loadRig(file, { vars: run.vars })).sort((a, b) => a.name.localeCompare(b.name));
  try {
    for (const rig of rigs) {
      const one = await openRig(rig, { projectDir: run.rootDir, who: `dextbench run (pid ${process.pid})` });
      opened.push(one);
      const token = process.env[heldLeaseEnvKey(rig.name)];
      if (!token) throw new Error(`rig "${rig.name}" was not reserved by this run (run scenarios with dextbench run)`);
      await checkLeaseHeld(one.session.exec, one.session.leaseDir, rig.name, token, rig.reservation.ttlMs);
    }
  } catch (error) {
    await closeAll();
    throw oneLineError(error);
  }
  return closeAll;
}

/** Playwright prints a global setup error with its stack; ours are one line for the user. */
function oneLineError(error: unknown): Error {
  const e = new Error(error instanceof Error ? error.message : String(error));
  e.stack = e.message;
  return e;
}
