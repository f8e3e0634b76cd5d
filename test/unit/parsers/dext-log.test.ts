import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyDextLogMessage, parseUnifiedLogLine, type DextLogEvent } from '../../../harness/host/parsers/index.ts';
import { fixture } from './fixture.ts';

const lines = (name: string) => fixture(name).split('\n').filter((l) => l.trim() !== '');

test('7-A: ::start(...) ok lines, plain, with a dmesg timestamp, third-party; ids exact', () => {
  const events = lines('dext-log-7A.txt').map(classifyDextLogMessage);
  assert.deepEqual(events, [
    null,
    null,
    null,
    { kind: 'service-started', service: 'AppleUSBCHCOM', serviceId: 0x1000030ean, provider: 'IOUSBHostInterface', providerId: 0x1000030e5n, ok: true },
    { kind: 'service-started', service: 'AppleUSBCHCOM', serviceId: 0x100048d92n, provider: 'IOUSBHostInterface', providerId: 0x100048d90n, ok: true },
    { kind: 'service-started', service: 'tinygpu', serviceId: 0x100000c27n, provider: 'display', providerId: 0x100000a9en, ok: true },
  ]);
});

test('::start fail, and provider names with spaces (USB product names)', () => {
  assert.deepEqual(classifyDextLogMessage('kernel: DK: EchoDriver-0x100000c27::start(USB JTAG/serial debug unit-0x10001c6b3) fail'), {
    kind: 'service-started', service: 'EchoDriver', serviceId: 0x100000c27n, provider: 'USB JTAG/serial debug unit', providerId: 0x10001c6b3n, ok: false,
  });
});

test('IOUserServer exit/kill: with and without the registry id after the parentheses (7-C elides it)', () => {
  assert.deepEqual(classifyDextLogMessage('DK: IOUserServer(org.eof.tools.VSPDriver-0x100000a45)-0x100000a46::exit(Client crashed)'), {
    kind: 'server-exit', server: 'org.eof.tools.VSPDriver', serverTag: 0x100000a45n, serverId: 0x100000a46n, reason: 'Client crashed',
  });
  assert.deepEqual(classifyDextLogMessage('DK: IOUserServer(com.example.echo.driver-0x100000a45)::kill(CDHash check failed)'), {
    kind: 'server-kill', server: 'com.example.echo.driver', serverTag: 0x100000a45n, reason: 'CDHash check failed',
  });
  assert.deepEqual(classifyDextLogMessage('DK: IOUserServer(com.example.echo.driver)::exit(Exit)'), {
    kind: 'server-exit', server: 'com.example.echo.driver', reason: 'Exit',
  });
});

test('crash counter, rematch, launch failures (SOURCE format strings)', () => {
  const cases: Array<[string, DextLogEvent]> = [
    ['Driver com.example.echo.driver has crashed 0 time(s)', { kind: 'crashed', bundleId: 'com.example.echo.driver', count: 0 }],
    ['Driver org.pqrs.Karabiner-DriverKit-VirtualHIDDevice has crashed 3 time(s)', { kind: 'crashed', bundleId: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', count: 3 }],
    ['DK: IOUSBHostInterface-0x10006044f rematching after dext crash', { kind: 'rematch', provider: 'IOUSBHostInterface', providerId: 0x10006044fn }],
    ['DK: EchoDriver-0x100000c27 failed to launch server', { kind: 'launch-failed', service: 'EchoDriver', serviceId: 0x100000c27n, reason: 'failed to launch server' }],
    ['DK: EchoDriver-0x100000c27 user server timeout', { kind: 'launch-failed', service: 'EchoDriver', serviceId: 0x100000c27n, reason: 'user server timeout' }],
    ['DK: EchoDriver-0x100000c27 dext launches are disabled ', { kind: 'launch-failed', service: 'EchoDriver', serviceId: 0x100000c27n, reason: 'dext launches are disabled' }],
  ];
  for (const [message, expected] of cases) assert.deepEqual(classifyDextLogMessage(message), expected, message);
});

test('entitlement failures: service checks and per-process checks', () => {
  assert.deepEqual(classifyDextLogMessage('DK: EchoDriver-0x100000c27: provider entitlements check failed'), {
    kind: 'entitlement-failed', check: 'provider', service: 'EchoDriver', serviceId: 0x100000c27n,
  });
  assert.deepEqual(classifyDextLogMessage('DK: EchoDriver-0x100000c27: family entitlements check failed'), {
    kind: 'entitlement-failed', check: 'family', service: 'EchoDriver', serviceId: 0x100000c27n,
  });
  assert.deepEqual(classifyDextLogMessage('com.apple.developer.driverkit entitlement check failed for com.example.echo.dr[1227]'), {
    kind: 'entitlement-failed', check: 'driverkit', process: 'com.example.echo.dr', pid: 1227,
  });
  assert.deepEqual(classifyDextLogMessage('DK: entitlements are missing for com.example.echo.dr[1227]'), {
    kind: 'entitlement-failed', check: 'missing', process: 'com.example.echo.dr', pid: 1227,
  });
});

test('user-client refusals (:UC …), not mistaken for the per-process entitlement check', () => {
  assert.deepEqual(classifyDextLogMessage('DK: EchoUserClient-0x100000c30:UC entitlement check failed, app does not have com.apple.developer.driverkit.userclient-access entitlement'), {
    kind: 'userclient-refused', userClient: 'EchoUserClient', userClientId: 0x100000c30n,
    reason: 'entitlement check failed, app does not have com.apple.developer.driverkit.userclient-access entitlement',
  });
  assert.deepEqual(classifyDextLogMessage('DK: EchoUserClient-0x100000c30:UC failed team ID check. client team=ABCDE12345, driver team=DXTBNCH001'), {
    kind: 'userclient-refused', userClient: 'EchoUserClient', userClientId: 0x100000c30n, reason: 'failed team ID check. client team=ABCDE12345, driver team=DXTBNCH001',
  });
});

test('7-F: sysextd StateChanges line (with trailing spaces); 7-H: StateChange with the subject elided', () => {
  const events = lines('sysextd-log-7F.txt').map(classifyDextLogMessage);
  assert.deepEqual(events, [
    null,
    null,
    { kind: 'state-change', teamId: 'G43BCU2T37', bundleId: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', version: '1.0.0/1.0.0', from: 'realizing', to: 'staging' },
    null,
  ]);
  const h = lines('kernelmanagerd-log-7H.txt').map(classifyDextLogMessage);
  assert.deepEqual(h, [
    null,
    { kind: 'validation-failed', bundleId: 'com.openjoystickdriver.XboxUSBDevice' },
    null,
    null,
    { kind: 'validation-failed', bundleId: 'com.openjoystickdriver.XboxUSBDevice', detail: '.invalidProperties' },
    { kind: 'validation-failed', bundleId: 'com.openjoystickdriver.XboxUSBDevice' },
    { kind: 'state-change', from: 'validating_by_category', to: 'uninstalling' },
  ]);
});

test('7-E, 7-I: sysextd validation failures; 7-G, 7-J and 4-E lines are not events', () => {
  const e = lines('sysextd-log-7E.txt').map(classifyDextLogMessage);
  assert.deepEqual(e.filter((x) => x !== null), [{ kind: 'validation-failed', bundleId: 'com.black-dragon74.ROG-HID-Driver' }]);
  assert.match(lines('sysextd-log-7E.txt')[e.findIndex((x) => x !== null)]!, /uninstalling invalid extension/);
  assert.deepEqual(lines('sysextd-log-7I.txt').map(classifyDextLogMessage), [{ kind: 'validation-failed' }]);
  for (const name of ['sysextd-log-7G.txt', 'sysextd-log-7J.txt', 'log-default-4E.txt', 'log-default-7D.txt']) {
    assert.deepEqual(lines(name).map(classifyDextLogMessage).filter((x) => x !== null), [], name);
  }
});

test('works on eventMessage of a parsed ndjson entry', () => {
  const entry = parseUnifiedLogLine(fixture('log-ndjson-built.txt').split('\n')[2]!)!;
  assert.deepEqual(classifyDextLogMessage(entry.eventMessage), {
    kind: 'service-started', service: 'AppleUSBCHCOM', serviceId: 0x1000030ean, provider: 'IOUSBHostInterface', providerId: 0x1000030e5n, ok: true,
  });
});
