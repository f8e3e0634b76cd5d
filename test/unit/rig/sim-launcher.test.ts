import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachSimulatedMac, simConfigFor, stopSimulatedMac } from '../../../harness/rig/sim-launcher.ts';
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
    // No system extension on this rig: only eslogger is granted, no filter is approved.
    tcc: { fullDiskAccess: ['eslogger'] },
    webContentFilter: [],
    network: {
      hosts: { 'allowed.example': '192.0.2.10', 'blocked.example': '192.0.2.20' },
      listening: ['192.0.2.10:443/tcp', '192.0.2.20:443/tcp', '192.0.2.10:80/tcp', '192.0.2.20:80/tcp', '192.0.2.53:53/udp'],
      dnsServer: '192.0.2.53',
    },
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

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('one Mac per state dir: the first user starts it detached, the others attach to the same one, and it stops after the last lets go', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dextbench-shared-sim-'));
  try {
    const [a, b] = await Promise.all([
      attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'first run' }),
      attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'rig plug' }),
    ]);
    assert.equal(a.pid, b.pid, 'two users at once start one Mac');
    assert.equal(a.binDir, join(stateDir, 'bin'));
    // Its own session: a Ctrl-C in this terminal (the foreground process group) never reaches it.
    const sid = execFileSync('ps', ['-o', 'sid=', '-p', String(a.pid)], { encoding: 'utf8' }).trim();
    assert.equal(sid, String(a.pid));
    await a.detach();
    await new Promise((r) => setTimeout(r, 3_500));
    assert.ok(alive(a.pid), 'still in use by the second user');
    const c = await attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'second run' });
    assert.equal(c.pid, a.pid);
    await Promise.all([b.detach(), c.detach()]);
    await until('the Mac stops once nobody uses it', () => !alive(a.pid));
    assert.equal(existsSync(join(stateDir, 'daemon.json')), false);
    assert.ok(existsSync(join(stateDir, 'state.json')), 'its state stays for the next start');
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a changed rig file: an idle Mac restarts with it; one in use is refused naming its users', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dextbench-shared-sim-'));
  try {
    const first = await attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'dextbench run (pid 1)' });
    const changed = simRig({ hubs: [{ id: 'hub1', driver: 'uhubctl', location: '1-1', ports: 7 }] });
    await assert.rejects(attachSimulatedMac(changed, { stateDir, repoRoot, who: 'rig status' }),
      { message: 'the simulated Mac of rig "test" (/repo/rigs/test.yaml) is running with an older description of the rig and is in use by dextbench run (pid 1); run again when they are done' });
    await assert.rejects(stopSimulatedMac(stateDir, { force: false }), /is in use by dextbench run \(pid 1\)/);
    await first.detach();
    const second = await attachSimulatedMac(changed, { stateDir, repoRoot, who: 'rig status' });
    assert.notEqual(second.pid, first.pid);
    assert.equal(JSON.parse(readFileSync(join(stateDir, 'config.json'), 'utf8')).hubs[0].ports, 7);
    await second.detach();
    await until('stopped', () => !alive(second.pid));
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a damaged state.json: one line that says how to reset the Mac', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dextbench-shared-sim-'));
  try {
    writeFileSync(join(stateDir, 'state.json'), JSON.stringify({ format: 1, extensions: 'oops' }));
    await assert.rejects(attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'run' }), (e: Error) => {
      assert.match(e.message, /^the simulated Mac of rig "test" \(\/repo\/rigs\/test\.yaml\) cannot start: its saved state \S+state\.json is damaged \([^)]+\); run `dextbench rig reset --rig \/repo\/rigs\/test\.yaml` to start it afresh$/);
      return true;
    });
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a daemon that exits before it is ready: its own reason, one line, and where its log is', async () => {
  const root = fakeRepo(`console.error('sim: sim config /x/config.json: devices.0.hub: unknown hub "hub9"'); process.exit(2);`);
  try {
    await assert.rejects(attachSimulatedMac(simRig(), { stateDir: join(root, 'state'), repoRoot: root, who: 'run' }),
      { message: `the simulated Mac of rig "test" (/repo/rigs/test.yaml) exited with 2 before it was ready: sim config /x/config.json: devices.0.hub: unknown hub "hub9" (log: ${join(root, 'state', 'daemon.log')})` });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a start lock left by a starter that died (Ctrl-C mid-start) does not hold the next user up', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dextbench-shared-sim-'));
  try {
    mkdirSync(join(stateDir, 'start.lock'));
    // A pid that is not running: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(stateDir, 'start.lock', 'pid'), dead);
    // Never stale by age: only the dead starter's pid can free it (else attach gives up after 30 s).
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(join(stateDir, 'start.lock'), future, future);
    const sim = await attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'next run' });
    assert.equal(existsSync(join(stateDir, 'start.lock')), false);
    await sim.detach();
    await until('stopped', () => !alive(sim.pid));
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
