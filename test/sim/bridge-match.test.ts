// Which service the simulated Mac's dextbench-bridge opens, with two identical echo devices matched
// by one driver: the shim resolves the match among the registry's live dext services as IOKit
// would. A registry id picks exactly one; without one the bridge refuses and lists each candidate's
// id and the locationID of its device; --match values are strings (digits too) unless KEY:int=N.
// The driver here is the echo dext with IOUserClass "0123", so a string of digits is what matches.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseIoregPlist, usbDevicesFromIoreg, userServersFromIoreg } from '../../harness/host/parsers/index.ts';
import { BridgeClient, type Msg } from './bridge-support.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from './support.ts';

const OPENED = 1;
const OPEN_FAILED = 3;

interface Served { serviceId: bigint; locationId: bigint; pid: number }

/** The echo dext's Info.plist with IOUserClass "0123" (a string of digits). */
function digitsDext(dir: string): string {
  const dext = join(dir, 'EchoDriver0123.dext');
  mkdirSync(dext);
  const plist = readFileSync(join(DEXTS, 'EchoDriver-1.0.0.dext', 'Info.plist'), 'utf8');
  const renamed = plist.replace(/(<key>IOUserClass<\/key>\s*<string>)EchoDriver(<\/string>)/, '$10123$2');
  assert.notEqual(renamed, plist);
  writeFileSync(join(dext, 'Info.plist'), renamed);
  return dext;
}

/** Each matched service with its device's locationID and its dext process, from `ioreg -a`. */
async function served(sim: Sim): Promise<Served[]> {
  const devices = usbDevicesFromIoreg(parseIoregPlist((await sim.run('ioreg', ['-a', '-l', '-r', '-c', 'IOUSBHostDevice'])).stdout));
  const servers = userServersFromIoreg(parseIoregPlist((await sim.run('ioreg', ['-a', '-l', '-r', '-c', 'IOUserServer'])).stdout));
  return devices.flatMap((d) => d.services.filter((s) => s.userClass === '0123').map((s) => ({
    serviceId: s.registryId,
    locationId: d.locationId!,
    pid: servers.find((p) => p.associatedServices.includes(s.registryId))?.pid ?? -1,
  }))).sort((a, b) => Number(a.locationId - b.locationId));
}

async function opening(sim: Sim, args: string[], track: (b: BridgeClient) => BridgeClient): Promise<{ b: BridgeClient; first: Msg }> {
  const b = track(new BridgeClient(sim, args));
  return { b, first: (await b.next(10_000))['bridgeStatus'] as Msg };
}

describe('dextbench-bridge shim: two devices on one driver', () => {
  let sim: Sim;
  let scratch: string;
  let both: Served[];
  const bridges: BridgeClient[] = [];
  const track = (b: BridgeClient): BridgeClient => { bridges.push(b); return b; };
  const echo = (simConfig()['devices'] as Record<string, unknown>[])[0]!;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'bridge-match-'));
    sim = await startSim(simConfig({
      developerMode: true, dextServer: 'ts',
      devices: [{ ...echo, role: 'echo-a', port: 2 }, { ...echo, role: 'echo-b', port: 3 }],
    }));
    const activate = await sim.run('dextbench-activator', ['activate', '--dext', digitsDext(scratch), '--bundle', 'com.example.echo.driver']);
    assert.equal(activate.code, 0, activate.stderr);
    for (const port of ['2', '3']) assert.equal((await sim.run('uhubctl', ['-l', '1-1', '-p', port, '-a', 'on'])).code, 0);
    both = await waitFor('both devices matched', async () => {
      const s = await served(sim);
      return s.length === 2 && s.every((x) => x.pid > 0) ? s : undefined;
    }, 10_000);
  });
  after(async () => {
    for (const b of bridges) b.kill();
    await sim.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the two devices sit at 0x01120000 and 0x01130000, each served by its own dext process', () => {
    assert.deepEqual(both.map((s) => s.locationId), [0x01120000n, 0x01130000n]);
    assert.notEqual(both[0]!.serviceId, both[1]!.serviceId);
    assert.notEqual(both[0]!.pid, both[1]!.pid);
  });

  test('two services match and no --registry-id: OPEN_FAILED naming each id and locationID, exit 69', async () => {
    const { b, first } = await opening(sim, ['--match', 'IOUserClass=0123'], track);
    const [a, c] = both;
    const why = `2 services match IOUserClass=0123; pass --registry-id with one of: ${a!.serviceId} (locationID 0x01120000), ${c!.serviceId} (locationID 0x01130000)`;
    assert.equal(first['state'], OPEN_FAILED);
    assert.equal(first['message'], why);
    assert.deepEqual(await b.exitWithin(5000), { code: 69, signal: null });
  });

  test('--registry-id opens exactly that service: its own dext answers GetInfo', async () => {
    for (const s of both) {
      const { b, first } = await opening(sim, ['--match', 'IOUserClass=0123', '--registry-id', s.serviceId.toString()], track);
      assert.equal(first['state'], OPENED, JSON.stringify(first, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      assert.equal(first['registryId'], s.serviceId.toString());
      assert.equal(first['userClass'], '0123');
      const info = (await b.call({ id: 1, getInfo: {} }))['info'];
      assert.equal(info.instanceId, BigInt(s.pid), 'the dext process serving this service');
      assert.deepEqual(await b.close(), { code: 0, signal: null });
    }
    const hex = await opening(sim, ['--registry-id', `0x${both[1]!.serviceId.toString(16)}`], track);
    assert.equal(hex.first['registryId'], both[1]!.serviceId.toString(), 'a registry id alone, in hex');

    const none = await opening(sim, ['--match', 'IOUserClass=0123', '--registry-id', (both[1]!.serviceId + 1000n).toString()], track);
    assert.equal(none.first['state'], OPEN_FAILED);
    assert.equal(none.first['message'], `no service matches IOUserClass=0123 registry id ${both[1]!.serviceId + 1000n}`);
  });

  test('--match values stay strings; KEY:int=N matches a number property', async () => {
    const text = await opening(sim, ['--match', 'idVendor=7531'], track);
    assert.equal(text.first['state'], OPEN_FAILED);
    assert.equal(text.first['message'], 'no service matches idVendor=7531', 'the string "7531" is not the number idVendor');
    const number = await opening(sim, ['--match', 'idVendor:int=0x1d6b', '--registry-id', both[0]!.serviceId.toString()], track);
    assert.equal(number.first['state'], OPENED);
    assert.equal(number.first['registryId'], both[0]!.serviceId.toString());
    const asNumber = await opening(sim, ['--match', 'IOUserClass:int=123'], track);
    assert.equal(asNumber.first['message'], 'no service matches IOUserClass:int=123', 'a number never equals the string "0123"');
  });
});
