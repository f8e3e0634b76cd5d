// harness/emulate on a real Linux USB stack: in a QEMU guest (dummy_hcd), devices/echo.yaml's
// emulate: section becomes a configfs Loopback gadget that gadgetPortDriver plugs and unplugs like a
// hub port, and an ACM gadget gives the gadget side /dev/ttyGS0 and the host side /dev/ttyACM0.
// One boot (test/usb/guest/emulate-gadget.ts does the work and reports; these tests judge it).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { DeviceProfile } from '../../harness/rig/types.ts';
import { loadDeviceProfile } from '../../harness/scenario/device.ts';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';
import type { EmulateReport } from './guest/emulate-gadget.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/emulate-gadget.ts';
const echo = loadDeviceProfile('devices/echo.yaml');
const KEYBOARD = '05 01 09 06 a1 01 05 07 19 e0 29 e7 15 00 25 01 75 01 95 08 81 02 95 01 75 08 81 01 95 05 75 01 05 08 19 01 29 05 91 02 '
  + '95 01 75 03 91 01 95 06 75 08 15 00 25 65 05 07 19 00 29 65 81 00 c0';
const acm: DeviceProfile = {
  file: 'acm.yaml', name: 'acm', interfaces: [],
  usb: { vendorId: 0x1d6b, productId: 0x0105, manufacturer: 'dextbench', product: 'Serial', serial: 'ACM0001' },
  // A boot keyboard's report descriptor (HID 1.11 appendix B.1), with a 00 and a 25 (%) byte among its bytes.
  emulate: { functions: ['acm', { hid: { reportDescriptor: KEYBOARD, protocol: 1, subclass: 1, reportLength: 8 } }] },
};
const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
const ECHO_SEEN = { idVendor: hex4(echo.usb.vendorId), idProduct: hex4(echo.usb.productId), serial: echo.usb.serial };

describe('harness/emulate in the guest: configfs gadgets on dummy_udc.0 through a LocalExec', { skip }, () => {
  let run: GuestResult;
  let report: EmulateReport;
  before(async () => {
    run = await runInGuest({ script: SCRIPT, args: [JSON.stringify(echo), JSON.stringify(acm)], timeoutMs: 120_000 });
    report = guestReport<EmulateReport>(run, SCRIPT);
  });

  test('echo.yaml has an emulate: section the guest can play', () => {
    assert.deepEqual(echo.emulate, { functions: ['loopback'] });
  });

  test('plug (port 1 on): the gadget is built and bound, UDC reads dummy_udc.0 back, and it enumerates with the profile\'s VID/PID/serial', (t) => {
    t.diagnostic(`guest boot ${(run.bootMs / 1000).toFixed(1)} s, script ${(run.scriptMs / 1000).toFixed(1)} s`);
    assert.deepEqual(report.udcs, ['dummy_udc.0']);
    const { plugged } = report.echo;
    assert.deepEqual(plugged.status, [{ port: 1, powered: true, connected: true, device: 'echo on dummy_udc.0' }]);
    assert.equal(plugged.udcFile, 'dummy_udc.0');
    assert.deepEqual(plugged.sysfs && { ...plugged.sysfs, port: undefined }, { ...ECHO_SEEN, port: undefined });
  });

  test('unplug (port 1 off): UDC empty, status off, the device gone from the bus', () => {
    const { unplugged } = report.echo;
    assert.deepEqual(unplugged.status, [{ port: 1, powered: false, connected: false }]);
    assert.equal(unplugged.udcFile, '');
    assert.equal(unplugged.sysfs, null);
  });

  test('plug again: it enumerates again', () => {
    const { replugged } = report.echo;
    assert.deepEqual(replugged.status, [{ port: 1, powered: true, connected: true, device: 'echo on dummy_udc.0' }]);
    assert.deepEqual(replugged.sysfs && { ...replugged.sysfs, port: undefined }, { ...ECHO_SEEN, port: undefined });
  });

  test('close: the driver removes the gadget it built (folder gone, device gone)', () => {
    assert.deepEqual(report.echo.closed, { gadgetDir: false, sysfs: null });
  });

  test('real configfs refusals are one line: a second gadget of the same name, an unknown UDC, port 2', () => {
    assert.equal(report.errors.createTwice,
      'gadget echo on local: mkdir /sys/kernel/config/usb_gadget/echo failed: a gadget named echo already exists (a previous run did not remove it): remove it, or unbind and rmdir its folders');
    assert.equal(report.errors.bindWrongUdc, 'no USB device controller nope.0 in /sys/class/udc on local (it has: dummy_udc.0); fix the profile\'s emulate.udc');
    assert.equal(report.errors.port2, 'hub pi (gadget echo on local): no port 2 (a gadget emulator has one port, 1)');
  });

  test('a create that fails half-way (configfs: no module provides "nosuch") removes what it had built', () => {
    // ENOENT is how configfs refuses a function type no loaded module registers (what explainFailure names the module from).
    assert.match(report.rollback.error, /^gadget half on local: mkdir \/sys\/kernel\/config\/usb_gadget\/half\/functions\/nosuch\.0 failed: mkdir: cannot create directory .+: No such file or directory$/);
    assert.equal(report.rollback.gadgetDir, false);
  });

  test('an ACM + HID gadget: /dev/ttyGS0 on the gadget side, /dev/ttyACM0 on the host side, IAD device class; both ttys gone once removed', () => {
    assert.equal(report.acm.gadgetTty, true, '/dev/ttyGS0 missing');
    assert.deepEqual(report.acm.hostTtys, ['ttyACM0']);
    assert.deepEqual(report.acm.hostDevice && { ...report.acm.hostDevice, port: undefined }, { idVendor: '1d6b', idProduct: '0105', serial: 'ACM0001', port: undefined });
    assert.equal(report.acm.hostDeviceClass, 'ef');
    assert.deepEqual(report.acm.afterRemove, { gadgetDir: false, gadgetTty: false, hostTtys: [] });
  });

  test('the HID function holds the report descriptor byte for byte, and the gadget side has /dev/hidg0', () => {
    assert.equal(report.acm.reportDesc, KEYBOARD.replace(/ /g, ''));
    assert.equal(report.acm.hidg, true, '/dev/hidg0 missing');
  });
});
