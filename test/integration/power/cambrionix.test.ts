// The Cambrionix driver against a simulated hub on a real pseudo-terminal pair (socat), opened
// through serialport: on/off/status read back, `*E` replies, Ctrl-C resync, one command at a time,
// port ranges, a missing device, the device going away and coming back, and deadlines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readlinkSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { cambrionixDriver, type HubDriver } from '../../../harness/power/index.ts';
import { connectRig } from '../../../harness/rig/connect.ts';
import type { CambrionixHubSpec } from '../../../harness/rig/types.ts';
import { lane, NEEDS } from '../../support/lane.ts';
import { SimCambrionix, type SimCambrionixOptions } from '../../support/sim-cambrionix.ts';
import { tempDir } from '../../support/temp.ts';
import { ECHO_PROFILE, simRig } from '../../unit/rig/rig-fixtures.ts';

const skip = lane('Cambrionix on a pseudo-terminal', [NEEDS.socat]);
/** No test waits longer: a driver that hangs fails here. */
const TEST_TIMEOUT_MS = 15_000;
const root = resolve(import.meta.dirname, '../../..');

/** Drivers closed, then sims stopped, once the file's tests are done. */
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startSim(options: SimCambrionixOptions): Promise<SimCambrionix> {
  const sim = await SimCambrionix.start(options);
  cleanups.push(() => sim.stop());
  return sim;
}

function driver(spec: CambrionixHubSpec, timeoutMs: number): HubDriver {
  const hub = cambrionixDriver(spec, { timeoutMs });
  cleanups.push(() => hub.close());
  return hub;
}

async function rig(options: SimCambrionixOptions & { rigPorts?: number; timeoutMs?: number } = {}) {
  const sim = await startSim(options);
  const hub = driver({ id: 'hub1', driver: 'cambrionix', serial: sim.path, ports: options.rigPorts ?? sim.modes.length }, options.timeoutMs ?? 3_000);
  return { sim, hub, where: `hub hub1 (cambrionix on ${sim.path})` };
}

/** How many of this process's file descriptors are open on `device`. */
function openFds(device: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`) === device; } catch { return false; }
  }).length;
}

/** The error's message, checked to be one line. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const message = (error as Error).message;
    assert.ok(!message.includes('\n'), `not one line: ${message}`);
    return message;
  }
  assert.fail('expected a failure');
}

describe('Cambrionix over serialport on a PTY', { skip }, () => {
  test('on is mode s, off is mode o, each read back with state; status reads the flags', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub } = await rig({ ports: 4 });
    await hub.setPort(2, true);
    assert.deepEqual(sim.modes, ['o', 's', 'o', 'o']);
    assert.deepEqual(await hub.status(), [
      { port: 1, powered: false }, { port: 2, powered: true }, { port: 3, powered: false }, { port: 4, powered: false },
    ]);
    await hub.setPort(2, false);
    assert.deepEqual(sim.modes, ['o', 'o', 'o', 'o']);
    // Charge (I) is powered too: only O means VBUS off.
    sim.modes[3] = 'c';
    assert.deepEqual((await hub.status()).map((p) => p.powered), [false, false, false, true]);
    assert.deepEqual(sim.commands, ['state', 'mode s 2', 'state', 'state', 'mode o 2', 'state', 'state']);
  });

  test('a hub whose state does not follow the mode command fails the operation, naming the flags it shows', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 4 });
    sim.ignoreMode = true;
    assert.equal(await failure(hub.setPort(3, true)), `${where}: port 3 shows flags "R D O" after \`mode s 3\` (expected S: sync, powered with data)`);
    sim.modes[1] = 's';
    assert.equal(await failure(hub.setPort(2, false)), `${where}: port 2 shows flags "R D S" after \`mode o 2\` (expected O: off, VBUS removed)`);
  });

  test('a *E reply becomes one line naming the command', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 4 });
    sim.refuse(/^mode s 2$/, '*E13: port locked');
    assert.equal(await failure(hub.setPort(2, true)), `${where}: \`mode s 2\` was refused: *E13: port locked`);
    assert.deepEqual(sim.modes, ['o', 'o', 'o', 'o']);
  });

  test('Ctrl-C at open: input an earlier client left unfinished is dropped', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub } = await rig({ ports: 2 });
    sim.typePartial('mo');
    await hub.status();
    assert.deepEqual(sim.commands, ['state']);
  });

  test('Ctrl-C at open: a hub in a live mode, printing state lines, is stopped before the first command', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub } = await rig({ ports: 2 });
    sim.modes[0] = 's';
    sim.enterLiveMode();
    assert.deepEqual(await hub.status(), [{ port: 1, powered: true }, { port: 2, powered: false }]);
    assert.deepEqual(sim.commands, ['state']);
  });

  test('a slow hub: the prompt Ctrl-C\'s line end brings late is not taken for the next reply', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub } = await rig({ ports: 2, replyDelayMs: 60 });
    await hub.setPort(1, true);
    assert.deepEqual(await hub.status(), [{ port: 1, powered: true }, { port: 2, powered: false }]);
  });

  test('one command at a time: concurrent calls wait for each other\'s prompt', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub } = await rig({ ports: 4, replyDelayMs: 20 });
    const [, , status] = await Promise.all([hub.setPort(1, true), hub.setPort(2, true), hub.status(), hub.setPort(3, true), hub.setPort(1, false)]);
    assert.equal(sim.overlaps, 0);
    assert.deepEqual(sim.modes, ['o', 's', 's', 'o']);
    assert.deepEqual(status.map((p) => p.powered), [true, true, false, false]);
  });

  test('a port beyond the rig\'s count, or beyond what the hub\'s state lists, is refused before any mode command', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 4, rigPorts: 8 });
    assert.equal(await failure(hub.setPort(9, true)), `${where}: no port 9 (ports 1-8)`);
    assert.equal(await failure(hub.setPort(0, true)), `${where}: no port 0 (ports 1-8)`);
    assert.deepEqual(sim.commands, []);
    assert.equal(await failure(hub.setPort(6, true)),
      `${where}: the hub has no port 6 (its \`state\` lists ports 1-4); fix the rig's hubs[].ports or the device's port`);
    assert.deepEqual(sim.commands, ['state']);
  });

  test('a missing device path is one line saying what to check', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(tempDir('dextbench-cambrionix-'), 'cu.usbserial-GONE');
    const hub = driver({ id: 'hub1', driver: 'cambrionix', serial: path, ports: 4 }, 2_000);
    assert.equal(await failure(hub.status()),
      `hub hub1 (cambrionix on ${path}): no serial device at ${path} (is the hub plugged in and powered? \`ls /dev/serial/by-id/ /dev/ttyUSB*\` lists the candidates; fix the rig's hubs[].serial)`);
  });

  test('the device goes away: the next command says so; it comes back at the same path: the next command opens it again', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 2 });
    await hub.setPort(1, true);
    await sim.unplug();
    const gone = `${where}: the serial device at ${sim.path} went away (unplugged, reset or powered off?) and is not back`;
    assert.equal(await failure(hub.status()), gone);
    await sim.replug();
    assert.deepEqual(await hub.status(), [{ port: 1, powered: true }, { port: 2, powered: false }]);
    // Gone and back between two commands.
    await sim.unplug();
    await sim.replug();
    await hub.setPort(2, true);
    assert.deepEqual(sim.modes, ['s', 's']);
  });

  test('the device vanishes under a command already sent: one line, within the deadline; back, it is opened again', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 2, timeoutMs: 1_000 });
    await hub.status();
    sim.crash();
    const started = performance.now();
    assert.equal(await failure(hub.status()), `${where}: the serial device at ${sim.path} went away (unplugged, reset or powered off?) and is not back`);
    assert.ok(performance.now() - started < 2_000, `took ${performance.now() - started} ms`);
    await sim.replug();
    await hub.setPort(2, true);
    assert.deepEqual(sim.modes, ['o', 's']);
  });

  test('a device node gone while its port still reads nothing (as a hung-up PTY does) is told apart from a silent hub at the deadline', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 2, timeoutMs: 500 });
    await hub.status();
    sim.silent = true;
    unlinkSync(sim.path);
    assert.equal(await failure(hub.setPort(1, true)), `${where}: the serial device at ${sim.path} went away (unplugged, reset or powered off?) and is not back`);
  });

  test('deadlines: a hub that never answers fails each operation in time, and a later answer is resynced', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { sim, hub, where } = await rig({ ports: 2, timeoutMs: 400 });
    sim.silent = true;
    let started = performance.now();
    assert.equal(await failure(hub.status()),
      `${where}: no ">> " prompt after Ctrl-C (resync) within 400ms; received nothing (is it a Cambrionix at 115200 baud, and is no other program using the port?)`);
    assert.ok(performance.now() - started < 1_500, `took ${performance.now() - started} ms`);
    sim.silent = false;
    await hub.status();
    sim.silent = true;
    started = performance.now();
    assert.match(await failure(hub.setPort(1, true)), /: no ">> " prompt after `mode s 1` within 400ms; received nothing/);
    assert.ok(performance.now() - started < 1_500, `took ${performance.now() - started} ms`);
    sim.silent = false;
    await hub.setPort(1, true);
    assert.deepEqual(sim.modes, ['s', 'o']);
  });

  test('a rig session over a local Mac drives the Cambrionix, and its close lets go of the serial port', { timeout: TEST_TIMEOUT_MS }, async () => {
    const sim = await startSim({ ports: 4 });
    const spec: CambrionixHubSpec = { id: 'cbrx', driver: 'cambrionix', serial: sim.path, ports: 4 };
    const session = connectRig(simRig({ host: { kind: 'local' }, hubs: [spec], devices: [{ role: 'echo', profile: ECHO_PROFILE, port: { hub: 'cbrx', port: 3 } }] }),
      { exec: new LocalExec() });
    sim.modes[2] = 's';
    await session.safeState();
    assert.deepEqual(sim.modes, ['o', 'o', 'o', 'o']);
    const pty = realpathSync(sim.path);
    assert.equal(openFds(pty), 1);
    await session.close();
    assert.equal(openFds(pty), 0);
  });

  test('permission denied is one line with the fix (dialout on Linux)', { timeout: TEST_TIMEOUT_MS, skip: process.getuid?.() !== 0 && 'needs root to run the driver as nobody' }, async () => {
    const { sim } = await rig({ ports: 2 });
    chmodSync(dirname(sim.path), 0o755);
    chmodSync(sim.path, 0o600);
    // As nobody, through the package's own loader, the real open(2) fails with EACCES.
    const script = join(tempDir('dextbench-cambrionix-'), 'open.mts');
    writeFileSync(script, [
      `import { cambrionixDriver } from ${JSON.stringify(join(root, 'harness/power/index.ts'))};`,
      `const hub = cambrionixDriver({ id: 'hub1', driver: 'cambrionix', serial: ${JSON.stringify(sim.path)}, ports: 2 }, { timeoutMs: 2000 });`,
      'await hub.status().then(() => console.log("opened"), (e) => console.log(e.message));',
    ].join('\n'));
    chmodSync(join(script, '..'), 0o755);
    chmodSync(script, 0o644);
    const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', script],
      { cwd: root, encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: '/tmp' } });
    assert.equal(run.stdout.trim(), `hub hub1 (cambrionix on ${sim.path}): permission denied opening ${sim.path}: ` +
      'add your user to the dialout group (`sudo usermod -aG dialout $USER`, then log in again)', run.stderr);
  });
});
