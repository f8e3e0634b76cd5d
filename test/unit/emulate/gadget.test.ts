// harness/emulate/gadget.ts: the configfs plan as a pure function, and the commands it runs, on real
// files in a temporary folder through a LocalExec (the board's configfs itself is the QEMU lane's:
// test/usb/emulate-gadget.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGadget, explainFailure, GadgetError, gadgetPlan, gadgetPortDriver, opArgv, pickUdc } from '../../../harness/emulate/index.ts';
import { LocalExec } from '../../../harness/host/exec.ts';
import type { HubDriver } from '../../../harness/power/hub-driver.ts';
import type { DeviceProfile } from '../../../harness/rig/types.ts';
import { loadDeviceProfile } from '../../../harness/scenario/device.ts';

const G = '/sys/kernel/config/usb_gadget/echo';
const base = (emulate: DeviceProfile['emulate']): DeviceProfile => ({
  file: '/x/devices/d.yaml', name: 'd', interfaces: [],
  usb: { vendorId: 0x1d6b, productId: 0x0104, manufacturer: 'dextbench', product: 'Loopback', serial: 'ECHO0001' },
  ...(emulate ? { emulate } : {}),
});

test('devices/echo.yaml plays a Loopback gadget: identity, strings under strings/0x409, function linked into c.1, in configfs order', () => {
  const plan = gadgetPlan(loadDeviceProfile('devices/echo.yaml'), 'echo');
  assert.equal(plan.dir, G);
  assert.equal(plan.udc, undefined);
  assert.deepEqual(plan.ops, [
    { op: 'mkdir', path: G },
    { op: 'write', path: `${G}/idVendor`, value: '0x1d6b' },
    { op: 'write', path: `${G}/idProduct`, value: '0x0104' },
    { op: 'mkdir', path: `${G}/strings/0x409` },
    { op: 'write', path: `${G}/strings/0x409/manufacturer`, value: 'dextbench' },
    { op: 'write', path: `${G}/strings/0x409/product`, value: 'Loopback' },
    { op: 'write', path: `${G}/strings/0x409/serialnumber`, value: 'ECHO0001' },
    { op: 'mkdir', path: `${G}/configs/c.1` },
    { op: 'mkdir', path: `${G}/functions/Loopback.0` },
    { op: 'symlink', path: `${G}/configs/c.1/Loopback.0`, value: `${G}/functions/Loopback.0` },
  ]);
});

test('acm + two hid + ffs: IAD device class, MaxPower, hid attributes before the links, instances numbered per kind', () => {
  const H = '/cfg/g';
  const plan = gadgetPlan(base({
    functions: ['acm', { hid: { reportDescriptor: '05 01 09 06 A1 01 C0', protocol: 1, subclass: 1, reportLength: 8 } },
      { hid: { reportDescriptor: '0601ff0901a101c0', reportLength: 64 } }, { ffs: { name: 'ykush' } }],
    udc: 'fe980000.usb', maxPower: 250,
  }), 'g', '/cfg');
  assert.equal(plan.udc, 'fe980000.usb');
  assert.deepEqual(plan.ops, [
    { op: 'mkdir', path: H },
    { op: 'write', path: `${H}/idVendor`, value: '0x1d6b' },
    { op: 'write', path: `${H}/idProduct`, value: '0x0104' },
    { op: 'write', path: `${H}/bDeviceClass`, value: '0xef' },
    { op: 'write', path: `${H}/bDeviceSubClass`, value: '0x02' },
    { op: 'write', path: `${H}/bDeviceProtocol`, value: '0x01' },
    { op: 'mkdir', path: `${H}/strings/0x409` },
    { op: 'write', path: `${H}/strings/0x409/manufacturer`, value: 'dextbench' },
    { op: 'write', path: `${H}/strings/0x409/product`, value: 'Loopback' },
    { op: 'write', path: `${H}/strings/0x409/serialnumber`, value: 'ECHO0001' },
    { op: 'mkdir', path: `${H}/configs/c.1` },
    { op: 'write', path: `${H}/configs/c.1/MaxPower`, value: '250' },
    { op: 'mkdir', path: `${H}/functions/acm.0` },
    { op: 'mkdir', path: `${H}/functions/hid.0` },
    { op: 'write', path: `${H}/functions/hid.0/protocol`, value: '1' },
    { op: 'write', path: `${H}/functions/hid.0/subclass`, value: '1' },
    { op: 'write', path: `${H}/functions/hid.0/report_length`, value: '8' },
    { op: 'write', path: `${H}/functions/hid.0/report_desc`, value: '05010906a101c0', hex: true },
    { op: 'mkdir', path: `${H}/functions/hid.1` },
    { op: 'write', path: `${H}/functions/hid.1/protocol`, value: '0' },
    { op: 'write', path: `${H}/functions/hid.1/subclass`, value: '0' },
    { op: 'write', path: `${H}/functions/hid.1/report_length`, value: '64' },
    { op: 'write', path: `${H}/functions/hid.1/report_desc`, value: '0601ff0901a101c0', hex: true },
    { op: 'mkdir', path: `${H}/functions/ffs.ykush` },
    { op: 'symlink', path: `${H}/configs/c.1/acm.0`, value: `${H}/functions/acm.0` },
    { op: 'symlink', path: `${H}/configs/c.1/hid.0`, value: `${H}/functions/hid.0` },
    { op: 'symlink', path: `${H}/configs/c.1/hid.1`, value: `${H}/functions/hid.1` },
    { op: 'symlink', path: `${H}/configs/c.1/ffs.ykush`, value: `${H}/functions/ffs.ykush` },
  ]);
});

test('a profile without emulate:, or a name that is no folder name, is one clear line', () => {
  assert.throws(() => gadgetPlan(base(undefined), 'g'), new GadgetError('device profile /x/devices/d.yaml: no emulate: section (add e.g. `emulate: { functions: [loopback] }`)'));
  assert.throws(() => gadgetPlan(base({ functions: ['loopback'] }), '../g'), /gadget name "\.\.\/g": use letters/);
});

test('writes reach the file byte for byte: text without a newline added, a HID report descriptor as raw bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulate-'));
  const exec = new LocalExec();
  const text = "it's \"quoted\" $HOME %s\\n";
  await exec.run(opArgv({ op: 'write', path: join(dir, 'text'), value: text }));
  assert.equal(readFileSync(join(dir, 'text'), 'utf8'), text);
  await exec.run(opArgv({ op: 'write', path: join(dir, 'desc'), value: '0501090600ff25a10ac0', hex: true }));
  assert.deepEqual(readFileSync(join(dir, 'desc')), Buffer.from('0501090600ff25a10ac0', 'hex'));
  await exec.run(opArgv({ op: 'write', path: join(dir, 'UDC'), value: '\n' }));
  assert.equal(readFileSync(join(dir, 'UDC'), 'utf8'), '\n');
});

test('the UDC: the only one by default; none or several, or a wrong name, say what to do', async () => {
  const exec = new LocalExec();
  const udcDir = mkdtempSync(join(tmpdir(), 'udc-'));
  await assert.rejects(pickUdc(exec, undefined, { udcDir }), (e: Error) => e instanceof GadgetError && e.message.startsWith(`no USB device controller in ${udcDir} on local: `) && /dwc2/.test(e.message) && /modprobe dummy_hcd/.test(e.message));
  mkdirSync(join(udcDir, 'dummy_udc.0'));
  assert.equal(await pickUdc(exec, undefined, { udcDir }), 'dummy_udc.0');
  await assert.rejects(pickUdc(exec, 'fe980000.usb', { udcDir }), { message: `no USB device controller fe980000.usb in ${udcDir} on local (it has: dummy_udc.0); fix the profile's emulate.udc` });
  mkdirSync(join(udcDir, 'dummy_udc.1'));
  await assert.rejects(pickUdc(exec, undefined, { udcDir }), { message: 'local has several USB device controllers (dummy_udc.0, dummy_udc.1): name one in the profile\'s emulate.udc' });
  assert.equal(await pickUdc(exec, 'dummy_udc.1', { udcDir }), 'dummy_udc.1');
});

test('configfs without usb_gadget (not mounted, or libcomposite not loaded) says to modprobe and mount', async () => {
  const gadgetsDir = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'usb_gadget');
  const plan = gadgetPlan(base({ functions: ['loopback'] }), 'g', gadgetsDir);
  await assert.rejects(createGadget(new LocalExec(), plan, { gadgetsDir }), {
    message: `gadget g on local: ${gadgetsDir} does not exist: configfs is not mounted or libcomposite is not loaded; run \`modprobe libcomposite && mount -t configfs none /sys/kernel/config\` on the board as root`,
  });
});

test('a failing mkdir is explained: a missing function module is named, an existing gadget is said', async () => {
  // Real mkdir failures on a plain folder: configfs gives ENOENT for a function type no module registered.
  const exec = new LocalExec();
  const root = mkdtempSync(join(tmpdir(), 'cfg-'));
  const failed = (path: string) => exec.run(['mkdir', path], { nothrow: true });
  for (const [dir, module] of [['acm.0', 'usb_f_acm'], ['hid.1', 'usb_f_hid'], ['Loopback.0', 'usb_f_ss_lb'], ['SourceSink.0', 'usb_f_ss_lb'], ['ffs.ykush', 'usb_f_fs']]) {
    const path = `${root}/g/functions/${dir}`;
    assert.match(explainFailure({ op: 'mkdir', path }, await failed(path), root), new RegExp(`gadget function: load its module with \\\`modprobe ${module}\\\``));
  }
  mkdirSync(join(root, 'g'));
  assert.equal(explainFailure({ op: 'mkdir', path: `${root}/g` }, await failed(`${root}/g`), root),
    'a gadget named g already exists (a previous run did not remove it): remove it, or unbind and rmdir its folders');
  // The same failure outside functions/ is just the command's own words.
  assert.match(explainFailure({ op: 'mkdir', path: `${root}/x/strings/0x409` }, await failed(`${root}/x/strings/0x409`), root), /^mkdir: cannot create directory .*No such file or directory$/);
});

test('createGadget stops at the first failing op with the command and why', async () => {
  const gadgetsDir = mkdtempSync(join(tmpdir(), 'cfg-'));
  mkdirSync(join(gadgetsDir, 'g'));
  const plan = gadgetPlan(base({ functions: ['loopback'] }), 'g', gadgetsDir);
  await assert.rejects(createGadget(new LocalExec(), plan, { gadgetsDir }), {
    message: `gadget g on local: mkdir ${gadgetsDir}/g failed: a gadget named g already exists (a previous run did not remove it): remove it, or unbind and rmdir its folders`,
  });
});

test('the port driver has the HubDriver shape; port 2 does not exist', async () => {
  const driver: HubDriver = gadgetPortDriver(new LocalExec(), { id: 'pi', profile: base({ functions: ['loopback'] }), gadgetsDir: '/nonexistent' });
  await assert.rejects(driver.setPort(2, true), { message: 'hub pi (gadget d on local): no port 2 (a gadget emulator has one port, 1)' });
  assert.deepEqual(await driver.status(), [{ port: 1, powered: false, connected: false }]);
});

test('the emulate: section is checked like the rest of the profile: located lines, did-you-mean for function and key names', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'profile-')), 'bad.yaml');
  writeFileSync(file, [
    'name: bad',
    'usb: { vendorId: 0x1d6b, productId: 0x0104 }',
    'interfaces: []',
    'emulate:',
    '  functions:',
    '    - loopbak',
    '    - hid: { reportDescriptor: "05 01 zz", reportLength: 8 }',
    '    - ffs: { name: "a b" }',
    '  maxPowr: 100',
    '',
  ].join('\n'));
  assert.throws(() => loadDeviceProfile(file), (e: Error) => {
    assert.deepEqual(e.message.split('\n').map((l) => l.slice(l.indexOf('bad.yaml:'))), [
      'bad.yaml:6:7: emulate.functions[0]: expected loopback, sourcesink, acm or a map, got "loopbak"; did you mean \'loopback\'?',
      'bad.yaml:7:32: emulate.functions[1].hid.reportDescriptor: expected the HID report descriptor as hex bytes like "05 01 09 06 a1 01 … c0", got "05 01 zz"',
      'bad.yaml:8:20: emulate.functions[2].ffs.name: expected a FunctionFS instance name of letters, digits, _ and -, got "a b"',
      'bad.yaml:9:3: emulate: unknown key "maxPowr"; did you mean \'maxPower\'?',
    ]);
    return true;
  });
});

test('a controller the board lacks names where its name came from: the hub\'s udc in the rig file, else the profile', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cfg-'));
  const gadgetsDir = join(root, 'usb_gadget');
  const udcDir = join(root, 'udc');
  // The gadget exists already, unbound (an empty UDC file), so plugging goes straight to the bind.
  mkdirSync(join(gadgetsDir, 'd'), { recursive: true });
  writeFileSync(join(gadgetsDir, 'd', 'UDC'), '');
  mkdirSync(join(udcDir, 'fe980000.usb'), { recursive: true });
  const profile = base({ functions: ['loopback'], udc: 'dummy_udc.0' });
  const exec = new LocalExec();
  const fromHub = gadgetPortDriver(exec, { id: 'pi', profile, udc: '20980000.usb', gadgetsDir, udcDir });
  await assert.rejects(fromHub.setPort(1, true), {
    message: `no USB device controller 20980000.usb in ${udcDir} on local (it has: fe980000.usb); fix hub pi's udc in the rig file`,
  });
  await fromHub.close();
  const fromProfile = gadgetPortDriver(exec, { id: 'pi', profile, gadgetsDir, udcDir });
  await assert.rejects(fromProfile.setPort(1, true), /no USB device controller dummy_udc\.0 .*; fix the profile's emulate\.udc$/);
  await fromProfile.close();
});
