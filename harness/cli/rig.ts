// `dextbench rig status|plug|unplug|cycle [device] [--rig rigs/x.yaml] [--off 1s]`
import { sleep } from '../common/time.ts';
import { describeObservation, observeDevice, rigDevice, serverFor, setDevicePower, waitEnumerated, waitGone } from '../rig/device-state.ts';
import { acquireLease } from '../rig/lease.ts';
import type { RigSession } from '../rig/connect.ts';
import { parseDuration } from '../scenario/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { openRig } from './open-rig.ts';
import { defaultRigFile } from './paths.ts';

const ENUMERATE_TIMEOUT_MS = 10_000;

export async function rigCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var', '--off'], strict: true });
  const [action, role, ...extra] = args.positionals;
  if (!action || !['status', 'plug', 'unplug', 'cycle'].includes(action) || extra.length) {
    throw new UsageError('usage: dextbench rig status|plug|unplug|cycle [device] [--rig rigs/x.yaml] [--off 1s]');
  }
  if (action !== 'status' && !role) throw new UsageError(`dextbench rig ${action} needs a device role`);
  const offMs = parseDuration(args.options.get('--off')?.at(-1) ?? '1s');
  const rigFile = args.options.get('--rig')?.at(-1) ?? defaultRigFile();
  const { session, close } = await openRig(rigFile, parseVars(args.options.get('--var') ?? []));
  try {
    if (action === 'status') return await printStatus(session, role);
    const device = rigDevice(session, role!);
    // Hands-on control must not pull a device out from under a running suite.
    const lease = await acquireLease(session.exec, session.definition.name, {
      ttlMs: 60_000, owner: `dextbench rig ${action} (pid ${process.pid})`, waitMs: 0,
    });
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

async function printStatus(session: RigSession, only: string | undefined): Promise<number> {
  const def = session.definition;
  const host = def.host.kind === 'sim' ? 'simulated Mac' : def.host.kind === 'ssh' ? `ssh ${def.host.target}` : 'this Mac';
  console.log(`rig ${def.name} (${def.file}) on ${host}`);
  const roles = only ? [only] : [...session.devices.keys()];
  for (const hub of def.hubs) {
    const ports = await session.hubs.get(hub.id)!.status();
    console.log(`  hub ${hub.id} (${hub.driver} ${hub.location})`);
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
