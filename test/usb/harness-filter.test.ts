// harness/usb's pure parts: which device a filter means, its location as Linux and uhubctl name
// it, and the one line findDevice gives when not exactly one device matches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceLocation, matchesFilter, type UsbDeviceInfo } from '../../harness/usb/index.ts';
import { notOneDeviceLine } from '../../harness/usb/filter.ts';

const device = (overrides: Partial<UsbDeviceInfo> = {}): UsbDeviceInfo => ({
  vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0001', product: 'Loopback', manufacturer: 'dextbench',
  location: '1-1', address: 2, speed: 'high', handle: 'DeviceId(DeviceId { bus: 1, addr: 2 })', ...overrides,
});

test('location: Linux gives the bus in decimal digits ("001", measured), macOS the locationID\'s top byte in hex', () => {
  assert.equal(deviceLocation('001', [1], 'linux'), '1-1');
  assert.equal(deviceLocation('003', [2, 4, 1], 'linux'), '3-2.4.1');
  assert.equal(deviceLocation('010', [1], 'linux'), '10-1', 'decimal on Linux, not hex');
  assert.equal(deviceLocation('14', [1, 3], 'darwin'), '20-1.3', 'hex on macOS (0x14 = bus 20)');
  assert.equal(deviceLocation('02', [], 'linux'), '2', 'a root hub is its bus number alone, as uhubctl names it');
  assert.equal(deviceLocation('001', [1], 'win32'), null, 'no location form on Windows');
  assert.equal(deviceLocation('', [1], 'linux'), null);
});

test('a filter matches on VID/PID, and on serial and location only when it names them', () => {
  assert.ok(matchesFilter(device(), { vendorId: 0x1d6b, productId: 0x0104 }));
  assert.ok(matchesFilter(device(), { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0001', location: '1-1' }));
  assert.ok(!matchesFilter(device(), { vendorId: 0x1d6b, productId: 0x0105 }));
  assert.ok(!matchesFilter(device(), { vendorId: 0x1d6c, productId: 0x0104 }));
  assert.ok(!matchesFilter(device(), { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0002' }));
  assert.ok(!matchesFilter(device({ serial: null }), { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0001' }), 'no serial is not a match for one');
  assert.ok(!matchesFilter(device(), { vendorId: 0x1d6b, productId: 0x0104, location: '1-2' }));
  assert.ok(!matchesFilter(device({ location: null }), { vendorId: 0x1d6b, productId: 0x0104, location: '1-1' }));
});

test('not exactly one device: the line names the candidates with the same VID/PID, else what is on the bus', () => {
  const filter = { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0009' };
  const other = device({ serial: 'ECHO0002', location: '1-2' });
  assert.equal(notOneDeviceLine(filter, [], [device(), other]),
    'no USB device 1d6b:0104 serial ECHO0009; with 1d6b:0104 there are: 1d6b:0104 serial ECHO0001 at 1-1; 1d6b:0104 serial ECHO0002 at 1-2');
  assert.equal(notOneDeviceLine({ vendorId: 0x1d6b, productId: 0x0104 }, [device(), other], [device(), other]),
    '2 USB devices match 1d6b:0104: 1d6b:0104 serial ECHO0001 at 1-1; 1d6b:0104 serial ECHO0002 at 1-2; tell them apart with serial or location');
  assert.equal(notOneDeviceLine(filter, [], [device({ vendorId: 0x05ac, productId: 0x8262, location: null })]),
    'no USB device 1d6b:0104 serial ECHO0009; on the bus: 05ac:8262');
  assert.equal(notOneDeviceLine(filter, [], []), 'no USB device 1d6b:0104 serial ECHO0009; the bus has no devices');
  const many = Array.from({ length: 11 }, (_, i) => device({ serial: `S${i}` }));
  const line = notOneDeviceLine({ vendorId: 0x1d6b, productId: 0x0104 }, many, many);
  assert.match(line, /^11 USB devices match 1d6b:0104: .*S7 at 1-1; and 3 more; tell them apart/);
  assert.ok(!line.includes('\n'));
  assert.equal(notOneDeviceLine(filter, [], [device({ serial: null })]),
    'no USB device 1d6b:0104 serial ECHO0009; with 1d6b:0104 there are: 1d6b:0104 no serial at 1-1');
});
