// `dextbench rig status|plug|unplug|cycle|reset [device] [--rig rigs/x.yaml] [--off 1s]`,
// `dextbench rig check [--rig r]` and `dextbench rig state good|maintenance --why "…" [--rig r]`,
// `dextbench rig release [--rig r]` (ends a --hold)
import { rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { formatMs, sleep } from '../common/time.ts';
import { runHealthCheck } from '../engine/health-check.ts';
import { describeHealth, healthRecord, MANUAL_HEALTH_STATES, readHealth, refusalLine, runDecision, writeHealth } from '../rig/health.ts';
import { describeHolder, inspectLease } from '../rig/lease.ts';
import { reserveRig } from '../rig/open.ts';
import { describeObservation, observeDevice, rigDevice, serverFor, setDevicePower, waitEnumerated, waitGone } from '../rig/device-state.ts';
import { describeHub, type RigSession } from '../rig/connect.ts';
import { simStateDirFor, stopSimulatedMac } from '../rig/sim-launcher.ts';
import { loadRig, loadScenario, parseDuration } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { holdOn, releaseRigHold } from './hold.ts';
import { openRig } from './open-rig.ts';
import { defaultRigFile } from './paths.ts';

const ENUMERATE_TIMEOUT_MS = 10_000;
const USAGE = 'usage: dextbench rig status|plug|unplug|cycle|reset [device] [--rig rigs/x.yaml] [--off 1s]\n' +
  '       dextbench rig check [--refuse-bad] [--rig rigs/x.yaml]\n' +
  '       dextbench rig state good|maintenance --why "…" [--rig rigs/x.yaml]\n' +
  '       dextbench rig release [--rig rigs/x.yaml]';

export async function rigCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var', '--off', '--why'], flags: ['--refuse-bad'], strict: true });
  const [action, role, ...extra] = args.positionals;
  if (!action || !['status', 'plug', 'unplug', 'cycle', 'reset', 'check', 'state', 'release'].includes(action) || extra.length) throw new UsageError(USAGE);
  if (action === 'check' && role) throw new UsageError('dextbench rig check takes no device; it runs the rig\'s health check');
  if (action !== 'check' && args.flags.has('--refuse-bad')) throw new UsageError('--refuse-bad goes with dextbench rig check');
  if (action === 'state' && !(MANUAL_HEALTH_STATES as readonly string[]).includes(role ?? '')) {
    throw new UsageError(`dextbench rig state sets ${MANUAL_HEALTH_STATES.join(' or ')} by hand (bad comes from a failed dextbench rig check), got ${role ? JSON.stringify(role) : 'nothing'}`);
  }
  const why = args.options.get('--why')?.at(-1)?.trim();
  if (action === 'state' && !why) throw new UsageError(`dextbench rig state ${role} needs --why "…": the reason every user of the rig is shown`);
  if (action !== 'state' && why !== undefined) throw new UsageError('--why goes with dextbench rig state');
  if (action === 'reset' && role) throw new UsageError('dextbench rig reset takes no device; it resets the whole simulated Mac');
  if (action === 'release' && role) throw new UsageError('dextbench rig release takes no device; it ends the hold on the whole rig');
  if (!['status', 'reset', 'check', 'release'].includes(action) && !role) throw new UsageError(`dextbench rig ${action} needs a device role`);
  const offMs = parseDuration(args.options.get('--off')?.at(-1) ?? '1s');
  const rigFile = args.options.get('--rig')?.at(-1) ?? defaultRigFile();
  const vars = parseVars(args.options.get('--var') ?? []);
  if (action === 'reset') return resetSimulatedMac(rigFile, vars);
  const { session, close } = await openRig(rigFile, vars, `dextbench rig ${action}`);
  try {
    if (action === 'status') return await printStatus(session, role);
    if (action === 'check') return await checkHealth(session, vars, args.flags.has('--refuse-bad'));
    if (action === 'release') {
      await releaseRigHold(session);
      return 0;
    }
    if (action === 'state') {
      const record = healthRecord(session.definition.name, role as 'good' | 'maintenance', { setBy: 'dextbench rig state', why: why! });
      await writeHealth(session.exec, session.leaseDir, record);
      console.log(`rig ${session.definition.name}: ${describeHealth(record)}`);
      return 0;
    }
    const device = rigDevice(session, role!);
    // Hands-on control must not pull a device out from under a running suite; a hold is kept for
    // exactly this, so under a hold it acts without a lease of its own.
    const hold = await holdOn(session);
    if (hold) console.log(`rig ${session.definition.name}: acting under the hold of ${describeHolder(hold)}`);
    const lease = hold ? undefined : await reserveRig(session, { owner: `dextbench rig ${action} ${role}`, waitMs: 0 });
    try {
      const started = performance.now();
      if (action === 'unplug' || action === 'cycle') {
        await setDevicePower(session, device, false);
        await waitGone(session, device, ENUMERATE_TIMEOUT_MS);
        console.log(`${role}: unplugged (${device.port.hub} port ${device.port.port} off)`);
      }
      if (action === 'cycle') await sleep(offMs);
      if (action === 'plug' || action === 'cycle') {
        await setDevicePower(session, device, true);
        const o = await waitEnumerated(session, device, ENUMERATE_TIMEOUT_MS);
        console.log(`${role}: plugged, ${describeObservation(o)} after ${Math.round(performance.now() - started)} ms`);
      }
    } finally {
      await lease?.release();
    }
    return 0;
  } finally {
    await close();
  }
}

/** Forgets a simulated Mac: stops it (unless someone uses it) and removes its state. */
async function resetSimulatedMac(rigFile: string, vars: Record<string, string>): Promise<number> {
  const definition = loadRig(resolve(rigFile), { vars });
  if (definition.host.kind !== 'sim') {
    throw new UsageError(`rig "${definition.name}" is a real Mac (host: ${definition.host.kind}); rig reset only forgets a simulated Mac`);
  }
  const stateDir = simStateDirFor(process.cwd(), definition.name);
  const outcome = await stopSimulatedMac(stateDir, { force: false });
  rmSync(stateDir, { recursive: true, force: true });
  console.log(`rig ${definition.name}: simulated Mac ${outcome === 'stopped' ? 'stopped and ' : ''}reset (${stateDir} removed); it starts afresh on next use`);
  return 0;
}

async function printStatus(session: RigSession, only: string | undefined): Promise<number> {
  const def = session.definition;
  const host = def.host.kind === 'sim' ? `simulated Mac${def.host.ssh ? ` over ssh ${def.host.ssh.ssh}` : ''}` : def.host.kind === 'ssh' ? `ssh ${def.host.ssh.ssh}` : 'this Mac';
  console.log(`rig ${def.name} (${def.file}) on ${host}`);
  const lease = await inspectLease(session.exec, session.leaseDir, def.name, def.reservation.ttlMs);
  console.log(lease.held
    ? `  reserved by ${describeHolder(lease)}${lease.expired ? ' (expired: the next user takes it over)' : ''}`
    : '  not reserved');
  console.log(`  health: ${describeHealth(await readHealth(session.exec, session.leaseDir, def.name))}`);
  const roles = only ? [only] : [...session.devices.keys()];
  for (const hub of def.hubs) {
    const ports = await session.hubs.get(hub.id)!.status();
    console.log(`  hub ${hub.id} (${describeHub(hub)})`);
    for (const port of ports) {
      const device = [...session.devices.values()].find((d) => d.port.hub === hub.id && d.port.port === port.port);
      if (!device && only) continue;
      const power = port.powered ? 'on ' : 'off';
      let line = `    port ${port.port}  ${power}  ${device ? device.role : '-'}`;
      if (device && roles.includes(device.role)) {
        const o = await observeDevice(session, device, true);
        const served = o.services.map((s) => {
          const server = serverFor(s, o.servers);
          return `${s.userClass}${server ? ` (pid ${server.pid ?? '?'}, ${server.serverName})` : ''}`;
        });
        line += `  ${o.device ? `enumerated as "${o.device.name}"` : 'not enumerated'}${served.length ? `, matched ${served.join(', ')}` : ''}`;
      }
      console.log(line);
    }
  }
  if (only && !session.devices.has(only)) rigDevice(session, only);
  return 0;
}

/**
 * Runs the rig's health check holding its lease (waiting for a run that holds it, as a run would),
 * and says the state it left: exit 0 when good, 1 when bad. With refuseBad (a nightly job's first
 * step), a bad or maintenance rig is not checked but refused in the one line a run gives, exit 1:
 * only a person clears it, and nothing plugs devices under someone working on the rig.
 */
async function checkHealth(session: RigSession, vars: Record<string, string>, refuseBad: boolean): Promise<number> {
  const def = session.definition;
  if (!def.health) {
    throw new UsageError(`rig "${def.name}" names no health check; add health: <scenario file> to ${def.file} (e.g. health: ../scenarios/health/echo-rig.yaml)`);
  }
  // A health scenario that does not fit the rig is a configuration problem, not a bad rig.
  loadScenario(def.health, { steps: stepRegistry, vars, rigVars: def.vars, rigs: [def] });
  const lease = await reserveRig(session, {
    owner: 'dextbench rig check',
    waitMs: def.reservation.waitMs,
    onWait: (state) => console.log(`dextbench: rig ${def.name} is reserved by ${describeHolder(state)}; waiting up to ${formatMs(def.reservation.waitMs)}`),
  });
  try {
    // Read with the lease held: a run that held the rig may have just set it bad.
    const before = refuseBad ? await readHealth(session.exec, session.leaseDir, def.name) : undefined;
    if (before && runDecision(before, true) === 'refuse') {
      console.error(`dextbench: ${refusalLine(before, relative(process.cwd(), def.file) || def.file)}`);
      return 1;
    }
    lease.keepAlive((error) => console.error(`dextbench: ${error.message}`));
    const record = await runHealthCheck(session, { leaseToken: lease.holder.token, rootDir: process.cwd(), vars, setBy: 'dextbench rig check' });
    console.log(`rig ${def.name}: ${describeHealth(record)}`);
    return record.state === 'good' ? 0 : 1;
  } finally {
    await lease.release();
  }
}
