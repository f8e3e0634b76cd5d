// A rig device is found by where it sits: its hub's uhubctl location plus its port give the
// IOUSBHostDevice locationID (harness/rig/usb-location.ts), so two identical devices on one hub
// are two devices. Checked against ioreg samples (test/fixtures/macos).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIoregPlist, usbDevicesFromIoreg, type UsbDeviceView } from '../../../harness/host/parsers/index.ts';
import {
  DeviceStateError, describeObservation, findRigDevice, type DeviceObservation,
} from '../../../harness/rig/device-state.ts';
import type { DeviceProfile, RigDevice } from '../../../harness/rig/types.ts';
import { formatLocationId, locationIdAt } from '../../../harness/rig/usb-location.ts';
import { fixture } from '../parsers/fixture.ts';
import { ECHO_PROFILE, simRig } from './rig-fixtures.ts';

const twoEcho = (): UsbDeviceView[] => usbDevicesFromIoreg(parseIoregPlist(fixture('ioreg-a-r-c-IOUSBHostDevice-two-echo.built.plist')));
const echoOn = (role: string, port: number, profile: DeviceProfile = ECHO_PROFILE): RigDevice => ({ role, profile, port: { hub: 'hub1', port } });
const observed = (r: ReturnType<typeof findRigDevice>): DeviceObservation =>
  ({ device: r.found, services: r.found?.services ?? [], servers: [], elsewhere: r.elsewhere, ...(r.locationId !== undefined ? { locationId: r.locationId } : {}) });
const twoEchoRig = (location = '1-1') => simRig({
  hubs: [{ id: 'hub1', driver: 'uhubctl', location, ports: 4 }],
  devices: [echoOn('echo-a', 2), echoOn('echo-b', 3)],
});

test('locationIdAt: a uhubctl location and port give the locationID the Mac shows (3-E, 3-G, 3-H)', () => {
  // 3-E: "USB JTAG/serial debug unit@01114000", locationID 17907712.
  assert.equal(locationIdAt('1-1.1', 4), 17907712n);
  // 3-G: hub @00100000 > hub @00140000 > "Cynthion Apollo Debugger@00144000".
  assert.equal(locationIdAt('0-1.4', 4), 0x00144000n);
  // 3-H: "USB3.0 Hub @01200000" > "bladeRF 2.0@01220000".
  assert.equal(locationIdAt('1-2', 2), 0x01220000n);
  assert.equal(formatLocationId(0x01220000n), '0x01220000');
  assert.equal(locationIdAt('20-1', 3), 0x14130000n, 'an Intel Mac bus number (0x14) in the top byte');
});

test('locationIdAt: what a locationID cannot hold gives none', () => {
  assert.equal(locationIdAt('1-1', 16), undefined, 'a port above 15 needs more than one hex digit');
  assert.equal(locationIdAt('1-1.2.3.4.5.6', 1), undefined, 'seven hops');
  assert.equal(locationIdAt('1-1.2.3.4.5', 1), 0x01123451n, 'six hops fit');
  assert.equal(locationIdAt('256-1', 1), undefined, 'a bus above 0xff');
  for (const bad of ['usb-hub-7', '1', '1-', '1-1.', '-1', '1-0']) assert.equal(locationIdAt(bad, 2), undefined, bad);
});

test('two identical echo devices on one hub: each role finds the device on its own port, with its own service', () => {
  const devices = twoEcho();
  const rig = twoEchoRig();
  const a = findRigDevice(devices, rig, rig.devices[0]!);
  const b = findRigDevice(devices, rig, rig.devices[1]!);
  assert.equal(a.found?.locationId, 0x01120000n);
  assert.equal(a.found?.sessionId, 9007199254740993n, 'sessionID stays exact');
  assert.deepEqual(a.found?.services.map((s) => s.registryId), [4294969003n]);
  assert.equal(b.found?.locationId, 0x01130000n);
  assert.deepEqual(b.found?.services.map((s) => s.registryId), [4294969012n]);
  assert.deepEqual(b.elsewhere, [], 'the twin on echo-a\'s port is echo-a, not a misplaced echo-b');
});

test('only echo-b is plugged: echo-a is not enumerated, and echo-b is not taken for it', () => {
  const devices = twoEcho().filter((d) => d.locationId !== 0x01120000n);
  const rig = twoEchoRig();
  const a = findRigDevice(devices, rig, rig.devices[0]!);
  assert.equal(a.found, undefined);
  assert.equal(describeObservation(observed(a)), 'not enumerated');
  assert.equal(findRigDevice(devices, rig, rig.devices[1]!).found?.locationId, 0x01130000n);
});

test('a device on another port than the rig says: not enumerated, and where a device with its identity is', () => {
  const devices = twoEcho().filter((d) => d.locationId !== 0x01120000n);
  const rig = simRig({ devices: [echoOn('echo', 2)] });
  const r = findRigDevice(devices, rig, rig.devices[0]!);
  assert.equal(r.found, undefined);
  assert.equal(describeObservation(observed(r)),
    'not enumerated at locationID 0x01120000; a device with its identity is at 0x01130000 (check the rig\'s hub location and port)');
});

test('the 3-E device on port 4 of the hub at 1-1.1 is found there, and not on port 3', () => {
  const devices = usbDevicesFromIoreg(parseIoregPlist(fixture('ioreg-a-r-c-IOUSBHostDevice.built.plist')));
  const esp32: DeviceProfile = { ...ECHO_PROFILE, usb: { vendorId: 0x303a, productId: 0x1001, serial: '84:F7:03:A0:EF:84' } };
  const rig = simRig({ hubs: [{ id: 'hub1', driver: 'uhubctl', location: '1-1.1' }], devices: [echoOn('jtag', 4, esp32)] });
  assert.equal(findRigDevice(devices, rig, rig.devices[0]!).found?.name, 'USB JTAG/serial debug unit');
  const wrongPort = simRig({ hubs: rig.hubs, devices: [echoOn('jtag', 3, esp32)] });
  const r = findRigDevice(devices, wrongPort, wrongPort.devices[0]!);
  assert.equal(r.found, undefined);
  assert.deepEqual(r.elsewhere.map((d) => d.locationId), [0x01114000n]);
});

test('two devices of one identity and no locationID to tell them apart: one clear line', () => {
  const rig = twoEchoRig('hub-by-serial-7');
  assert.throws(() => findRigDevice(twoEcho(), rig, rig.devices[0]!), (error: unknown) => {
    assert.ok(error instanceof DeviceStateError);
    assert.equal(error.message,
      'rig "test": devices echo-a and echo-b cannot be told apart (both 1d6b:0104 serial ECHO0001, and hub hub1 location ' +
      '"hub-by-serial-7" port 2 gives no USB locationID of its own); give each device a serial in its profile, or put them on ' +
      'hubs with uhubctl locations like "1-1" and ports 1-15');
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
  // Different serials tell them apart without a location.
  const serialB: DeviceProfile = { ...ECHO_PROFILE, usb: { ...ECHO_PROFILE.usb, serial: 'ECHO0002' } };
  const apart = simRig({ hubs: rig.hubs, devices: [echoOn('echo-a', 2), echoOn('echo-b', 3, serialB)] });
  assert.equal(findRigDevice(twoEcho(), apart, apart.devices[1]!).found, undefined, 'no ECHO0002 is plugged');
  const r = findRigDevice(twoEcho(), apart, apart.devices[0]!);
  assert.equal(r.found, undefined, 'two ECHO0001 devices and no location: neither is guessed');
  assert.equal(r.elsewhere.length, 2);
});

test('a single rig device without a locationID is still found by its identity alone', () => {
  const devices = twoEcho().filter((d) => d.locationId !== 0x01120000n);
  const rig = simRig({ hubs: [{ id: 'hub1', driver: 'uhubctl', location: 'hub-by-serial-7' }], devices: [echoOn('echo', 2)] });
  assert.equal(findRigDevice(devices, rig, rig.devices[0]!).found?.locationId, 0x01130000n);
});
