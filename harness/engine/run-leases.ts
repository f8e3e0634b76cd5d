// `dextbench run` reserves each rig of the run for its whole length: the main Playwright run, the
// rechecks after infrastructure failures and the retries. The CLI process takes the leases (in rig
// name order, so two runs over overlapping rigs never hold one each while waiting for the other),
// keeps them alive, and hands each lease's token to every Playwright run it starts through the
// environment; that run's global setup only checks the token still holds the rig. Nobody can take a
// rig between the run and its retries, as they could when each Playwright run took it anew.
import { relative } from 'node:path';
import { formatMs } from '../common/time.ts';
import type { RigSession } from '../rig/connect.ts';
import { readHealth, refusalLine, runDecision, type HealthRecord } from '../rig/health.ts';
import { describeHolder, type Lease } from '../rig/lease.ts';
import { openRig, reserveRig, type OpenedRig } from '../rig/open.ts';
import type { RigDefinition } from '../rig/types.ts';
import { runHealthCheck } from './health-check.ts';
import { heldLeaseEnvKey, type RunConfig } from './run-config.ts';

interface HeldRig { opened: OpenedRig; lease: Lease }

export class RunLeases {
  private readonly held = new Map<string, HeldRig>();

  private constructor(private readonly rootDir: string) {}

  /** Opens and reserves every rig, in name order; on a failure, lets go of what it took and throws. */
  static async take(rigs: RigDefinition[], rootDir: string): Promise<RunLeases> {
    const leases = new RunLeases(rootDir);
    try {
      for (const rig of [...rigs].sort((a, b) => a.name.localeCompare(b.name))) {
        const opened = await openRig(rig, { projectDir: rootDir, who: `dextbench run (pid ${process.pid})` });
        let lease: Lease;
        try {
          lease = await reserveRig(opened.session, {
            owner: 'dextbench run',
            waitMs: rig.reservation.waitMs,
            onWait: (state) => console.log(`dextbench: rig ${rig.name} is reserved by ${describeHolder(state)}; waiting up to ${formatMs(rig.reservation.waitMs)}`),
          });
        } catch (error) {
          await opened.close().catch(() => { /* the host is gone */ });
          throw error;
        }
        leases.held.set(rig.name, { opened, lease });
        if (lease.tookOverFrom) console.log(`dextbench: rig ${rig.name}: took over the expired reservation of ${describeHolder(lease.tookOverFrom)}`);
        lease.keepAlive((error) => console.error(`dextbench: ${error.message}; the run's next scenarios on it fail`));
      }
    } catch (error) {
      await leases.releaseAll();
      throw error;
    }
    return leases;
  }

  session(rigName: string): RigSession {
    return this.entry(rigName).opened.session;
  }

  token(rigName: string): string {
    return this.entry(rigName).lease.holder.token;
  }

  /** The environment that hands the leases of `rigNames` (default: all) to a Playwright run. */
  env(rigNames: Iterable<string> = this.held.keys()): NodeJS.ProcessEnv {
    return Object.fromEntries([...rigNames].map((name) => [heldLeaseEnvKey(name), this.token(name)]));
  }

  /** Lets go of one rig (a refused one): its lease and its host. */
  async release(rigName: string): Promise<void> {
    const entry = this.held.get(rigName);
    if (!entry) return;
    this.held.delete(rigName);
    await entry.lease.release().catch((error: unknown) => console.error(`dextbench: ${(error as Error).message}`));
    await entry.opened.close().catch(() => { /* the host is gone; its lease expires by its TTL */ });
  }

  /** Lets go of every rig, the last taken first. A lease turned into a hold (--hold) stays. */
  async releaseAll(): Promise<void> {
    for (const name of [...this.held.keys()].reverse()) await this.release(name);
  }

  /**
   * Each rig's health, with its lease held: bad or maintenance is refused; unknown is checked first
   * when it names a check, and refused when the check fails. Returns the refused rigs' records.
   */
  async admit(run: RunConfig): Promise<Map<string, HealthRecord>> {
    const refused = new Map<string, HealthRecord>();
    for (const [name, { opened }] of this.held) {
      const session = opened.session;
      const rig = session.definition;
      const record = await readHealth(session.exec, session.leaseDir, name);
      const decision = runDecision(record, rig.health !== undefined);
      if (decision === 'refuse') refused.set(name, record);
      if (decision !== 'check') continue;
      console.log(`dextbench: rig ${name}'s health is unknown (${record.why}): running its health check ${relative(this.rootDir, rig.health!)}`);
      const checked = await runHealthCheck(session, { leaseToken: this.token(name), rootDir: run.rootDir, vars: run.vars, setBy: 'dextbench run' });
      if (checked.state !== 'good') refused.set(name, checked);
      else console.log(`dextbench: rig ${name}: health check passed; the rig is good`);
    }
    return refused;
  }

  /** The one line that refuses a rig: its state, who set it, when, why, and the command that changes it. */
  refusal(record: HealthRecord): string {
    const file = this.session(record.rig).definition.file;
    return refusalLine(record, relative(this.rootDir, file) || file);
  }

  private entry(rigName: string): HeldRig {
    const entry = this.held.get(rigName);
    if (!entry) throw new Error(`rig "${rigName}" is not reserved by this run`);
    return entry;
  }
}
