// Hubs, enumeration, matching, ioreg and dext crashes on the simulated Mac, through the shims.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDict, parsePlist, type PDict, type PValue } from '../../harness/sim/plist.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from './support.ts';

const HUB = 'Current status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]';

function findAll(node: PValue, pred: (d: PDict) => boolean, out: PDict[] = []): PDict[] {
  if (isDict(node)) {
    if (pred(node)) out.push(node);
    const kids = node['IORegistryEntryChildren'];
    if (Array.isArray(kids)) for (const k of kids) findAll(k, pred, out);
  } else if (Array.isArray(node)) for (const k of node) findAll(k, pred, out);
  return out;
}

const hexId = (v: PValue | undefined): string => `0x${(v as bigint).toString(16)}`;

describe('usb, matching and crashes', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(simConfig({ developerMode: true }));
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
  after(async () => { await sim.stop(); });

  test('uhubctl lists the hub with every port off', async () => {
    const r = await sim.run('uhubctl');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${HUB}\n  Port 1: 0000 off\n  Port 2: 0000 off\n  Port 3: 0000 off\n  Port 4: 0000 off\n`);
  });

  test('uhubctl errors: unknown location, bad option', async () => {
    const r = await sim.run('uhubctl', ['-l', '9-9']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'No compatible devices detected at location 9-9!\nRun with -h to get usage info.\n');
    const h = await sim.run('uhubctl', ['-h']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^--action, {3}-a - action to off\/on\/cycle\/toggle/m);
    assert.equal((await sim.run('uhubctl', ['-Q'])).code, 1);
  });

  test('power on: the device enumerates, appears in ioreg -a, and the dext matches', async () => {
    const on = await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on']);
    assert.equal(on.code, 0);
    assert.equal(on.stdout, `${HUB}\n  Port 2: 0000 off\nSent power on request\n${HUB.replace('Current', 'New')}\n  Port 2: 0100 power\n`);
    const status = await waitFor('device connected', async () => {
      const s = (await sim.run('uhubctl', ['-l', '1-1', '-p', '2'])).stdout;
      return s.includes('connect') && s;
    });
    assert.equal(status, `${HUB}\n  Port 2: 0503 power highspeed enable connect [1d6b:0104 dextbench Loopback ECHO0001]\n`);

    const server = await waitFor('IOUserServer', async () => {
      const tree = parsePlist((await sim.run('ioreg', ['-a', '-w0'])).stdout);
      return findAll(tree, (d) => d['IOObjectClass'] === 'IOUserServer')[0];
    });
    const tree = parsePlist((await sim.run('ioreg', ['-a'])).stdout);
    const [dev] = findAll(tree, (d) => d['IOObjectClass'] === 'IOUSBHostDevice' && d['idVendor'] === 7531n);
    assert.ok(dev);
    assert.equal(dev['IORegistryEntryName'], 'Loopback');
    assert.equal(dev['idProduct'], 260n);
    assert.equal(dev['kUSBSerialNumberString'], 'ECHO0001');
    assert.equal(dev['USB Serial Number'], 'ECHO0001');
    assert.equal(dev['kUSBVendorString'], 'dextbench');
    assert.equal(dev['locationID'], 0x01120000n);
    assert.equal(typeof dev['sessionID'], 'bigint');
    const [intf] = findAll(dev, (d) => d['IOObjectClass'] === 'IOUSBHostInterface');
    assert.equal(intf!['bInterfaceNumber'], 0n);
    assert.equal(intf!['bInterfaceClass'], 255n);
    const [service] = findAll(dev, (d) => d['IOObjectClass'] === 'IOUserService');
    assert.ok(service, 'the EchoDriver service sits under the device');
    assert.equal(service['IORegistryEntryName'], 'EchoDriver');
    assert.equal(service['IOUserClass'], 'EchoDriver');
    assert.equal(service['CFBundleIdentifier'], 'com.example.echo.driver');
    assert.match(service['IOUserServerCDHash'] as string, /^[0-9a-f]{40}$/);
    assert.equal(server['IORegistryEntryName'], `IOUserServer(com.example.echo.driver-${hexId(service['IORegistryEntryID'])})`);
    assert.equal(server['IOUserServerTag'], service['IORegistryEntryID']);
    assert.deepEqual(server['IOAssociatedServices'], [service['IORegistryEntryID']]);
    assert.match(server['IOUserClientCreator'] as string, /^pid \d+, com\.example\.echo$/);

    // The text tree: device line with its location, service below it (two spaces before <class).
    const text = (await sim.run('ioreg', ['-w0'])).stdout;
    assert.match(text, /\+-o Loopback@01120000 {2}<class IOUSBHostDevice, id 0x1[0-9a-f]+, registered, matched, active, busy 0 \(\d+ ms\), retain \d+>/);
    assert.match(text, /\+-o EchoDriver {2}<class IOUserService, id /);
    const usbPlane = (await sim.run('ioreg', ['-p', 'IOUSB', '-w0'])).stdout;
    assert.match(usbPlane, /^\+-o Root {2}<class IORegistryEntry, id 0x100000100, retain \d+>$/m);
    assert.doesNotMatch(usbPlane, /EchoDriver|IOUSBHostInterface/);

    // sessionIDs are written exactly; the ioreg -l text shows the same digits.
    const raw = /<key>sessionID<\/key>\s*<integer>(\d+)<\/integer>/.exec((await sim.run('ioreg', ['-a', '-r', '-n', 'Loopback'])).stdout)![1]!;
    const props = (await sim.run('ioreg', ['-l', '-w0', '-r', '-n', 'Loopback'])).stdout;
    assert.ok(props.includes(`"sessionID" = ${raw}`));
    assert.ok(props.includes('"USB Product Name" = "Loopback"'));
  });

  test('kill crashes the dext: crash counter, rematch, relaunch with a new pid', async () => {
    const creator = (await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout;
    const pid = /"IOUserClientCreator" = "pid (\d+),/.exec(creator)![1]!;
    const before = parsePlist((await sim.run('ioreg', ['-a', '-r', '-n', 'Loopback'])).stdout);
    const deviceId = hexId((before as PDict[])[0]!['IORegistryEntryID']);
    const r = await sim.run('kill', ['-9', pid]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    const newPid = await waitFor('relaunch', async () => {
      const m = /"IOUserClientCreator" = "pid (\d+),/.exec((await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout);
      return m && m[1] !== pid && m[1];
    });
    assert.notEqual(newPid, pid);
    const log = await sim.run('log', ['show', '--style', 'ndjson', '--predicate', 'sender == "kernel"']);
    const msgs = log.stdout.split('\n').filter((l) => l.startsWith('{"timezoneName"')).map((l) => (JSON.parse(l) as { eventMessage: string }).eventMessage);
    const exit = msgs.findIndex((m) => /^DK: IOUserServer\(com\.example\.echo\.driver-0x[0-9a-f]+\)-0x[0-9a-f]+::exit\(SIGKILL\)$/.test(m));
    assert.ok(exit >= 0, msgs.join('\n'));
    // The counter is printed at every launch: 0 at the first, 1 at the relaunch after this crash.
    assert.equal(msgs.slice(0, exit).filter((m) => m.startsWith('Driver ')).at(-1), 'Driver com.example.echo.driver has crashed 0 time(s)');
    assert.equal(msgs[exit + 1], `DK: Loopback-${deviceId} rematching after dext crash`);
    assert.equal(msgs[exit + 2], 'Driver com.example.echo.driver has crashed 1 time(s)');
    assert.match(msgs[exit + 3]!, new RegExp(`^DK: EchoDriver-0x[0-9a-f]+::start\\(Loopback-${deviceId}\\) ok$`));
    const dev = (await sim.run('ioreg', ['-r', '-n', 'Loopback', '-l', '-w0'])).stdout;
    assert.match(dev, /"IORematchCount" = 1\n/);
    const again = await sim.run('kill', ['-s', 'SEGV', newPid]);
    assert.equal(again.code, 0);
    await waitFor('second crash counted', async () =>
      (await sim.run('log', ['show', '--predicate', 'eventMessage CONTAINS "has crashed 2 time(s)"'])).stdout.includes('has crashed 2 time(s)'));
  });

  test('kill of an unknown pid fails like /bin/kill', async () => {
    const r = await sim.run('kill', ['-9', '424242']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'kill: 424242: No such process\n');
  });

  test('power off terminates the device and its dext', async () => {
    await waitFor('relaunched after the second crash', async () => (await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-w0'])).stdout !== '');
    const off = await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'off']);
    assert.match(off.stdout, /Sent power off request\nNew status for hub 1-1 .*\n {2}Port 2: 0000 off\n$/);
    const tree = parsePlist((await sim.run('ioreg', ['-a'])).stdout);
    assert.equal(findAll(tree, (d) => d['IORegistryEntryName'] === 'Loopback').length, 0);
    assert.equal(findAll(tree, (d) => d['IOObjectClass'] === 'IOUserServer').length, 0);
    assert.equal((await sim.run('ioreg', ['-r', '-c', 'IOUserService'])).stdout, '');
  });

  test('cycle turns the port off then on again; the device comes back with a new sessionID', async () => {
    await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on']);
    const first = await waitFor('enumerated', async () => /<key>sessionID<\/key>\s*<integer>(\d+)/.exec((await sim.run('ioreg', ['-a', '-r', '-n', 'Loopback'])).stdout)?.[1]);
    const r = await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'cycle', '-d', '0.05']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Sent power off request\n.*\n {2}Port 2: 0000 off\nSent power on request\n.*\n {2}Port 2: 0100 power\n$/);
    const second = await waitFor('re-enumerated', async () => /<key>sessionID<\/key>\s*<integer>(\d+)/.exec((await sim.run('ioreg', ['-a', '-r', '-n', 'Loopback'])).stdout)?.[1]);
    assert.notEqual(first, second);
    // One of two consecutive sessionIDs is above 2^53, so exactness matters to consumers.
    assert.ok([first, second].some((s) => BigInt(s) > 2n ** 53n));
  });

  test('several hubs need -l for an action', async () => {
    const two = await startSim(simConfig({
      hubs: [
        { id: 'a', location: '1-1', ports: 2, vid: '2109', pid: '2817', vendor: 'VIA Labs, Inc.', product: 'USB2.0 Hub' },
        { id: 'b', location: '2-1', ports: 2, vid: '0bda', pid: '5411', vendor: 'Generic', product: '4-Port USB 2.0 Hub' },
      ],
      devices: [],
    }));
    try {
      const r = await two.run('uhubctl', ['-a', 'on', '-p', '1']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'Error: changing port state for multiple hubs at once is not supported.\nUse -l to limit operation to one hub!\n');
      assert.equal((await two.run('uhubctl', ['-l', '2-1', '-a', '1', '-p', '1'])).code, 0);
      assert.match((await two.run('uhubctl', ['-l', '2-1'])).stdout, /Port 1: 0100 power\n {2}Port 2: 0000 off\n$/);
    } finally {
      await two.stop();
    }
  });
});

test('deactivating a driver that is running stops it and completes after reboot', async () => {
  const sim = await startSim(simConfig({ developerMode: true }));
  try {
    const dext = join(DEXTS, 'EchoDriver-1.0.0.dext');
    assert.equal((await sim.run('dextbench-activator', ['activate', '--dext', dext, '--bundle', 'com.example.echo.driver'])).code, 0);
    await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on']);
    await waitFor('matched', async () => (await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-w0'])).stdout !== '');
    const r = await sim.run('dextbench-activator', ['deactivate', '--dext', dext, '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /{"event":"finished","bundle":"com.example.echo.driver","result":"willCompleteAfterReboot"}\n$/);
    assert.equal((await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-w0'])).stdout, '');
    assert.match((await sim.run('systemextensionsctl', ['list'])).stdout, /\t\tDXTBNCH001\tcom\.example\.echo\.driver \(1\.0\.0\/1\)\tcom\.example\.echo\.driver\t\[terminated waiting to uninstall on reboot\]/);
    await sim.run('reboot');
    assert.equal((await sim.run('systemextensionsctl', ['list'])).stdout, '0 extension(s)\n');
  } finally {
    await sim.stop();
  }
});
