import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHubDriver, uhubctlDriver } from '../../../harness/power/index.ts';
import type { HubSpec } from '../../../harness/rig/types.ts';
import { FakeExec, lines } from '../host/fake-exec.ts';

const HUB: HubSpec = { id: 'hub1', driver: 'uhubctl', location: '1-1', ports: 4 };
const HEAD = '[2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]';
const ON_CONNECTED = '  Port 2: 0503 power highspeed enable connect [1d6b:0104 dextbench Loopback ECHO0001]';
const OFF = '  Port 2: 0000 off';

/** What uhubctl prints for `-a on|off` (§C.1): current status, the request, the new status. */
function transcript(before: string, after: string): string {
  return lines(`Current status for hub 1-1 ${HEAD}`, '  Port 1: 0100 power', before, '  Port 3: 0100 power', '  Port 4: 0100 power',
    `Sent power ${after === OFF ? 'off' : 'on'} request`,
    `New status for hub 1-1 ${HEAD}`, '  Port 1: 0100 power', after, '  Port 3: 0100 power', '  Port 4: 0100 power');
}

test('setPort runs uhubctl -l -p -a (sudo -n when privileged) and accepts the New status it prints', async () => {
  const exec = new FakeExec((argv) => ({ stdout: argv.at(-1) === 'on' ? transcript(OFF, ON_CONNECTED) : transcript(ON_CONNECTED, OFF) }));
  const hub = createHubDriver(exec, HUB, { sudo: true });
  assert.equal(hub.id, 'hub1');
  await hub.setPort(2, true);
  await hub.setPort(2, false);
  assert.deepEqual(exec.argvs(), [
    ['sudo', '-n', 'uhubctl', '-l', '1-1', '-p', '2', '-a', 'on'],
    ['sudo', '-n', 'uhubctl', '-l', '1-1', '-p', '2', '-a', 'off'],
  ]);
});

test('setPort fails when the New status still shows the old power state (not the Current block)', async () => {
  // Current says off, New still says off after `-a on`: a hub that ignores the request.
  const exec = new FakeExec(() => ({ stdout: transcript(OFF, OFF).replace('Sent power off', 'Sent power on') }));
  await assert.rejects(uhubctlDriver(exec, HUB).setPort(2, true),
    { message: 'hub hub1 (uhubctl location 1-1 on fake host): port 2 is still off after -a on (uhubctl: 0000 off); the hub may not switch per-port power (ppps)' });
  // The opposite: the Current block shows the wanted state but New does not.
  const stuck = new FakeExec(() => ({ stdout: transcript(OFF, ON_CONNECTED) }));
  await assert.rejects(uhubctlDriver(stuck, HUB).setPort(2, false), /port 2 is still powered after -a off \(uhubctl: 0503 power highspeed enable connect\)/);
});

test('setPort with no New status block, or an unknown port, is a clear error', async () => {
  const exec = new FakeExec(() => ({ stdout: lines(`Current status for hub 1-1 ${HEAD}`, OFF) }));
  await assert.rejects(uhubctlDriver(exec, HUB).setPort(2, true), /printed no "New status" for port 2/);
  await assert.rejects(uhubctlDriver(exec, HUB).setPort(5, true), /no port 5 \(ports 1-4\)/);
  assert.equal(exec.calls.length, 1);
});

test('"No compatible devices detected" says to check the location with a bare uhubctl', async () => {
  const exec = new FakeExec(() => ({ stderr: 'No compatible devices detected at location 1-9!\nRun with -h to get usage info.\n', exitCode: 1 }));
  await assert.rejects(uhubctlDriver(exec, { ...HUB, location: '1-9' }).status(), (e: Error) => {
    assert.equal(e.message, 'hub hub1 (uhubctl location 1-9 on fake host): uhubctl found no compatible hub at location 1-9; ' +
      'run `uhubctl` with no arguments on the host to list the smart hubs and their locations, then fix the rig\'s hubs[].location');
    return true;
  });
  assert.deepEqual(exec.argvs(), [['uhubctl', '-l', '1-9']]);
});

test('other exits carry the exit code and uhubctl\'s words; a missing uhubctl says how to install it', async () => {
  const multi = new FakeExec(() => ({ stderr: 'Error: changing port state for multiple hubs at once is not supported.\nUse -l to limit operation to one hub!\n', exitCode: 1 }));
  await assert.rejects(uhubctlDriver(multi, HUB).setPort(1, false),
    { message: 'hub hub1 (uhubctl location 1-1 on fake host): uhubctl -l 1-1 -p 1 -a off exited with 1: Error: changing port state for multiple hubs at once is not supported. Use -l to limit operation to one hub!' });
  const missing = new FakeExec(() => ({ exitCode: 127, stderr: 'uhubctl: command not found' }));
  await assert.rejects(uhubctlDriver(missing, HUB).status(), /uhubctl is not installed \(macOS: `brew install uhubctl`\)/);
});

test('status reads the block for the rig\'s location (not the USB3 companion)', async () => {
  const exec = new FakeExec(() => ({
    stdout: lines(
      'Current status for hub 2-1 [2109:0817 VIA Labs, Inc. USB3.0 Hub, USB 3.00, 4 ports, ppps]',
      '  Port 2: 02a0 power 5gbps Rx.Detect',
      `Current status for hub 1-1 ${HEAD}`, '  Port 1: 0000 off', ON_CONNECTED),
  }));
  assert.deepEqual(await uhubctlDriver(exec, HUB).status(), [
    { port: 1, powered: false, connected: false },
    { port: 2, powered: true, connected: true, device: '1d6b:0104 dextbench Loopback ECHO0001' },
  ]);
});

test('cyclePort is off, a pause, then on', async () => {
  const exec = new FakeExec((argv) => ({ stdout: argv.at(-1) === 'on' ? transcript(OFF, ON_CONNECTED) : transcript(ON_CONNECTED, OFF) }));
  const started = performance.now();
  await uhubctlDriver(exec, HUB).cyclePort(2, 30);
  assert.ok(performance.now() - started >= 25);
  assert.deepEqual(exec.argvs().map((a) => a.at(-1)), ['off', 'on']);
});

test('createHubDriver refuses an unknown driver', () => {
  const exec = new FakeExec(() => ({}));
  assert.throws(() => createHubDriver(exec, { ...HUB, driver: 'acroname' as 'uhubctl' }), { message: 'hub hub1: unknown driver "acroname" (known: uhubctl, cambrionix, ykush)' });
});
