// Before any worker: reserve every rig of the run for the whole run, on its host (attaching a
// simulated Mac first, which then stays up until the run's last user lets go). The runner holds
// the leases and renews them; workers come and go (a failing test restarts its worker) and check
// before each scenario that the run still holds its rig. Rigs are reserved in name order, so two
// runs over overlapping rigs never hold one each while waiting for the other. With its lease held,
// a rig's health is judged (engine/health-check.ts): bad or maintenance refuses the run, unknown is
// checked first.
import { checkLeaseHeld, describeHolder, type Lease } from '../rig/lease.ts';
import { openRig, reserveRig, type OpenedRig } from '../rig/open.ts';
import { loadRig } from '../scenario/index.ts';
import { formatMs } from '../common/time.ts';
import { admitRig } from './health-check.ts';
import { heldLeaseEnvKey, readRunConfig } from './run-config.ts';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const run = readRunConfig();
  const held: { opened: OpenedRig; lease?: Lease }[] = [];
  const releaseAll = async (): Promise<void> => {
    for (const { opened, lease } of held.reverse()) {
      await lease?.release().catch((error: unknown) => console.error(`dextbench: ${(error as Error).message}`));
      await opened.close().catch(() => { /* the host is gone; its lease expires by its TTL */ });
    }
  };
  const rigs = run.rigFiles.map((file) => loadRig(file, { vars: run.vars })).sort((a, b) => a.name.localeCompare(b.name));
  try {
    for (const rig of rigs) {
      const opened = await openRig(rig, { projectDir: run.rootDir, who: `dextbench run (pid ${process.pid})` });
      const entry: (typeof held)[number] = { opened };
      held.push(entry);
      if (run.healthCheckOf === rig.name) {
        // The rig's health check: its caller holds the lease for it and keeps it alive.
        const token = process.env[heldLeaseEnvKey(rig.name)] ?? '';
        await checkLeaseHeld(opened.session.exec, opened.session.leaseDir, rig.name, token, rig.reservation.ttlMs);
        continue;
      }
      const lease = await reserveRig(opened.session, {
        owner: 'dextbench run',
        waitMs: rig.reservation.waitMs,
        onWait: (state) => console.log(`dextbench: rig ${rig.name} is reserved by ${describeHolder(state)}; waiting up to ${formatMs(rig.reservation.waitMs)}`),
      });
      entry.lease = lease;
      if (lease.tookOverFrom) {
        console.log(`dextbench: rig ${rig.name}: took over the expired reservation of ${describeHolder(lease.tookOverFrom)}`);
      }
      lease.keepAlive((error) => console.error(`dextbench: ${error.message}; the run's next scenarios on it fail`));
      process.env[heldLeaseEnvKey(rig.name)] = lease.holder.token;
      await admitRig(opened.session, run, lease.holder.token);
    }
  } catch (error) {
    await releaseAll();
    throw oneLineError(error);
  }
  return releaseAll;
}

/** Playwright prints a global setup error with its stack; ours are one line for the user. */
function oneLineError(error: unknown): Error {
  const e = new Error(error instanceof Error ? error.message : String(error));
  e.stack = e.message;
  return e;
}
