// The real-USB lane: a YKUSH-like HID device served through FunctionFS from TypeScript
// (harness/emulate/functionfs.ts serving test/usb/guest/ykush-device.ts) on dummy_hcd in a QEMU
// guest, checked first against its own protocol through node-usb, then driven by the YKUSH hub
// driver (harness/power/ykush.ts) as a rig calls it, while the device writes down what it saw.
// One boot (test/usb/guest/ykush.ts does the work and reports; these tests judge it).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { DeviceProfile } from '../../harness/rig/types.ts';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';
import type { DriverStep, YkushJob, YkushReport } from './guest/ykush.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/ykush.ts';
const profile: DeviceProfile = {
  file: 'ykush.yaml', name: 'ykush', interfaces: [],
  usb: { vendorId: 0x04d8, productId: 0xf2f7, manufacturer: 'Yepkit Lda.', product: 'YKUSH', serial: 'YK12345' },
  emulate: { functions: [{ ffs: { name: 'ykush' } }] },
};
/** The report descriptor the device declares: vendor page, 64 bytes in, 64 bytes out. */
const REPORT_DESCRIPTOR = '06 00 ff 09 01 a1 01 15 00 26 ff 00 75 08 95 40 09 01 81 02 95 40 09 01 91 02 c0';
const ports = (step: DriverStep): boolean[] | undefined => step.status?.map((s) => s.powered);

describe('a YKUSH served through FunctionFS on dummy_udc.0, driven by the YKUSH driver (udevd running)', { skip }, () => {
  let run: GuestResult;
  let report: YkushReport;
  before(async () => {
    run = await runInGuest({ script: SCRIPT, args: [JSON.stringify({ profile } satisfies YkushJob)], timeoutMs: 120_000, udev: true });
    report = guestReport<YkushReport>(run, SCRIPT);
  });

  test('FunctionFS: the mount shows ep0 alone; once the server wrote descriptors and strings, ep1 and ep2 appear', (t) => {
    const steps = report.driver.steps.map((s) => `${s.what} ${s.ms} ms`).join(', ');
    t.diagnostic(`guest boot ${(run.bootMs / 1000).toFixed(1)} s, script ${(run.scriptMs / 1000).toFixed(1)} s; server ready ${report.serverReadyMs} ms after its start; `
      + `attach ${report.attach.ms} ms after the UDC bind (${report.attach.via}); driver: ${steps}; unplugged error after ${report.driver.unplugged.ms} ms; device stopped in ${report.stop.ms} ms`);
    assert.equal(report.udc, 'dummy_udc.0');
    assert.deepEqual(report.files, { mounted: ['ep0'], served: ['ep0', 'ep1', 'ep2'] });
  });

  test('FunctionFS refusals are one line each: no such function, not root, mounted elsewhere, threadpool too small, bound before served, a second server', () => {
    const e = report.errors;
    assert.equal(e.mountMissing, 'FunctionFS nosuch on local: mount -t functionfs nosuch /dev/ffs/nosuch failed: mount: /dev/ffs/nosuch: special device nosuch does not exist: '
      + 'no FunctionFS function named nosuch; create functions/ffs.nosuch in a configfs gadget first (a profile\'s emulate.functions: [{ ffs: { name: nosuch } }])');
    assert.equal(e.mountNotRoot, 'FunctionFS ykush on local as nobody: mount -t functionfs ykush /dev/ffs-nobody failed: mount: /dev/ffs-nobody: must be superuser to use mount: '
      + 'mounting FunctionFS needs root on the board (run as root, or through sudo)');
    assert.equal(e.mountedTwice, 'FunctionFS ykush on local: already mounted on /dev/ffs/ykush (an instance mounts once): use that folder, or unmount it first');
    assert.equal(e.threadpool, 'serving /dev/ffs/ykush needs 5 libuv threads (ep0 and 2 endpoint files may each park one), this process has 4: start it with UV_THREADPOOL_SIZE=5 in its environment');
    assert.match(e.bindBeforeServer, /^gadget ykush on local: binding to dummy_udc\.0 failed: .*I\/O error: the kernel refused dummy_udc\.0; a FunctionFS function binds only after its server has written its descriptors to ep0/);
    assert.equal(e.secondServer, '/dev/ffs/ykush/ep0 refused the descriptors (ESRCH): another server already serves /dev/ffs/ykush; stop it, or unmount and mount again');
    for (const line of Object.values(e)) assert.doesNotMatch(line, /\n/);
  });

  test('enumerates with the YKUSH\'s VID/PID/serial and strings: one HID interface, interrupt IN and OUT of 64 bytes, which usbhid leaves alone', () => {
    assert.equal(report.usbhidLoaded, true, 'usbhid did not load in the guest');
    // Linux's HID core ignores 04d8:f2f7 (hid_ignore_list: USB_DEVICE_ID_PICK16F1454_V2): no kernel driver takes it.
    assert.deepEqual(report.sysfs, {
      idVendor: '04d8', idProduct: 'f2f7', serial: 'YK12345', manufacturer: 'Yepkit Lda.', product: 'YKUSH',
      interfaceClass: '03', interfaceDriver: null, endpoints: ['ep_02 Interrupt 0040', 'ep_81 Interrupt 0040'],
    });
  });

  test('control requests answered from TypeScript: GET_DESCRIPTOR (report, HID), SET_IDLE acked, an unknown request stalled', () => {
    assert.equal(report.direct.reportDescriptor, REPORT_DESCRIPTOR);
    assert.equal(report.direct.hidDescriptor, '09 21 11 01 00 01 22 1b 00');
    assert.equal(report.direct.setIdle, 'ok');
    assert.match(report.direct.unknownRequest, /stall/i);
    const setups = report.state.flatMap((l) => ('setup' in l ? [`${l.setup} → ${l.answer}`] : []));
    assert.deepEqual(setups.slice(0, 4), ['0x81 0x06 2200 len 256 → data', '0x81 0x06 2100 len 9 → data', '0x21 0x0a 0000 len 0 → ack', '0xc1 0x42 0000 len 8 → stall']);
  });

  test('the device\'s protocol on the interrupt endpoints, as node-usb sees it (and a command by SET_REPORT on ep0)', () => {
    assert.deepEqual(report.direct.replies, [
      ['f1', '01 03 00 00'], // 3 ports
      ['f0', '01 02 00 00'], // firmware 2.0
      ['2a', '01 11 12 13'], // all up
      ['22', '01 12 00 00'], // port 2 up
      ['02', '01 02 00 00'], // port 2 down: OK
      ['22', '01 02 00 00'], // port 2 now down
      ['2a', '01 11 02 13'],
      ['12', '01 12 00 00'], // port 2 up again
      ['77', '00 00 00 00'], // unknown command
    ]);
    assert.equal(report.direct.setReport, '01 03 00 00');
  });

  test('the YKUSH driver: port 2 off, port 2 on, cycle port 1; status() agrees with the device\'s own state after each', () => {
    const [first, off, on, cycle] = report.driver.steps as [DriverStep, DriverStep, DriverStep, DriverStep];
    for (const step of report.driver.steps) {
      assert.equal(step.error, null, `${step.what}: ${step.error}`);
      assert.deepEqual(ports(step), step.device, `${step.what}: the driver's status and the device's state differ`);
    }
    assert.deepEqual(first.device, [true, true, true]);
    assert.deepEqual([off.device, off.changes], [[true, false, true], [{ port: 2, powered: false }]]);
    assert.deepEqual([on.device, on.changes], [[true, true, true], [{ port: 2, powered: true }]]);
    assert.deepEqual([cycle.device, cycle.changes], [[true, true, true], [{ port: 1, powered: false }, { port: 1, powered: true }]]);
    assert.ok(cycle.ms >= 300, `the cycle took ${cycle.ms} ms, less than its 300 ms off`);
  });

  test('a port out of range is the driver\'s one-line error, and nothing reaches the device', () => {
    assert.deepEqual(report.driver.outOfRange, { error: 'hub yk (ykush): no port 4 (ports 1-3)', deviceLines: 0 });
  });

  test('unplugged (UDC unbind): the driver says no YKUSH is attached, at once; the device saw the unbind; after a rebind the driver works again', () => {
    const { unplugged, replugged } = report.driver;
    assert.match(unplugged.error, /^hub yk \(ykush\): no YKUSH is attached to this machine \(vendor 0x04d8, .*\)/);
    assert.doesNotMatch(unplugged.error, /\n/);
    assert.ok(unplugged.ms < 2000, `the driver took ${unplugged.ms} ms to say so`);
    assert.equal(replugged.error, null, replugged.error ?? '');
    assert.deepEqual([replugged.device, ports(replugged), replugged.changes], [[true, true, false], [true, true, false], [{ port: 3, powered: false }]]);
    // What the device read from ep0: an unbind shows as SUSPEND then UNBIND, never DISABLE (FunctionFS
    // drops a queued DISABLE when UNBIND follows it), so the server treats UNBIND as a disable too.
    const events = report.state.flatMap((l) => ('event' in l ? [l.event] : []));
    assert.deepEqual(events.filter((e) => e === 'bind' || e === 'enable' || e === 'unbind'), ['bind', 'enable', 'unbind', 'bind', 'enable', 'unbind']);
  });

  test('stopping: close() returns at once with only ep0 parked in the kernel, the process ends by its own SIGTERM, the mount and gadget go', () => {
    assert.deepEqual(report.stop, { ...report.stop, exitCode: null, signal: 'SIGTERM', closed: { parked: ['ep0'] }, umount: '(no error)', gadgetRemoved: true });
    assert.ok(report.stop.ms < 2000, `the device took ${report.stop.ms} ms to end`);
    assert.equal(report.deviceStderr, '');
  });
});
