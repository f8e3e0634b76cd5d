// The real-USB lane: devices/echo.yaml presented as a configfs Loopback gadget on dummy_hcd in a
// QEMU guest, and node-usb (usb 3.x, in the guest) finding it, moving bytes through it, and hearing
// its UDC unbind and bind. One boot runs every check (test/usb/guest/loopback.ts); the tests judge
// its report. A second boot, without udevd, shows where node-usb gets no hotplug events at all.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadDeviceProfile } from '../../harness/scenario/device.ts';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';
import type { LoopbackJob, LoopbackReport } from './guest/loopback.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/loopback.ts';
const echo = loadDeviceProfile('devices/echo.yaml');
const job = (eventWaitMs: number): LoopbackJob => ({
  vendorId: echo.usb.vendorId,
  productId: echo.usb.productId,
  manufacturer: echo.usb.manufacturer ?? '',
  product: echo.usb.product ?? '',
  serial: echo.usb.serial ?? '',
  bytes: 4 << 20,
  eventWaitMs,
});
const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
const figures = (run: GuestResult, report: LoopbackReport): string =>
  `guest boot ${(run.bootMs / 1000).toFixed(1)}s, script ${(run.scriptMs / 1000).toFixed(1)}s; `
  + `bulk loopback ${report.loopback.bytes / 2 ** 20} MiB at ${(report.loopback.bytes / 2 ** 20 / (report.loopback.ms / 1000)).toFixed(1)} MB/s; `
  + `attach event ${report.attachEventMs?.toFixed(0)} ms after the UDC bind`;

describe('echo.yaml as a Loopback gadget, driven by node-usb in the guest (udevd running)', { skip }, () => {
  let run: GuestResult;
  let report: LoopbackReport;
  before(async () => {
    run = await runInGuest({ script: SCRIPT, args: [JSON.stringify(job(5000))], timeoutMs: 120_000, udev: true });
    report = guestReport<LoopbackReport>(run, SCRIPT);
  });

  test('enumerates on the guest\'s bus with the profile\'s VID/PID, strings and serial', (t) => {
    t.diagnostic(figures(run, report));
    assert.equal(report.udc, 'dummy_udc.0');
    assert.deepEqual(report.sysfs && { ...report.sysfs, port: undefined }, {
      port: undefined, idVendor: hex4(echo.usb.vendorId), idProduct: hex4(echo.usb.productId),
      manufacturer: echo.usb.manufacturer, product: echo.usb.product, serial: echo.usb.serial,
    });
  });

  test('node-usb finds it by VID/PID and by serial, with its strings, at high speed', () => {
    const expected = {
      vendorId: echo.usb.vendorId, productId: echo.usb.productId, manufacturer: echo.usb.manufacturer ?? null,
      product: echo.usb.product ?? null, serial: echo.usb.serial ?? null, speed: 'high',
    };
    assert.deepEqual(report.byIds, expected);
    assert.deepEqual(report.bySerial, expected);
  });

  test('bulk OUT then IN on the loopback endpoints: 4 MiB of PRBS31 come back byte for byte', () => {
    assert.equal(report.endpoints.in & 0x80, 0x80, `IN endpoint 0x${report.endpoints.in.toString(16)}`);
    assert.equal(report.endpoints.out & 0x80, 0, `OUT endpoint 0x${report.endpoints.out.toString(16)}`);
    assert.deepEqual({ ...report.loopback, ms: undefined }, { bytes: 4 << 20, errors: 0, firstErrorOffset: null, ms: undefined });
  });

  test('UDC unbind: a node-usb disconnect event, and the device is gone from node-usb and sysfs', () => {
    assert.notEqual(report.detach.eventMs, null, 'no disconnect event within 5s of the unbind');
    assert.equal(report.detach.foundAfter, false);
    assert.equal(report.detach.sysfsAfter, false);
  });

  test('UDC bind: a node-usb connect event each time, and the device moves bytes again', () => {
    assert.notEqual(report.attachEventMs, null, 'no connect event within 5s of the first bind');
    assert.notEqual(report.reattach.eventMs, null, 'no connect event within 5s of the second bind');
    assert.deepEqual({ ...report.reattach.loopback, ms: undefined }, { bytes: 256 * 1024, errors: 0, firstErrorOffset: null, ms: undefined });
  });
});

describe('the same gadget without udevd in the guest', { skip }, () => {
  test('node-usb gets no connect or disconnect event (it listens to udevd, not the kernel), and polling still finds it', async () => {
    const run = await runInGuest({ script: SCRIPT, args: [JSON.stringify({ ...job(1500), bytes: 64 * 1024 })], timeoutMs: 120_000, udev: false });
    const report = guestReport<LoopbackReport>(run, SCRIPT);
    assert.deepEqual([report.attachEventMs, report.detach.eventMs, report.reattach.eventMs], [null, null, null]);
    assert.equal(report.bySerial?.serial, echo.usb.serial);
    assert.equal(report.loopback.errors, 0);
    assert.equal(report.detach.foundAfter, false);
  });
});
