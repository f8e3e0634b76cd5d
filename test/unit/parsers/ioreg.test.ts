import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  dextServicesFromIoreg,
  parseIoregPlist,
  parsePlist,
  parseRegistryId,
  formatRegistryId,
  usbDevicesFromIoreg,
  userServersFromIoreg,
  walkIoreg,
  type IoregEntry,
} from '../../../harness/host/parsers/index.ts';
import { fixture } from './fixture.ts';

const usbEntries = () => parseIoregPlist(fixture('ioreg-a-r-c-IOUSBHostDevice.built.plist'));

test('ioreg -a with an array root: entries, children split off, every other key kept', () => {
  const entries = usbEntries();
  assert.equal(entries.length, 1);
  const hub = entries[0]!;
  assert.equal(hub.properties['IORegistryEntryName'], 'USB2.0 Hub');
  assert.equal(hub.properties['IORegistryEntryID'], 0x10001c600n);
  assert.equal(hub.properties['IOObjectClass'], 'IOUSBHostDevice');
  assert.equal('IORegistryEntryChildren' in hub.properties, false);
  assert.deepEqual(hub.children.map((c) => c.properties['IORegistryEntryName']), ['AppleUSB20Hub', 'USB JTAG/serial debug unit']);
  const device = hub.children[1]!;
  assert.equal(device.properties['sessionID'], 4586099087818n);
  assert.equal(typeof device.properties['idVendor'], 'bigint');
  assert.deepEqual(device.properties['IOServiceDEXTEntitlements'], [['com.apple.developer.driverkit.transport.usb']]);
  assert.deepEqual(device.properties['IOCFPlugInTypes'], { '9dc7b780-9ec0-11d4-a54f-000a27052861': 'IOUSBHostFamily.kext/Contents/PlugIns/IOUSBLib.bundle' });
  assert.equal((device.properties['IOPowerManagement'] as Record<string, unknown>)['PowerOverrideOn'], true);
  // <data> with whitespace around the base64.
  assert.deepEqual(device.properties['UsbDeviceSignature'], new Uint8Array(Buffer.from('c41070ea00013031383136463043000000ff0000', 'hex')));
});

test('ioreg -a with a dict root (Root of a plane): one entry; 64-bit values exact', () => {
  const entries = parseIoregPlist(fixture('ioreg-a-root.built.plist'));
  assert.equal(entries.length, 1);
  const root = entries[0]!;
  assert.equal(root.properties['OSKernelCPUSubtype'], 18446744072635809794n);
  assert.equal(root.properties['TestNegative'], -9223372036854775808n);
  assert.equal(root.properties['OSKernelCPUType'], 16777228n);
  assert.equal(root.properties['OS Build Version'], '20F71');
  assert.equal(root.properties['IOKitBuildVersion'], 'Darwin Kernel Version 20.5.0: Sat May  8 05:10:31 PDT 2021; root:xnu-7195.121.3~9/RELEASE_ARM64_T8101');
  assert.deepEqual(root.properties['TestEmptyDict'], {});
  assert.deepEqual(root.properties['TestEmptyArray'], []);
  assert.equal(root.properties['TestEmptyString'], '');
  assert.equal(root.properties['TestEntities'], `"a' /b/ \u{1F600}`);
  assert.equal(root.properties['TestReal'], -1500);
  assert.deepEqual(root.properties['TestDate'], new Date('2025-08-09T14:11:55Z'));
  assert.equal(root.properties['IOConsoleLocked'], false);
  const xhci = root.children[0]!;
  assert.deepEqual(xhci.properties['Revision'], new Uint8Array([0x01, 0x03]));
  assert.equal(xhci.properties['locationID'], 16777216n);
  assert.equal(xhci.children[0]!.properties['USB Product Name'], 'Keyboard & Mouse <Combo>');
});

test('walkIoreg: depth-first pre-order with parent and depth', () => {
  const visits = [...walkIoreg(usbEntries())].map((v) => [
    v.entry.properties['IORegistryEntryName'],
    v.parent ? v.parent.properties['IORegistryEntryName'] : null,
    v.depth,
  ]);
  assert.deepEqual(visits, [
    ['USB2.0 Hub', null, 0],
    ['AppleUSB20Hub', 'USB2.0 Hub', 1],
    ['USB JTAG/serial debug unit', 'USB2.0 Hub', 1],
    ['AppleUSBHostCompositeDevice', 'USB JTAG/serial debug unit', 2],
    ['IOUSBHostInterface', 'USB JTAG/serial debug unit', 2],
    ['VSPDriver', 'IOUSBHostInterface', 3],
    ['VSPSerialPort', 'VSPDriver', 4],
  ]);
});

test('usbDevicesFromIoreg: identity, exact ids, services found under the interface, not under the hub', () => {
  const [hub, device] = usbDevicesFromIoreg(usbEntries());
  assert.ok(hub && device);
  assert.equal(hub.name, 'USB2.0 Hub');
  assert.equal(hub.vendorId, 8457);
  assert.equal(hub.locationId, 0x01110000n);
  assert.deepEqual(hub.services, [], 'a hub does not own the services of devices plugged into it');
  assert.equal(hub.serial, undefined);

  assert.equal(device.registryId, 0x10001c6b3n);
  assert.equal(device.name, 'USB JTAG/serial debug unit');
  assert.equal(device.className, 'IOUSBHostDevice');
  assert.equal(device.locationId, 17907712n);
  assert.equal(device.locationId.toString(16), '1114000');
  assert.equal(device.sessionId, 4586099087818n);
  assert.equal(device.vendorId, 12346);
  assert.equal(device.productId, 4097);
  assert.equal(device.product, 'USB JTAG/serial debug unit', 'kUSBProductString keeps the raw "/"');
  assert.equal(device.vendor, 'Espressif');
  assert.equal(device.serial, '84:F7:03:A0:EF:84');
  assert.equal(device.address, 10);
  assert.equal(device.properties['bcdUSB'], 512n);

  assert.deepEqual(device.services.map(({ properties: _p, ...rest }) => rest), [
    {
      registryId: 0x100000a45n,
      name: 'VSPDriver',
      ioClass: 'IOUserService',
      userClass: 'VSPDriver',
      serverName: 'org.eof.tools.VSPDriver',
      bundleId: 'org.eof.tools.VSPDriver',
      cdhash: 'f5800d2b1b3bb24dd2fc0c45833d287805d9aabc',
    },
    { registryId: 0x100000a47n, name: 'VSPSerialPort', ioClass: 'IOUserSerial', userClass: 'VSPSerialPort' },
  ]);
  const personality = device.services[0]!.properties['IOMatchedPersonality'] as Record<string, unknown>;
  assert.equal((personality['kOSBundleDextUniqueIdentifier'] as Uint8Array).length, 32);
  assert.equal(Buffer.from(personality['kOSBundleDextUniqueIdentifier'] as Uint8Array).toString('hex'), 'b516df71b274189db0be8c2bd815cdeae43a0e7cd0638e25b1d328fef54b8e9d');
});

test('usbDevicesFromIoreg: the legacy AppleUSBDevice class counts; USB Product Name used when kUSB strings are absent', () => {
  const devices = usbDevicesFromIoreg(parseIoregPlist(fixture('ioreg-a-root.built.plist')));
  assert.deepEqual(devices.map((d) => [d.className, d.registryId, d.product, d.vendorId, d.productId, d.address, d.sessionId]), [
    ['AppleUSBDevice', 0x1000002efn, 'Keyboard & Mouse <Combo>', 1452, 591, 3, null],
  ]);
});

test('dextServicesFromIoreg: every entry carrying IOUserClass', () => {
  assert.deepEqual(dextServicesFromIoreg(usbEntries()).map((s) => s.userClass), ['VSPDriver', 'VSPSerialPort']);
  assert.deepEqual(dextServicesFromIoreg(parseIoregPlist(fixture('ioreg-a-root.built.plist'))), []);
});

test('userServersFromIoreg: server name, tag, pid from IOUserClientCreator, associated services', () => {
  const servers = userServersFromIoreg(parseIoregPlist(fixture('ioreg-a-r-c-IOUserServer.built.plist')));
  assert.deepEqual(servers.map(({ properties: _p, ...rest }) => rest), [
    { registryId: 0x100000a46n, serverName: 'org.eof.tools.VSPDriver', tag: 0x100000a45n, pid: 1227, associatedServices: [0x100000a45n] },
    // Only the registry name: server and tag come from `IOUserServer(<server>-0x<tag>)`.
    { registryId: 0x10000068cn, serverName: 'com.belcarra.driverkit.VIDPID0', tag: 0x100000682n, pid: null, associatedServices: [] },
  ]);
  assert.equal(servers[0]!.properties['IOUserClientCreator'], 'pid 1227, org.eof.tools.VS');
  // Joins to the service by id.
  const [, device] = usbDevicesFromIoreg(usbEntries());
  assert.ok(servers[0]!.associatedServices.includes(device!.services[0]!.registryId));
});

test('a bare root value and a dict child list are accepted; an entry that is not a dict is refused', () => {
  const entries: IoregEntry[] = parseIoregPlist('<dict><key>IORegistryEntryID</key><integer>1</integer><key>IORegistryEntryChildren</key><array/></dict>');
  assert.deepEqual(entries, [{ properties: { IORegistryEntryID: 1n }, children: [] }]);
  assert.throws(() => parseIoregPlist('<plist><array><string>x</string></array></plist>'), /ioreg plist: root\[0\] is not a dict/);
  assert.throws(
    () => parseIoregPlist('<plist><dict><key>IORegistryEntryChildren</key><string>x</string></dict></plist>'),
    /ioreg plist: root\.IORegistryEntryChildren is not an array/,
  );
});

test('malformed plists: one-line errors naming line:col', () => {
  const cases: Array<[string, RegExp]> = [
    ['<plist version="1.0">\n<dict>\n  <key>a</key>\n  <integer>1</integer>\n</array>\n</plist>', /^plist 5:1: expected <\/dict>, found <\/array>$/],
    ['<plist><dict><key>a</key><integer>12x</integer></dict></plist>', /^plist 1:26: <integer> holds "12x", not an integer$/],
    ['<plist><dict><key>a</key></dict></plist>', /^plist 1:26: key "a" has no value$/],
    ['<plist><dict><string>a</string></dict></plist>', /^plist 1:14: expected <key> in <dict>, found <string>$/],
    ['<plist><array>\n<string>a &nbsp; b</string></array></plist>', /^plist 2:11: unknown entity &nbsp;$/],
    ['<plist><array><string>a & b</string></array></plist>', /^plist 1:25: bare "&"/],
    ['<plist><array><data>***</data></array></plist>', /^plist 1:15: <data> is not valid base64$/],
    ['<plist><array><date>yesterday</date></array></plist>', /^plist 1:15: <date> holds "yesterday"/],
    ['<plist><array><string>open', /^plist 1:27: <\/string> is missing$/],
    ['<plist><array></array></plist><plist/>', /^plist 1:31: unexpected content after the root value$/],
    ['', /^plist 1:1: unexpected end of input$/],
    ['not xml', /^plist 1:1: expected an element$/],
    ['<plist><array><!-- never closed </array></plist>', /^plist 1:15: unterminated comment$/],
    ['<plist><foo/></plist>', /^plist 1:8: unexpected <foo> where a value was expected$/],
  ];
  for (const [xml, expected] of cases) {
    assert.throws(() => parsePlist(xml), (error: Error) => {
      assert.match(error.message, expected, `for ${JSON.stringify(xml)}`);
      assert.equal(error.message.includes('\n'), false);
      return true;
    });
  }
});

test('parseRegistryId / formatRegistryId: exact, hex and decimal', () => {
  assert.equal(parseRegistryId('0x100000a45'), 4294969925n);
  assert.equal(parseRegistryId('0X10001C6B3'), 0x10001c6b3n);
  assert.equal(parseRegistryId('4586099087818'), 4586099087818n);
  assert.equal(parseRegistryId('100000a45', { bareHex: true }), 0x100000a45n);
  assert.equal(parseRegistryId('0xffffffffffffffff'), 18446744073709551615n);
  assert.throws(() => parseRegistryId('id 12'), /^Error: not an IORegistry id: "id 12"$/);
  assert.equal(formatRegistryId(0x100000a45n), '0x100000a45');
});

test('a byte-order mark before the XML declaration is accepted', () => {
  assert.deepEqual(parsePlist('\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><integer>-42</integer></plist>'), -42n);
});
