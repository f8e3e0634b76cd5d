// The host tools, the uhubctl driver and the rig runtime against the real simulated Mac (a
// separate process reached only through its shims), as on a real Mac.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { UsbDeviceView } from '../../../harness/host/parsers/index.ts';
import { killProcess } from '../../../harness/host/tools/kill.ts';
import { dextPredicate, logShow, UnifiedLogStream } from '../../../harness/host/tools/log.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { acquireLease } from '../../../harness/rig/lease.ts';
import { attachSimulatedMac, type SimulatedMac } from '../../../harness/rig/sim-launcher.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';

const repoRoot = new URL('../../..', import.meta.url).pathname;
const ECHO_DEXT = join(repoRoot, 'dext-fixtures', 'echo', 'sim', 'EchoDriver-1.0.0.dext');
const BUNDLE = 'com.example.echo.driver';
const ECHO = { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0001' };
const findDevice = (devices: UsbDeviceView[], id: typeof ECHO) => devices.find((d) => d.vendorId === id.vendorId && d.productId === id.productId && d.serial === id.serial);
const START_OK = /^DK: EchoDriver-0x[0-9a-f]+::start\(\S+-0x[0-9a-f]+\) ok$/;

let stateDir: string;
let sim: SimulatedMac;
let rig: RigSession;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'dextbench-host-it-'));
  sim = await attachSimulatedMac(simRig(), { stateDir, repoRoot, who: 'host integration test' });
  rig = connectRig(simRig(), { sim: { binDir: sim.binDir, stateDir } });
});

after(async () => {
  await rig?.close();
  await sim?.detach();
  rmSync(stateDir, { recursive: true, force: true });
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the simulated Mac answers sw_vers, csrutil and developer mode as configured', async () => {
  assert.deepEqual(await rig.tools.macosVersion(), { productName: 'macOS', productVersion: '15.5', buildVersion: '24F74' });
  assert.equal((await rig.tools.sipStatus()).status, 'disabled');
  assert.equal(await rig.tools.sysext.developerMode(), false);
});

test('plug, activate, match, log, safe state: the whole install flow through the tools', async () => {
  const hub = rig.hubs.get('hub1')!;
  const ports = await hub.status();
  assert.equal(ports.length, 4);
  assert.ok(ports.every((p) => !p.powered), 'hub ports start off (safe state)');

  const log = await UnifiedLogStream.start(rig.exec, { predicate: dextPredicate([BUNDLE]) });
  const scenarioStart = new Date();
  try {
    await hub.setPort(2, true);
    const status = (await hub.status()).find((p) => p.port === 2)!;
    assert.equal(status.powered, true);
    const device = await until(async () => findDevice(await rig.tools.ioreg.usbDevices(), ECHO), 5000, 'echo enumerated');
    assert.equal(device.name, 'Loopback');
    assert.equal(typeof device.registryId, 'bigint');
    assert.deepEqual(device.services, [], 'no driver before activation');

    await rig.tools.sysext.setDeveloperMode(true);
    assert.equal(await rig.tools.sysext.developerMode(), true);

    const outcome = await rig.tools.activator.activate({ dext: ECHO_DEXT, bundle: BUNDLE, identity: '-', timeoutMs: 30_000 });
    assert.equal(outcome.result, 'completed', JSON.stringify(outcome.events));
    const submitted = outcome.events.find((e) => e.event === 'submitted');
    assert.equal(submitted?.version, '1.0.0/1');

    const row = await rig.tools.sysext.waitForState({ bundleId: BUNDLE, version: '1.0.0/1', state: 'activated enabled', timeoutMs: 10_000 });
    assert.equal(row.teamId, 'DXTBNCH001');
    assert.equal(row.enabled, true);
    assert.equal(row.active, true);

    const matched = await until(async () => {
      const d = findDevice(await rig.tools.ioreg.usbDevices(), ECHO);
      return d?.services.find((s) => s.userClass === 'EchoDriver');
    }, 10_000, 'EchoDriver matched on the echo device');
    const servers = await rig.tools.ioreg.userServers();
    const server = servers.find((s) => s.associatedServices.includes(matched.registryId)) ?? servers.find((s) => s.serverName === matched.serverName);
    assert.ok(server, `an IOUserServer serves the EchoDriver service (servers: ${servers.map((s) => s.serverName).join(', ')})`);
    assert.ok(server.pid !== null && server.pid > 0);

    const started = await log.waitFor((e) => START_OK.test(e.eventMessage), { timeoutMs: 10_000, description: 'the EchoDriver start line' });
    assert.equal(started.process, 'kernel');
    const shown = await logShow(rig.exec, { start: scenarioStart, predicate: dextPredicate([BUNDLE]) });
    assert.ok(shown.some((e) => START_OK.test(e.eventMessage)), 'log show has the start line too');

    // Fault: kill the dext process; the kernel relaunches it and the device is matched again.
    await killProcess(rig.exec, server.pid, 'KILL', { sudo: false });
    const relaunched = await until(async () => {
      const d = findDevice(await rig.tools.ioreg.usbDevices(), ECHO);
      const service = d?.services.find((s) => s.userClass === 'EchoDriver');
      const now = service && (await rig.tools.ioreg.userServers()).find((s) => s.associatedServices.includes(service.registryId) || s.serverName === service.serverName);
      return now && now.pid !== null && now.pid !== server.pid ? now : undefined;
    }, 10_000, 'EchoDriver served by a new dext process after the kill');
    assert.notEqual(relaunched.pid, server.pid);
    await log.waitFor((e) => /rematching after dext crash/.test(e.eventMessage), { timeoutMs: 5000, description: 'the rematch line' });

    await rig.safeState();
    assert.equal((await hub.status()).find((p) => p.port === 2)!.powered, false);
    await until(async () => (findDevice(await rig.tools.ioreg.usbDevices(), ECHO) ? undefined : true), 5000, 'echo gone after safe state');
  } finally {
    await log.stop();
  }
});

test('waitForState on a bundle the Mac does not have ends at its deadline with the list it saw', async () => {
  await assert.rejects(
    rig.tools.sysext.waitForState({ bundleId: 'com.example.absent', state: 'activated enabled', timeoutMs: 300, pollMs: 50 }),
    /^ToolError: com\.example\.absent did not reach \[activated enabled\] within 300 ms; no row for com\.example\.absent; the list had \d+ row\(s\)/,
  );
});

test('a hub at a location the Mac does not have: the uhubctl error, with what to do', async () => {
  const wrong = connectRig(simRig({ hubs: [{ id: 'hub1', driver: 'uhubctl', location: '3-9', ports: 4 }] }), { sim: { binDir: sim.binDir, stateDir } });
  await assert.rejects(wrong.hubs.get('hub1')!.status(), /uhubctl found no compatible hub at location 3-9; run `uhubctl` with no arguments/);
});

test('the rig\'s lease lives in the simulated Mac\'s shared folder and works with its own commands', async () => {
  assert.equal(rig.leaseDir, join(stateDir, 'fs', 'Users', 'Shared', 'dextbench', 'leases'));
  const lease = await acquireLease(rig.exec, 'sim', { ttlMs: 60_000, owner: 'integration test', waitMs: 0, baseDir: rig.leaseDir });
  await assert.rejects(acquireLease(rig.exec, 'sim', { ttlMs: 60_000, owner: 'someone else', waitMs: 0, baseDir: rig.leaseDir }), /reserved by integration test \(/);
  await lease.renew();
  await lease.release();
  const again = await acquireLease(rig.exec, 'sim', { ttlMs: 60_000, owner: 'someone else', waitMs: 0, baseDir: rig.leaseDir });
  await again.release();
});
