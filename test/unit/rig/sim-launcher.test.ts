import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { simConfigFor, startSimulatedMac } from '../../../harness/rig/sim-launcher.ts';
import { simRig } from './rig-fixtures.ts';

const repoRoot = new URL('../../..', import.meta.url).pathname;

test('the SimConfig comes from the rig: host.sim settings, policy, hubs, devices with usb, interfaces and sim model', () => {
  const rig = simRig();
  if (rig.host.kind !== 'sim') throw new Error('simRig is a sim rig');
  rig.host.sim.timing = { matchMs: 5 };
  assert.deepEqual(simConfigFor(rig), {
    name: 'test',
    macos: { productName: 'macOS', productVersion: '15.5', buildVersion: '24F74' },
    sip: 'disabled', developerMode: false, teamId: 'DXTBNCH001',
    policy: { allowedTeamIdentifiers: [], allowedSystemExtensions: { DXTBNCH001: ['com.example.echo.driver'] } },
    timing: { matchMs: 5 },
    hubs: [{ id: 'hub1', location: '1-1', ports: 4, vid: '2109', pid: '2817', vendor: 'VIA Labs, Inc.', product: 'USB2.0 Hub' }],
    devices: [{
      role: 'echo', hub: 'hub1', port: 2,
      usb: { vendorId: 0x1d6b, productId: 0x0104, product: 'Loopback', manufacturer: 'dextbench', serial: 'ECHO0001', speed: 'high' },
      interfaces: [{ number: 0, class: 0xff, endpoints: [{ address: 0x81, type: 'bulk', maxPacketSize: 512 }, { address: 0x01, type: 'bulk', maxPacketSize: 512 }] }],
      model: 'loopback',
    }],
  });
  assert.throws(() => simConfigFor(simRig({ host: { kind: 'local' } })), /is not a simulated Mac \(host: local\)/);
});

/** A repo root whose harness/sim/daemon.ts is `source` (tsx found through a node_modules link). */
function fakeRepo(source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'dextbench-fake-repo-'));
  mkdirSync(join(root, 'harness', 'sim'), { recursive: true });
  writeFileSync(join(root, 'harness', 'sim', 'daemon.ts'), source);
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  return root;
}

test('startSimulatedMac writes the config, passes --config/--state-dir, reads the ready line, and stop() ends it', async () => {
  const root = fakeRepo(`
    const args = process.argv.slice(2);
    const config = args[args.indexOf('--config') + 1];
    const stateDir = args[args.indexOf('--state-dir') + 1];
    console.log('starting');
    console.log(JSON.stringify({ ready: true, binDir: stateDir + '/bin', socket: config, pid: process.pid }));
    process.stdin.resume();
    setInterval(() => {}, 1000);
  `);
  const stateDir = join(root, 'state');
  try {
    const sim = await startSimulatedMac(simRig(), { stateDir, repoRoot: root });
    assert.equal(sim.binDir, join(stateDir, 'bin'));
    assert.equal(sim.socket, join(stateDir, 'config.json'));
    assert.equal(JSON.parse(readFileSync(sim.socket, 'utf8')).devices[0].model, 'loopback');
    assert.ok(sim.pid > 0);
    await sim.stop();
    assert.throws(() => process.kill(sim.pid, 0), /ESRCH/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a daemon that exits before it is ready: its stderr line, one line', async () => {
  const root = fakeRepo(`console.error('sim config /x/config.json: devices.0.hub: unknown hub "hub9"'); process.exit(2);`);
  try {
    await assert.rejects(startSimulatedMac(simRig(), { stateDir: join(root, 'state'), repoRoot: root }),
      { message: 'simulated Mac for rig "test" exited with 2 before it was ready: sim config /x/config.json: devices.0.hub: unknown hub "hub9"' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
