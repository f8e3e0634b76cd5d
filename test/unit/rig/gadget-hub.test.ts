// The `driver: gadget` hub: a Linux board on the Mac's port playing one device profile. What the rig
// file accepts and refuses (file:line:column, with a fix), and the sudo wrapper that runs every board
// command as `sudo -n …` (argv byte for byte, one line when sudo wants a password).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { GadgetError, gadgetSudoersRule, sudoExec } from '../../../harness/emulate/index.ts';
import { ExecError } from '../../../harness/host/exec.ts';
import { connectRig, describeHub } from '../../../harness/rig/connect.ts';
import { formatIssue, loadRig, ValidationError } from '../../../harness/scenario/index.ts';
import { tempDir } from '../../support/temp.ts';
import { FakeExec } from '../host/fake-exec.ts';

const ECHO = resolve(import.meta.dirname, '../../../devices/echo.yaml');
const dir = tempDir('dextbench-gadget-hub-');
writeFileSync(join(dir, 'plain.yaml'), 'name: plain\nusb: { vendorId: 0x1234, productId: 0x0001 }\ninterfaces: []\n');

function rigFile(name: string, yaml: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** The issue lines loading `yaml` gives, file names relative to the temp folder. */
function refusals(name: string, yaml: string): string[] {
  try {
    loadRig(rigFile(name, yaml), { env: {} });
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.issues.map((i) => formatIssue(i, dir));
  }
  assert.fail('expected the rig to be refused');
}

test('a gadget hub on an ssh Mac: board over ssh with its files resolved against the rig file, udc, sudo on by default', () => {
  const rig = loadRig(rigFile('ok-ssh', [
    'name: pi-rig',
    'host: { ssh: ci@mac.lan }',
    'hubs:',
    '  - id: pi',
    '    driver: gadget',
    '    board: { ssh: pi@rpi.local, port: 2200, identityFile: ./keys/pi, options: [UserKnownHostsFile=./keys/known_hosts, StrictHostKeyChecking=yes] }',
    '    udc: fe980000.usb',
    'devices:',
    `  echo: { profile: ${ECHO}, port: { hub: pi, port: 1 } }`,
  ].join('\n')), { env: {} });
  assert.deepEqual(rig.hubs, [{
    id: 'pi', driver: 'gadget', udc: 'fe980000.usb', sudo: true,
    board: { ssh: 'pi@rpi.local', port: 2200, identityFile: join(dir, 'keys/pi'), options: [`UserKnownHostsFile=${join(dir, 'keys/known_hosts')}`, 'StrictHostKeyChecking=yes'] },
  }]);
  assert.deepEqual(rig.devices.map((d) => [d.role, d.port, d.profile.emulate]), [['echo', { hub: 'pi', port: 1 }, { functions: ['loopback'] }]]);
  assert.equal(describeHub(rig.hubs[0]!), 'gadget on ssh pi@rpi.local:2200');
});

test('a gadget hub with board: local and sudo: false on a local Mac; a hub with no device on it is allowed', () => {
  const rig = loadRig(rigFile('ok-local', [
    'name: desk',
    'host: local',
    'hubs:',
    '  - { id: pi, driver: gadget, board: local, sudo: false }',
    '  - { id: spare, driver: gadget, board: { ssh: spare.local } }',
    'devices:',
    `  echo: { profile: ${ECHO}, port: { hub: pi, port: 1 } }`,
  ].join('\n')), { env: {} });
  assert.deepEqual(rig.hubs, [
    { id: 'pi', driver: 'gadget', board: 'local', sudo: false },
    { id: 'spare', driver: 'gadget', board: { ssh: 'spare.local' }, sudo: true },
  ]);
  assert.equal(describeHub(rig.hubs[0]!), 'gadget on this machine');
});

test('refused with positions: a gadget hub on the simulated Mac, port 2, a profile without emulate:, a second device', () => {
  assert.deepEqual(refusals('sim', [
    'name: s',
    'host: sim',
    'sim: {}',
    'hubs:',
    '  - { id: pi, driver: gadget, board: local }',
    'devices:',
    `  echo: { profile: ${ECHO}, port: { hub: pi, port: 1 } }`,
  ].join('\n')), [
    'sim.yaml:5:23: hubs[0].driver: a gadget enumerates on a real Mac\'s USB port, and the simulated Mac\'s USB is simulated; use driver: uhubctl with a location, or a real Mac (host: local or { ssh: user@host })',
  ]);
  assert.deepEqual(refusals('ports', [
    'name: p',
    'host: local',
    'hubs:',
    '  - { id: pi, driver: gadget, board: local }',
    'devices:',
    `  echo: { profile: ${ECHO}, port: { hub: pi, port: 2 } }`,
  ].join('\n')), [
    `ports.yaml:6:${`  echo: { profile: ${ECHO}, port: { hub: pi, port: `.length + 1}: devices.echo.port.port: hub pi is a gadget emulator, which has one port, got port 2; use port: 1`,
  ]);
  assert.deepEqual(refusals('one-device', [
    'name: o',
    'host: { ssh: ci@mac.lan }',
    'hubs:',
    '  - { id: pi, driver: gadget, board: { ssh: pi@rpi.local } }',
    'devices:',
    '  plain: { profile: ./plain.yaml, port: { hub: pi, port: 1 } }',
    `  third: { profile: ${ECHO}, port: { hub: pi, port: 1 } }`,
  ].join('\n')), [
    'one-device.yaml:6:21: devices.plain.profile: hub pi is a gadget emulator, which plays the device from its profile\'s emulate: section, and ./plain.yaml has none; add one to the profile, e.g. emulate: { functions: [loopback] }',
    `one-device.yaml:7:${`  third: { profile: ${ECHO}, port: { hub: `.length + 1}: devices.third.port.hub: hub pi is a gadget emulator, which plays one device, and it plays plain already; give each emulated device a board of its own (a gadget hub each)`,
  ]);
});

test('refused with positions: a board that is neither local nor ssh, a udc that is a path, and keys the schema does not have (no configfs paths in a rig file)', () => {
  const lines = refusals('board', [
    'name: b',
    'host: local',
    'hubs:',
    '  - { id: a, driver: gadget, board: remote }',
    '  - { id: b, driver: gadget, board: local, udc: /sys/class/udc/x }',
    '  - { id: c, driver: gadget, board: local, gadgetsDir: /tmp/x }',
  ].join('\n'));
  assert.deepEqual(lines.slice(0, 2), [
    'board.yaml:4:37: hubs[0].board: expected local or { ssh: user@host }, got "remote"',
    'board.yaml:5:49: hubs[1].udc: expected a USB device controller\'s name as /sys/class/udc lists it (e.g. fe980000.usb), got "/sys/class/udc/x"',
  ]);
  // The allowed keys listed after it are every hub driver's.
  assert.match(lines[2]!, /^board\.yaml:6:44: hubs\[2\]: unknown key "gadgetsDir"; allowed keys: .*\bboard, udc, sudo\b/);
  assert.equal(lines.length, 3);
});

test('the rig example with a Raspberry Pi gadget passes validation, and its board has the dwc2 controller of a Pi 4', () => {
  const rig = loadRig(resolve(import.meta.dirname, '../../../rigs/linux-controller-pi-gadget.example.yaml'), { env: {} });
  assert.equal(rig.host.kind, 'ssh');
  const [hub] = rig.hubs;
  assert.deepEqual(hub && hub.driver === 'gadget' && { board: hub.board, udc: hub.udc, sudo: hub.sudo },
    { board: { ssh: 'pi@rpi.local' }, udc: 'fe980000.usb', sudo: true });
  assert.deepEqual(rig.devices.map((d) => [d.role, d.port, d.profile.name]), [['echo', { hub: 'pi', port: 1 }, 'echo']]);
});

test('sudo wrapper: every command reaches the board as sudo -n <argv>, byte for byte; spawn too', async () => {
  const board = new FakeExec(() => ({ stdout: 'ok' }));
  const root = sudoExec(board, { user: 'pi' });
  const nasty = ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', "it's $HOME\n%s", '/sys/kernel/config/usb_gadget/echo/strings/0x409/product'];
  const result = await root.run(nasty, { timeoutMs: 1234, idempotent: true });
  assert.equal(result.stdout, 'ok');
  root.spawn(['cat', '/dev/hidg0']);
  assert.deepEqual(board.calls.map((c) => [c.argv, c.timeoutMs, c.idempotent]), [
    [['sudo', '-n', 'sh', '-c', 'printf %s "$1" > "$2"', 'sh', "it's $HOME\n%s", '/sys/kernel/config/usb_gadget/echo/strings/0x409/product'], 1234, true],
    [['sudo', '-n', 'cat', '/dev/hidg0'], undefined, undefined],
  ]);
  assert.equal(root.where, 'fake host');
});

test('sudo wrapper: a failing command is the caller\'s to judge (nothrow) or an ExecError; a password prompt or a missing sudo is one line with the fix', async () => {
  const board = new FakeExec((argv) => (argv[2] === 'false' ? { exitCode: 1, stderr: 'nope\n' }
    : argv[2] === 'mkdir' ? { exitCode: 1, stderr: 'sudo: a password is required\n' } : { exitCode: 127, stderr: 'sudo: command not found' }));
  const root = sudoExec(board, { user: 'pi' });
  assert.equal((await root.run(['false'], { nothrow: true })).stderr, 'nope\n');
  await assert.rejects(root.run(['false']), ExecError);
  await assert.rejects(root.run(['mkdir', '/sys/kernel/config/usb_gadget/echo'], { nothrow: true }), (e: Error) => {
    assert.ok(e instanceof GadgetError);
    assert.equal(e.message, 'fake host: sudo -n needs a password for mkdir (configfs needs root): on the board, ' +
      'echo \'pi ALL=(root) NOPASSWD: /usr/bin/mkdir, /usr/bin/rmdir, /usr/bin/ln, /usr/bin/rm, /usr/bin/sh, /usr/bin/cat, /usr/bin/ls, /usr/bin/test, /usr/bin/mount\' ' +
      '| sudo tee /etc/sudoers.d/dextbench-gadget; or set sudo: false on the hub and reach the board as root');
    return true;
  });
  await assert.rejects(root.run(['ls', '-1', '/sys/class/udc'], { nothrow: true }), {
    message: 'fake host: sudo is not installed on the board: install it (apt-get install sudo), or set sudo: false on the hub and reach the board as root',
  });
  assert.equal(gadgetSudoersRule('alice'), 'alice ALL=(root) NOPASSWD: /usr/bin/mkdir, /usr/bin/rmdir, /usr/bin/ln, /usr/bin/rm, /usr/bin/sh, /usr/bin/cat, /usr/bin/ls, /usr/bin/test, /usr/bin/mount');
});

test('connectRig wires a gadget hub with sudo on through sudo -n on its board (a sudo that wants a password: the fix names this machine\'s user)', async () => {
  // A stand-in for sudo as a rule-less `sudo -n` answers (what sudo prints, exit 1), logging the argv it got.
  const bin = tempDir('dextbench-gadget-sudo-');
  const log = join(bin, 'argv');
  writeFileSync(join(bin, 'sudo'), `#!/bin/sh\nprintf '%s\\0' "$@" > '${log}'\necho 'sudo: a password is required' >&2\nexit 1\n`);
  chmodSync(join(bin, 'sudo'), 0o755);
  const rig = loadRig(rigFile('wired', [
    'name: wired',
    'host: local',
    'hubs: [{ id: pi, driver: gadget, board: local }]',
    `devices: { echo: { profile: ${ECHO}, port: { hub: pi, port: 1 } } }`,
  ].join('\n')), { env: {} });
  const session = connectRig(rig, { gadgetBoard: { gadgetsDir: join(dir, 'gadgets'), udcDir: join(dir, 'udc'), pathPrefix: [bin] } });
  await assert.rejects(session.hubs.get('pi')!.setPort(1, true), { message: new RegExp(`^local: sudo -n needs a password for cat .*echo '${userInfo().username} ALL=\\(root\\) NOPASSWD: /usr/bin/mkdir,`) });
  assert.deepEqual(readFileSync(log, 'utf8').split('\0').slice(0, -1), ['-n', 'cat', join(dir, 'gadgets/echo/UDC')]);
  await session.close();
});
