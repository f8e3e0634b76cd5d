// A gadget hub whose board is reached over real ssh (npm run sim:sshd, 127.0.0.1:2722), from a rig
// file through connectRig, with sudo off and the board's configfs played by a folder (this machine
// has no configfs): plug writes the gadget's folders and files with the exact bytes, unplug empties
// UDC, close removes it. Every command is gadget.ts's own argv, run by the board's shell over ssh,
// while the Mac's own host is unreachable (the board is reached on its own).
// The folder plays what configfs does by itself (test/usb/gadget-hub.test.ts has the real one):
// mkdir of a gadget makes its UDC file and default groups, rmdir takes attribute files along.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { loadRig } from '../../../harness/scenario/index.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd, type SimSshd } from '../../support/sim-sshd.ts';
import { tempDir } from '../../support/temp.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);
const repo = new URL('../../..', import.meta.url).pathname;
// Strings that a shell would mangle if any layer quoted them wrongly.
const PRODUCT = 'Loop\'back "$HOME" `id` %s \\n *';
const MANUFACTURER = 'dext bench — ü';

/** A folder that plays configfs's usb_gadget: the shims run on the board, found first on its PATH. */
function configfsFolder(root: string): { gadgets: string; udc: string; bin: string } {
  const gadgets = join(root, 'usb_gadget');
  const udc = join(root, 'udc');
  const bin = join(root, 'bin');
  for (const d of [gadgets, udc, bin]) mkdirSync(d);
  // Two controllers: the hub's udc: must pick one (the profile names none).
  for (const controller of ['fe980000.usb', 'dummy_udc.0']) writeFileSync(join(udc, controller), '');
  const shim = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\nG='${gadgets}'\n${body}`);
    chmodSync(join(bin, name), 0o755);
  };
  // sshd sets SSH_CONNECTION in the board's session: the proof that the command came over ssh.
  shim('mkdir', [
    'printf "%s\\n" "$SSH_CONNECTION" >> "$G/../ssh-connections"',
    '/bin/mkdir "$@" || exit $?',
    'case "$1" in "$G"/*/*) ;; "$G"/*) : > "$1/UDC" && /bin/mkdir "$1/strings" "$1/configs" "$1/functions" ;; esac',
    '',
  ].join('\n'));
  shim('rmdir', [
    'case "$1" in "$G"/*) find "$1" -maxdepth 1 -type f -exec rm -f {} + ;; esac',
    'case "$1" in "$G"/*/*) ;; "$G"/*) /bin/rmdir "$1/strings" "$1/configs" "$1/functions" 2>/dev/null ;; esac',
    'exec /bin/rmdir "$@"',
    '',
  ].join('\n'));
  return { gadgets, udc, bin };
}

describe('gadget hub, board over ssh', { skip }, () => {
  let sshd: SimSshd;
  let root: string;
  let folder: ReturnType<typeof configfsFolder>;
  let session: RigSession;
  const read = (path: string) => readFileSync(join(folder.gadgets, 'echo', path), 'utf8');

  before(async () => {
    sshd = await startSimSshd();
    root = tempDir('dextbench-gadget-ssh-');
    folder = configfsFolder(root);
    writeFileSync(join(root, 'echo.yaml'), readFileSync(join(repo, 'devices/echo.yaml'), 'utf8')
      .replace('product: Loopback', `product: ${JSON.stringify(PRODUCT)}`).replace('manufacturer: dextbench', `manufacturer: ${JSON.stringify(MANUFACTURER)}`)
      .replace('proto: ./echo.proto', `proto: ${join(repo, 'devices/echo.proto')}`));
    writeFileSync(join(root, 'rig.yaml'), [
      'name: pi-over-ssh',
      'host: { ssh: ci@mac.invalid }          # never reached: the board has its own ssh',
      'hubs:',
      '  - id: pi',
      '    driver: gadget',
      `    board: { ssh: 127.0.0.1, port: ${sshd.port}, identityFile: ${sshd.identityFile}, options: [UserKnownHostsFile=${sshd.knownHosts}, SetEnv=SHLVL=1] }`,
      '    udc: fe980000.usb',
      '    sudo: false',
      'devices:',
      '  echo: { profile: ./echo.yaml, port: { hub: pi, port: 1 } }',
      '',
    ].join('\n'));
    session = connectRig(loadRig(join(root, 'rig.yaml'), { env: {} }), { gadgetBoard: { gadgetsDir: folder.gadgets, udcDir: folder.udc, pathPrefix: [folder.bin] } });
  });

  test('before a plug, port 1 is off and nothing is on the board', async () => {
    assert.deepEqual(await session.hubs.get('pi')!.status(), [{ port: 1, powered: false, connected: false }]);
    assert.deepEqual(readdirSync(folder.gadgets), []);
  });

  test('plug (port 1 on): the gadget\'s folders and files on the board, byte for byte, bound to the UDC the hub names', async () => {
    await session.hubs.get('pi')!.setPort(1, true);
    const files = ['idVendor', 'idProduct', 'strings/0x409/manufacturer', 'strings/0x409/product', 'strings/0x409/serialnumber', 'UDC'];
    assert.deepEqual(files.map((f) => [f, read(f)]), [
      ['idVendor', '0x1d6b'], ['idProduct', '0x0104'],
      ['strings/0x409/manufacturer', MANUFACTURER], ['strings/0x409/product', PRODUCT], ['strings/0x409/serialnumber', 'ECHO0001'],
      ['UDC', 'fe980000.usb'],
    ]);
    const link = join(folder.gadgets, 'echo/configs/c.1/Loopback.0');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), join(folder.gadgets, 'echo/functions/Loopback.0'));
    assert.deepEqual(await session.hubs.get('pi')!.status(), [{ port: 1, powered: true, connected: true, device: 'echo on fe980000.usb' }]);
    const connections = readFileSync(join(root, 'ssh-connections'), 'utf8').trim().split('\n');
    assert.ok(connections.length >= 4 && connections.every((c) => new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}$`).test(c)), connections.join(' | '));
  });

  test('unplug (port 1 off) writes the empty line that unbinds; safe state does the same after a replug', async () => {
    const pi = session.hubs.get('pi')!;
    await pi.setPort(1, false);
    assert.equal(read('UDC'), '\n');
    assert.deepEqual(await pi.status(), [{ port: 1, powered: false, connected: false }]);
    await pi.setPort(1, true);
    assert.equal(read('UDC'), 'fe980000.usb');
    await session.safeState();
    assert.equal(read('UDC'), '\n');
  });

  test('close removes the gadget this run built', async () => {
    await session.close();
    assert.deepEqual(readdirSync(folder.gadgets), []);
    assert.equal(existsSync(join(folder.gadgets, 'echo')), false);
  });
});
