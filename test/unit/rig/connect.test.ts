import { SshExec } from '../../../harness/host/ssh.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectRig } from '../../../harness/rig/connect.ts';
import { FakeExec, lines } from '../host/fake-exec.ts';
import { ECHO_PROFILE, simRig } from './rig-fixtures.ts';

const HEAD = '[2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]';
const offReply = (argv: string[]) => {
  const port = argv[argv.indexOf('-p') + 1];
  return { stdout: lines(`Current status for hub ${argv[argv.indexOf('-l') + 1]} ${HEAD}`, `  Port ${port}: 0100 power`, 'Sent power off request',
    `New status for hub ${argv[argv.indexOf('-l') + 1]} ${HEAD}`, `  Port ${port}: 0000 off`) };
};

const twoHubRig = () => simRig({
  hubs: [{ id: 'hub1', driver: 'uhubctl', location: '1-1', ports: 4 }, { id: 'hub2', driver: 'uhubctl', location: '1-2', ports: 4 }],
  devices: [
    { role: 'echo', profile: ECHO_PROFILE, port: { hub: 'hub1', port: 2 } },
    { role: 'echo-alias', profile: ECHO_PROFILE, port: { hub: 'hub1', port: 2 } },
    { role: 'other', profile: ECHO_PROFILE, port: { hub: 'hub2', port: 3 } },
  ],
});

test('a session has hubs, devices by role, and tools over one Exec', () => {
  const exec = new FakeExec(() => ({}));
  const session = connectRig(simRig(), { exec });
  assert.equal(session.exec, exec);
  assert.deepEqual([...session.hubs.keys()], ['hub1']);
  assert.equal(session.devices.get('echo')?.port.port, 2);
  assert.equal(typeof session.tools.sysext.waitForState, 'function');
  assert.equal(typeof session.tools.activator.activate, 'function');
});

test('safeState switches every device port off once, in parallel', async () => {
  const exec = new FakeExec(offReply);
  await connectRig(twoHubRig(), { exec }).safeState();
  assert.deepEqual(exec.argvs().sort(), [
    ['uhubctl', '-l', '1-1', '-p', '2', '-a', 'off'],
    ['uhubctl', '-l', '1-2', '-p', '3', '-a', 'off'],
  ]);
});

test('safeState reports every port that failed, in one line, after trying all', async () => {
  const exec = new FakeExec((argv) => (argv.includes('1-2') ? { stderr: 'No compatible devices detected at location 1-2!\n', exitCode: 1 } : offReply(argv)));
  await assert.rejects(connectRig(twoHubRig(), { exec }).safeState(), (e: Error) => {
    assert.match(e.message, /^rig "test": safe state failed: other \(hub2 port 3\): hub hub2 \(uhubctl location 1-2 on fake host\): uhubctl found no compatible hub/);
    assert.equal(e.message.split('\n').length, 1);
    return true;
  });
  assert.equal(exec.calls.length, 2);
});

test('safeState has a deadline', async () => {
  const exec = new FakeExec(() => new Promise(() => { /* a hub that never answers */ }));
  await assert.rejects(connectRig(simRig(), { exec }).safeState({ timeoutMs: 30 }), { message: 'rig "test": switching every port off (safe state) timed out after 30ms' });
});

test('a simulated Mac\'s commands see its own TMPDIR; its leases live in its own shared folder', async () => {
  const state = mkdtempSync(join(tmpdir(), 'dextbench-connect-'));
  try {
    const session = connectRig(simRig(), { sim: { binDir: join(state, 'bin'), stateDir: state } });
    assert.equal(session.leaseDir, join(state, 'fs', 'Users', 'Shared', 'dextbench', 'leases'));
    assert.equal(session.exec.where, 'simulated Mac "test"');
    assert.equal((await session.exec.run(['printenv', 'TMPDIR'])).stdout.trim(), join(state, 'tmp'));
    assert.ok(statSync(join(state, 'tmp')).isDirectory());
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('host kinds: sim needs its binDir, ssh gets an ssh Exec with Homebrew on PATH, a device on an unknown hub is refused', () => {
  assert.throws(() => connectRig(simRig()), /is a simulated Mac: attach it first/);
  assert.equal(connectRig(simRig({ host: { kind: 'local' } })).leaseDir, '/Users/Shared/dextbench/leases');
  assert.equal(connectRig(simRig({ host: { kind: 'local' }, reservation: { ttlMs: 1000, waitMs: 0, dir: '/srv/leases' } })).leaseDir, '/srv/leases');
  assert.equal(connectRig(simRig({ host: { kind: 'local' } })).exec.where, 'local');
  const overSsh = connectRig(simRig({ host: { kind: 'ssh', ssh: { ssh: 'ci@mac', port: 2200 } } }));
  assert.equal(overSsh.exec.where, 'ssh ci@mac:2200');
  assert.ok(overSsh.exec instanceof SshExec);
  assert.throws(() => connectRig(simRig({ devices: [{ role: 'echo', profile: ECHO_PROFILE, port: { hub: 'nope', port: 1 } }] }), { exec: new FakeExec(() => ({})) }),
    /device echo sits on hub "nope", which the rig does not declare \(hubs: hub1\)/);
});
