// The YKUSH protocol as bytes (driverkit-rigs-es-ne.md §C.3, pykush 0.3.6): the 64-byte command
// report of each operation, what each reply means (status, port states, firmware, port count,
// short replies), which attached board a rig means, and the line a refused claim gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkYkushSetReply, describeYkushCommand, parseYkushFirmware, parseYkushPortCount, parseYkushPortState, parseYkushPortStates,
  pickYkush, ykushClaimFailure, ykushCommandReport, YkushReplyError, YKUSH_BOOTLOADER_PRODUCT_IDS, YKUSH_PRODUCT_IDS, YKUSH_VENDOR_ID,
  type YkushCommand,
} from '../../../harness/power/index.ts';
import type { UsbDeviceInfo } from '../../../harness/usb/index.ts';

/** A 64-byte reply starting with `bytes`. */
function reply(...bytes: number[]): Uint8Array {
  const report = new Uint8Array(64);
  report.set(bytes);
  return report;
}

test('ids: vendor 0x04d8; normal-mode products YKUSH beta, YKUSH, YKUSH3, YKUSHXS; bootloader 0xf11c and 0xffff', () => {
  assert.equal(YKUSH_VENDOR_ID, 0x04d8);
  assert.deepEqual(YKUSH_PRODUCT_IDS, [0x0042, 0xf2f7, 0xf11b, 0xf0cd]);
  assert.deepEqual(YKUSH_BOOTLOADER_PRODUCT_IDS, [0xf11c, 0xffff]);
});

test('each operation is one 64-byte report: its command byte, then zeros', () => {
  const cases: [YkushCommand, number, string][] = [
    [{ kind: 'port', port: 1, up: false }, 0x01, 'port 1 down (0x01)'],
    [{ kind: 'port', port: 3, up: false }, 0x03, 'port 3 down (0x03)'],
    [{ kind: 'port', port: 1, up: true }, 0x11, 'port 1 up (0x11)'],
    [{ kind: 'port', port: 2, up: true }, 0x12, 'port 2 up (0x12)'],
    [{ kind: 'port', port: 3, up: true }, 0x13, 'port 3 up (0x13)'],
    [{ kind: 'all', up: false }, 0x0a, 'all ports down (0x0a)'],
    [{ kind: 'all', up: true }, 0x1a, 'all ports up (0x1a)'],
    [{ kind: 'state', port: 1 }, 0x21, 'get port 1 state (0x21)'],
    [{ kind: 'state', port: 3 }, 0x23, 'get port 3 state (0x23)'],
    [{ kind: 'states' }, 0x2a, 'get all port states (0x2a)'],
    [{ kind: 'firmware' }, 0xf0, 'get firmware version (0xf0)'],
    [{ kind: 'portCount' }, 0xf1, 'get downstream port count (0xf1)'],
  ];
  for (const [command, byte, described] of cases) {
    const report = ykushCommandReport(command);
    assert.equal(report.length, 64, described);
    assert.deepEqual([...report], [byte, ...new Array(63).fill(0)], described);
    assert.equal(describeYkushCommand(command), described);
  }
});

test('a port outside 1-3 has no command byte (0x0a would be "all")', () => {
  for (const port of [0, 4, 10, 1.5]) {
    assert.throws(() => ykushCommandReport({ kind: 'port', port, up: true }), { name: 'RangeError', message: `a YKUSH command addresses ports 1-3, got ${port}` });
    assert.throws(() => ykushCommandReport({ kind: 'state', port }), RangeError);
  }
});

test('set replies: status 1 is OK; any other status, or a short reply, is a YkushReplyError naming what came', () => {
  checkYkushSetReply(reply(1));
  assert.throws(() => checkYkushSetReply(reply(0, 0x12)), { name: 'YkushReplyError', message: 'status 0x00, not OK (0x01): 00 12 00 00 …' });
  assert.throws(() => checkYkushSetReply(reply(0xff)), { message: 'status 0xff, not OK (0x01): ff 00 00 00 …' });
  assert.throws(() => checkYkushSetReply(new Uint8Array([1, 0x11, 0])),
    { name: 'YkushReplyError', message: 'a short reply of 3 bytes (expected 64, the first 20 significant): 01 11 00' });
  assert.throws(() => checkYkushSetReply(new Uint8Array(0)), { message: 'a short reply of 0 bytes (expected 64, the first 20 significant)' });
  // 20 bytes carry everything that matters.
  checkYkushSetReply(reply(1).subarray(0, 20));
  assert.throws(() => checkYkushSetReply(reply(1).subarray(0, 19)), YkushReplyError);
});

test('port state: byte 1 above 0x10 is up; a refused or short reply is an error, never "down"', () => {
  assert.equal(parseYkushPortState(reply(1, 0x11)), true);
  assert.equal(parseYkushPortState(reply(1, 0xff)), true);
  assert.equal(parseYkushPortState(reply(1, 0x10)), false);
  assert.equal(parseYkushPortState(reply(1, 0x01)), false);
  assert.equal(parseYkushPortState(reply(1, 0x00)), false);
  assert.throws(() => parseYkushPortState(reply(0, 0x11)), /status 0x00, not OK/);
  assert.throws(() => parseYkushPortState(new Uint8Array([1, 0x11])), /a short reply of 2 bytes/);
});

test('all port states (firmware 2): bytes 1..ports, as many as the board has', () => {
  assert.deepEqual(parseYkushPortStates(reply(1, 0x11, 0x02, 0x13), 3), [true, false, true]);
  assert.deepEqual(parseYkushPortStates(reply(1, 0x01, 0x12, 0x13), 2), [false, true]);
  assert.deepEqual(parseYkushPortStates(reply(1, 0x11), 1), [true]);
  assert.throws(() => parseYkushPortStates(reply(2, 0x11, 0x11, 0x11), 3), /status 0x02, not OK/);
  assert.throws(() => parseYkushPortStates(new Uint8Array(8).fill(1), 3), /a short reply of 8 bytes/);
});

test('firmware version: [1, major, minor]; a refusal, a short reply or none is a 1.x firmware', () => {
  assert.deepEqual(parseYkushFirmware(reply(1, 2, 7)), { major: 2, minor: 7 });
  assert.deepEqual(parseYkushFirmware(reply(1, 1, 2)), { major: 1, minor: 2 });
  assert.deepEqual(parseYkushFirmware(reply(0, 2, 7)), { major: 1, minor: null });
  assert.deepEqual(parseYkushFirmware(new Uint8Array([1, 2, 7])), { major: 1, minor: null });
  assert.deepEqual(parseYkushFirmware(null), { major: 1, minor: null });
});

test('downstream port count: [1, count]; a refusal, a short reply or none means 3; a YKUSHXS has 1 whatever it says', () => {
  assert.equal(parseYkushPortCount(reply(1, 3), 0xf2f7), 3);
  assert.equal(parseYkushPortCount(reply(1, 2), 0xf11b), 2);
  assert.equal(parseYkushPortCount(reply(0, 2), 0xf2f7), 3);
  assert.equal(parseYkushPortCount(new Uint8Array([1, 2]), 0xf2f7), 3);
  assert.equal(parseYkushPortCount(null, 0xf2f7), 3);
  assert.equal(parseYkushPortCount(reply(1, 3), 0xf0cd), 1);
  assert.equal(parseYkushPortCount(null, 0xf0cd), 1);
});

function board(productId: number, serial: string | null, location = '1-1.4'): UsbDeviceInfo {
  return { vendorId: 0x04d8, productId, serial, product: 'YKUSH', manufacturer: 'Yepkit Lda.', location, address: 5, speed: 'full', handle: `h-${serial}-${productId}` };
}

test('pickYkush: the one board in normal mode; with a serial, the board that has it', () => {
  const one = board(0xf2f7, 'YK12345');
  assert.equal(pickYkush([one]), one);
  const xs = board(0xf0cd, 'YKX0001', '1-2');
  assert.equal(pickYkush([one, xs], 'YKX0001'), xs);
  // A board in its bootloader beside a working one does not stand in the way.
  assert.equal(pickYkush([board(0xf11c, null), one]), one);
  // Another vendor's device with a YKUSH product id is not one.
  assert.equal(pickYkush([{ ...board(0xf2f7, 'X'), vendorId: 0x1234 }, one]), one);
});

test('pickYkush: none, several without a serial, an unknown serial, only a bootloader: one line each', () => {
  assert.throws(() => pickYkush([]), {
    message: 'no YKUSH is attached to this machine (vendor 0x04d8, products 0x0042, 0xf2f7, 0xf11b, 0xf0cd): plug its upstream port into the machine running dextbench, and check its power supply',
  });
  assert.throws(() => pickYkush([], 'YK1'), { message: /^no YKUSH is attached to this machine \(vendor 0x04d8, products 0x0042, 0xf2f7, 0xf11b, 0xf0cd, serial YK1\): / });
  assert.throws(() => pickYkush([board(0xf2f7, 'YK1', '1-1.4'), board(0xf11b, 'YK3', '2-3.4')]), {
    message: '2 YKUSH boards are attached (04d8:f2f7 serial YK1 at 1-1.4; 04d8:f11b serial YK3 at 2-3.4): name one with serial: in the rig\'s hubs[] entry (e.g. serial: YK1)',
  });
  assert.throws(() => pickYkush([board(0xf2f7, 'YK1', '1-1.4'), board(0xf2f7, 'YK1', '1-2.4')], 'YK1'), { message: /^2 YKUSH boards have serial YK1 \(.*\): unplug all but one$/ });
  assert.throws(() => pickYkush([board(0xf2f7, 'YK1', '1-1.4')], 'YK9'), {
    message: 'no YKUSH with serial YK9 is attached; attached: 04d8:f2f7 serial YK1 at 1-1.4: fix the rig\'s hubs[].serial',
  });
  for (const productId of [0xf11c, 0xffff]) {
    assert.throws(() => pickYkush([board(productId, null, '1-3')], 'YK1'), {
      message: `the YKUSH 04d8:${productId.toString(16)} no serial at 1-3 is in bootloader mode (product id 0x${productId.toString(16)}), where its control commands are not available: finish its firmware update, or power-cycle it`,
    });
  }
  // A bootloader with another board's serial is not the one asked for.
  assert.throws(() => pickYkush([board(0xf11c, 'YK2')], 'YK1'), { message: /^no YKUSH is attached/ });
});

test('a refused claim: on macOS the likely cause (the HID family, unconfirmed) and the fix; elsewhere what harness/usb said', () => {
  const said = '04d8:f2f7 serial YK1 at 1-1: claim interface 0: access denied (claimInterface error: exclusive access)';
  assert.equal(ykushClaimFailure(said, 0, 'darwin'),
    `${said}; the YKUSH's HID interface 0 is likely held by macOS's HID family (unconfirmed): run dextbench with sudo, or plug the YKUSH's control into a Linux machine`);
  assert.equal(ykushClaimFailure(said, 0, 'linux'), said);
});
