// harness/usb's error classification, on the messages node-usb 3.1.0 gave on a real Linux USB stack
// (test/usb/guest/harness-usb.ts sees them live), and the hotplug-or-polling decision.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyUsbError, hotplugSupport, UsbAccessDenied, UsbDeviceGone, UsbStall, UsbTimeout, UsbTransferFailed, UsbUnavailable,
} from '../../harness/usb/index.ts';

/** node-usb rejects with a plain Error carrying only a message (code GenericFailure). */
const napi = (message: string) => Object.assign(new Error(message), { code: 'GenericFailure' });
const ctx = { operation: 'bulk IN 0x81 (65536 bytes)', device: '1d6b:0104 serial ECHO0001 at 1-1', timeoutMs: 300, vendorId: 0x1d6b, productId: 0x0104 };

test('a device that left: the transfer, control and open messages are all UsbDeviceGone', () => {
  for (const message of ['transferOut error: Disconnected', 'controlTransferIn error: device disconnected', 'open error: device not found (errno 2)']) {
    const error = classifyUsbError(napi(message), ctx);
    assert.ok(error instanceof UsbDeviceGone, `${message} → ${error.name}`);
    assert.equal(error.message, `1d6b:0104 serial ECHO0001 at 1-1: device gone during bulk IN 0x81 (65536 bytes) (unplugged, unbound or reset: ${message})`);
  }
});

test('a fault is not called a departure by its message alone (the handle asks the device first)', () => {
  const error = classifyUsbError(napi('transferIn error: Fault'), ctx);
  assert.ok(error instanceof UsbTransferFailed);
  assert.equal(error.kind, 'fault');
});

test('stall, timeout (nusb cancels the transfer), access denied with the udev fix line, busy', () => {
  const stall = classifyUsbError(napi('controlTransferIn error: endpoint stalled'), { ...ctx, operation: 'control IN request 0x77' });
  assert.ok(stall instanceof UsbStall);
  assert.match(stall.message, /control IN request 0x77 stalled/);
  assert.ok(classifyUsbError(napi('transferIn error: Stall'), ctx) instanceof UsbStall);

  const timeout = classifyUsbError(napi('transferIn error: Cancelled'), ctx);
  assert.ok(timeout instanceof UsbTimeout);
  assert.equal(timeout.message, '1d6b:0104 serial ECHO0001 at 1-1: bulk IN 0x81 (65536 bytes) timed out after 300ms; the transfer was cancelled (transferIn error: Cancelled)');

  const denied = classifyUsbError(napi('open error: permission denied (errno 13)'), { ...ctx, operation: 'open', platform: 'linux' });
  assert.ok(denied instanceof UsbAccessDenied);
  assert.match(denied.message, /open: access denied \(open error: permission denied \(errno 13\)\); fix: .*SUBSYSTEM=="usb", ATTR\{idVendor\}=="1d6b", ATTR\{idProduct\}=="0104", MODE="0660", GROUP="plugdev"/);
  const onMac = classifyUsbError(napi('claimInterface error: exclusive access'), { ...ctx, operation: 'claim interface 0', platform: 'darwin' });
  assert.ok(onMac instanceof UsbAccessDenied);
  assert.match(onMac.message, /another driver \(a dext or kext/);

  const busy = classifyUsbError(napi('claimInterface error: Device or resource busy (os error 16)'), { ...ctx, operation: 'claim interface 0', platform: 'linux' });
  assert.ok(busy instanceof UsbAccessDenied);
  assert.match(busy.message, /the interface is busy, another driver or program has claimed it .*fix: unbind the kernel driver/);
});

test('no USB subsystem, or no native binding: "no USB on this host", one line', () => {
  const noSysfs = classifyUsbError(napi('getDevices error: /sys/bus/usb/devices/ not found (errno 2)'), { operation: 'listing USB devices' });
  assert.ok(noSysfs instanceof UsbUnavailable);
  assert.equal(noSysfs.message, 'no USB on this host (getDevices error: /sys/bus/usb/devices/ not found (errno 2))');
  const binding = classifyUsbError(new Error('Cannot find native binding. npm has a bug related to optional dependencies\nmore lines'), { operation: 'load' });
  assert.ok(binding instanceof UsbUnavailable);
  assert.ok(!binding.message.includes('\n'));
});

test('anything else is UsbTransferFailed with the native word, and classified errors pass through', () => {
  const other = classifyUsbError(napi('transferIn error: endpoint not found'), ctx);
  assert.ok(other instanceof UsbTransferFailed);
  assert.equal(other.message, '1d6b:0104 serial ECHO0001 at 1-1: bulk IN 0x81 (65536 bytes) failed (transferIn error: endpoint not found)');
  const babble = classifyUsbError(napi('transferIn error: Babble'), ctx) as UsbTransferFailed;
  assert.equal(babble.kind, 'babble');
  const already = new UsbStall('x');
  assert.equal(classifyUsbError(already, ctx), already);
});

test('hotplug: events on macOS and Windows, on Linux only with udevd running (nusb listens to its netlink group)', () => {
  assert.deepEqual(hotplugSupport('darwin', () => false), { via: 'events' });
  assert.deepEqual(hotplugSupport('win32', () => false), { via: 'events' });
  assert.deepEqual(hotplugSupport('linux', () => true), { via: 'events' });
  const linux = hotplugSupport('linux', () => false);
  assert.equal(linux.via, 'polling');
  assert.match((linux as { why: string }).why, /no udevd on this host \(\/run\/udev\/control is missing\)/);
  assert.equal(hotplugSupport('freebsd', () => true).via, 'polling');
});
