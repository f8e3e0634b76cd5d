// harness/usb and the usb.* steps on a real Linux USB stack: devices/echo.yaml played by a configfs
// Loopback gadget on dummy_hcd in a QEMU guest (test/usb/guest/harness-usb.ts does the work and
// reports; these tests judge the report). One boot with udevd, where node-usb hears hotplug
// events, and one without, where harness/usb must poll and say so.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadDeviceProfile } from '../../harness/scenario/device.ts';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';
import type { HarnessUsbJob, HarnessUsbReport } from './guest/harness-usb.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/harness-usb.ts';
const MiB = 1024 * 1024;
const echo = loadDeviceProfile('devices/echo.yaml');
const job: HarnessUsbJob = { bytes: 64 * MiB, stepBytes: 8 * MiB, unplugBytes: 1024 * MiB, unplugAfterMs: 1000 };
const DEVICE = `1d6b:0104 serial ${echo.usb.serial} at 1-1`;

async function boot(udev: boolean): Promise<{ run: GuestResult; report: HarnessUsbReport }> {
  const run = await runInGuest({ script: SCRIPT, args: [JSON.stringify({ ...job, fakeUdevControl: !udev })], timeoutMs: 180_000, udev });
  return { run, report: guestReport<HarnessUsbReport>(run, SCRIPT) };
}

describe('harness/usb in the guest, udevd running (hotplug events)', { skip }, () => {
  let run: GuestResult;
  let report: HarnessUsbReport;
  before(async () => { ({ run, report } = await boot(true)); });

  test('waitForDevice sees the UDC bind by a hotplug event, and findDevice finds it by VID/PID/serial and by location', (t) => {
    t.diagnostic(`guest boot ${(run.bootMs / 1000).toFixed(1)} s, script ${(run.scriptMs / 1000).toFixed(1)} s; attach seen ${report.attach.ms} ms after the wait began (bind at 300 ms), via ${report.attach.via}`);
    assert.equal(report.udevRunning, true);
    assert.equal(report.attach.via, 'events');
    assert.equal(report.attach.why, undefined);
    assert.ok(report.attach.ms >= 300, `present after ${report.attach.ms} ms, before the bind`);
    assert.equal(report.attach.device?.serial, echo.usb.serial);
    assert.deepEqual(report.found, { location: '1-1', serial: echo.usb.serial, address: report.attach.device!.address, speed: 'high' });
    assert.equal(report.byLocation, 1);
    assert.equal(report.elsewhere, 0);
    assert.deepEqual(report.wrongSerial, {
      class: 'UsbNotFound',
      message: `no USB device 1d6b:0104 serial NOT-THIS-ONE; with 1d6b:0104 there are: ${DEVICE}`,
    });
  });

  test('control transfers: a GET_DESCRIPTOR answers with the device descriptor, an unknown vendor request is UsbStall', () => {
    // bLength 18, DEVICE, bcdUSB 2.00, …, idVendor 0x1d6b and idProduct 0x0104 little-endian.
    assert.match(report.control.deviceDescriptor, /^12010002000000406b1d0401/);
    assert.equal(report.control.stall?.class, 'UsbStall');
    assert.equal(report.control.stall?.message, `${DEVICE}: control IN request 0x77 stalled: the device refused the request or the endpoint is halted (controlTransferIn error: endpoint stalled)`);
  });

  test('a bulk IN with nothing to read times out at its own timeout, is cancelled, and the endpoint works afterwards', () => {
    assert.equal(report.timeout.failure?.class, 'UsbTimeout');
    assert.equal(report.timeout.failure?.message, `${DEVICE}: bulk IN 0x81 (4096 bytes) timed out after 300ms; the transfer was cancelled (transferIn error: Cancelled)`);
    assert.ok(report.timeout.ms >= 290 && report.timeout.ms < 2300, `${report.timeout.ms} ms`);
    assert.deepEqual([report.timeout.loopbackAfter.bytes, report.timeout.loopbackAfter.errors], [MiB, 0]);
  });

  test('two transfers on one endpoint at once are queued (node-usb takes one), each with its own timeout', () => {
    assert.deepEqual(report.concurrentIn.failures.map((f) => f?.class), ['UsbTimeout', 'UsbTimeout']);
    assert.ok(report.concurrentIn.ms >= 590, `both done after ${Math.round(report.concurrentIn.ms)} ms: not one after the other`);
  });

  test('64 MiB of PRBS31 through the loopback, every byte verified, zero errors', (t) => {
    const l = report.loopback;
    t.diagnostic(`harness/usb loopback: 64 MiB PRBS31 at ${l.MBps.toFixed(1)} MB/s, 1 MiB chunks, latency p50 ${(l.latencyP50Us / 1000).toFixed(1)} ms p99 ${(l.latencyP99Us / 1000).toFixed(1)} ms`);
    assert.deepEqual([l.bytes, l.errors, l.firstErrorOffset], [64 * MiB, 0, null]);
    assert.ok(l.MBps > 0 && l.latencyP50Us > 0 && l.latencyP99Us >= l.latencyP50Us);
  });

  test('the usb.expect and usb.io steps on a local rig: present by event, 8 MiB PRBS15 with zero errors, the io step\'s measurements', (t) => {
    assert.deepEqual(report.steps.present, { state: 'present', via: 'events', why: null, ms: (report.steps.present as { ms: number }).ms, location: '1-1', serial: echo.usb.serial });
    const io = report.steps.io as { bytes: number; errors: number; MBps: number };
    t.diagnostic(`usb.io: 8 MiB PRBS15 in 256 KiB chunks at ${io.MBps.toFixed(1)} MB/s`);
    assert.deepEqual([io.bytes, io.errors], [8 * MiB, 0]);
    assert.deepEqual(report.steps.measurements.map((m) => [m.name, m.unit]), [['usb_io.MBps', 'MB/s'], ['usb_io.latency_p50', 'us'], ['usb_io.latency_p99', 'us']]);
    assert.equal(report.steps.measurements[0]!.min, 0.1);
    assert.equal(report.steps.measurements[0]!.value, Number(io.MBps.toFixed(2)));
    assert.deepEqual(report.steps.events.map((e) => [e.type, e['via'] ?? e['bytes']]), [['usb', 'events'], ['usb-io', 8 * MiB]]);
    assert.deepEqual(report.steps.absent, { state: 'absent', via: 'events', why: null, ms: (report.steps.absent as { ms: number }).ms, location: null, serial: null });
  });

  test('unbound in the middle of traffic: the run ends UsbDeviceGone within moments, the handle refuses more, the detach comes by event', () => {
    const u = report.unplug;
    assert.equal(u.failure?.class, 'LoopbackAborted');
    assert.equal(u.cause?.class, 'UsbDeviceGone');
    assert.match(u.cause!.message, new RegExp(`^${DEVICE}: device gone during bulk (IN 0x81|OUT 0x02) \\(1048576 bytes\\)`));
    assert.ok(u.partialBytes! > 0 && u.partialBytes! < job.unplugBytes, `${u.partialBytes} bytes before the unbind`);
    assert.match(u.failure!.message, new RegExp(`; after ${u.partialBytes} of ${job.unplugBytes} bytes looped back \\(0 mismatched\\)$`));
    assert.ok(u.settledMs < 3000, `the traffic ended ${Math.round(u.settledMs)} ms after the unbind`);
    assert.equal(u.afterwards?.class, 'UsbDeviceGone');
    assert.match(u.afterwards!.message, /bulk OUT 0x02 \(4096 bytes\) refused, the device is gone/);
    assert.equal(u.detach.via, 'events');
    assert.equal(u.detach.device, null);
  });

  test('bound again: present by event, a new enumeration (new address)', () => {
    assert.equal(report.reattach.wait.via, 'events');
    assert.ok(report.reattach.wait.ms >= 300);
    assert.notEqual(report.reattach.address, report.found.address);
  });

  test('interrupt IN on a HID gadget: nothing sent is UsbTimeout at its timeout; a report the gadget sends arrives whole', () => {
    const i = report.interrupt;
    assert.equal(i.endpoint & 0x80, 0x80);
    assert.equal(i.idle?.class, 'UsbTimeout');
    assert.equal(i.idle?.message, `1d6b:0106 serial HID0001 at 1-1: interrupt IN ${`0x${i.endpoint.toString(16)}`} (64 bytes) timed out after 300ms; the transfer was cancelled (transferIn error: Cancelled)`);
    assert.equal(i.received, i.sent);
    assert.equal(i.sent.length, 128);
  });

  test('a user without access to the usbfs node: UsbAccessDenied with the udev rule that fixes it', () => {
    assert.deepEqual(report.accessDenied, {
      class: 'UsbAccessDenied',
      message: `${DEVICE}: open: access denied (open error: permission denied (errno 13)); fix: let your user open it with a udev rule, e.g. /etc/udev/rules.d/50-dextbench.rules: SUBSYSTEM=="usb", ATTR{idVendor}=="1d6b", ATTR{idProduct}=="0104", MODE="0660", GROUP="plugdev" — then \`udevadm control --reload && udevadm trigger\`, add your user to plugdev, and replug`,
    });
  });
});

describe('harness/usb in the guest without udevd (no hotplug events: polling, and said so)', { skip }, () => {
  let report: HarnessUsbReport;
  before(async () => { ({ report } = await boot(false)); });

  test('every wait polls and says why; the traffic and the unplug behave as with events', (t) => {
    t.diagnostic(`without udevd: attach seen after ${report.attach.ms} ms, detach after ${report.unplug.detach.ms} ms (polling every 100 ms); loopback ${report.loopback.MBps.toFixed(1)} MB/s`);
    assert.equal(report.udevRunning, false);
    const why = 'no udevd on this host (/run/udev/control is missing): node-usb hears hotplug only from udevd';
    for (const wait of [report.attach, report.unplug.detach, report.reattach.wait]) assert.deepEqual([wait.via, wait.why], ['polling', why]);
    assert.ok(report.attach.ms >= 300);
    assert.equal((report.steps.present as { via: string }).via, 'polling');
    assert.deepEqual([report.loopback.bytes, report.loopback.errors], [64 * MiB, 0]);
    assert.equal(report.unplug.cause?.class, 'UsbDeviceGone');
  });

  test('where events are expected but none come, the wait ends at its deadline and says the events are missing', () => {
    assert.deepEqual(report.withoutEvents, {
      class: 'UsbTimeout',
      message: '1d6b:0104 serial ECHO0001 is absent now, but no USB hotplug event said so within 3s: this host does not deliver node-usb\'s events (on Linux they come from udevd)',
    });
  });
});
