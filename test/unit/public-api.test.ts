import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { repoRoot } from '../support/cli.ts';

test('the parsers are importable from plain Node through the package exports (no TypeScript loader)', () => {
  const script = `
    import { parseSystemExtensionsList, parseIoregPlist, parseUnifiedLogLine, parseEsloggerLine } from 'dextbench';
    const list = parseSystemExtensionsList('1 extension(s)\\n--- com.apple.system_extension.driver_extension\\nenabled\\tactive\\tteamID\\tbundleID (version)\\tname\\t[state]\\n*\\t*\\t5JZGQTGU4W\\tcn.wch.CH34xVCPDriver (1.0/1)\\tcn.wch.CH34xVCPDriver\\t[activated enabled]\\n');
    console.log(JSON.stringify({ state: list.extensions[0].state, fns: [typeof parseIoregPlist, typeof parseUnifiedLogLine, typeof parseEsloggerLine] }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { state: 'activated enabled', fns: ['function', 'function', 'function'] });
});

test('hostExec turns a rig\'s host into an Exec, from plain Node: local runs here, { ssh } over OpenSSH', () => {
  const script = `
    import { hostExec, LocalExec, SshExec, TransportError } from 'dextbench';
    const local = hostExec('local');
    const out = await local.run(['printf', '%s|', 'a b', '']);
    const ssh = hostExec({ ssh: 'ci@mac-mini-3.lan', port: 2200 });
    console.log(JSON.stringify({ local: local instanceof LocalExec, out: out.stdout, ssh: ssh instanceof SshExec, where: ssh.where, error: typeof TransportError }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { local: true, out: 'a b||', ssh: true, where: 'ssh ci@mac-mini-3.lan:2200', error: 'function' });
});

test('hub drivers, the gadget emulator and harness/usb are importable from plain Node; a host without USB says so in one line', () => {
  const script = `
    import { usb, gadgetPlan, loadDeviceProfile, createHubDriver, HubError, LocalExec } from 'dextbench';
    const plan = gadgetPlan(loadDeviceProfile('devices/echo.yaml'), 'echo');
    let refused;
    try { createHubDriver(new LocalExec(), { id: 'h', driver: 'cambrionix', serial: '/dev/ttyX', ports: 4 }, { overSsh: 'ci@mac' }); } catch (e) { refused = e instanceof HubError; }
    let noUsb;
    try { await usb.findDevices({ vendorId: 0x1d6b }); noUsb = 'found'; } catch (e) { noUsb = e instanceof usb.UsbUnavailable ? e.message.split('(')[0].trim() : e.name; }
    console.log(JSON.stringify({ idVendor: plan.ops.find((op) => op.path.endsWith('/idVendor')).value, refused, noUsb }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const expectedUsb = existsSync('/sys/bus/usb/devices') ? 'found' : 'no USB on this host';
  assert.deepEqual(JSON.parse(r.stdout), { idVendor: '0x1d6b', refused: true, noUsb: expectedUsb });
});

test('failure classes from plain Node: a hub error is infrastructure, a TypeError our own bug', () => {
  const script = `
    import { classifyFailure, HubError, ExecError, FAILURE_CLASS_FIELD, FAILURE_CLASSES } from 'dextbench';
    console.log(JSON.stringify({ hub: classifyFailure(new HubError('port 9')), bug: classifyFailure(new TypeError('x')), field: FAILURE_CLASS_FIELD, classes: FAILURE_CLASSES }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { hub: 'infrastructure', bug: 'harness', field: 'dextbench.class', classes: ['infrastructure', 'configuration', 'product', 'harness'] });
});
