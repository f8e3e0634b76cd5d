// `dextbench rig status|plug|unplug|cycle|reset [device] [--rig rigs/x.yaml] [--off 1s]`
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { sleep } from '../common/time.ts';
import { describeHolder, inspectLease } from '../rig/lease.ts';
import { reserveRig } from '../rig/open.ts';
import { describeObservation, observeDevice, rigDevice, serverFor, setDevicePower, waitEnumerated, waitGone } from '../rig/device-state.ts';
import { describeHub, type RigSession } from '../rig/connect.ts';
import { simStateDirFor, stopSimulatedMac } from '../rig/sim-launcher.ts';
import { loadRig, parseDuration } from '../scenario/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { openRig } from './open-rig.ts';
import { defaultRigFile } from './paths.ts';

const ENUMERATE_TIMEOUT_MS = 10_000;
const USAGE = 'usage: dextbench rig status|plug|unplug|cycle|reset [device] [--rig rigs/x.yaml] [--off 1s]';

export async function rigCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var', '--off'], strict: true });
  const [action, role, ...extra] = args.positionals;
  if (!action || !['status', 'plug', 'unplug', 'cycle', 'reset'].includes(action) || extra.length) throw new UsageError(USAGE);
  if (action === 'reset' && role) throw new UsageError('dextbench rig reset takes no device; it resets the whole simulated Mac');
  if (!['status', 'reset'].includes(action) && !role) throw new UsageError(`dextbench rig ${action} needs a device role`);
  const offMs = parseDuration(args.options.get('--off')?.at(-1) ?? '1s');
  const rigFile = args.options.get('--rig')?.at(-1) ?? defaultRigFile();
  const vars = parseVars(args.options.get('--var') ?? []);
  if (action === 'reset') return resetSimulatedMac(rigFile, vars);
  const { session, close } = await openRig(rigFile, vars, `dextbench rig ${action}`);
  try {
    if (action === 'status') return await printStatus(session, role);
    const device = rigDevice(session, role!);
    // Hands-on control must not pull a device out from under a running suite.
    const lease = await reserveRig(session, { owner: `dextbench rig ${action} ${role}`, waitMs: 0 });
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
      await lease.release();
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
