import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findExtensionRows, parseSystemExtensionsList, type SystemExtensionRow } from '../../../harness/host/parsers/index.ts';
import { collapseWhitespace, expandTabs, fixture } from './fixture.ts';

const DRIVER = 'com.apple.system_extension.driver_extension';
const NETWORK = 'com.apple.system_extension.network_extension';
const ES = 'com.apple.system_extension.endpoint_security';

function row(fields: Partial<SystemExtensionRow> & Pick<SystemExtensionRow, 'bundleId'>): SystemExtensionRow {
  return { category: DRIVER, enabled: true, active: true, teamId: '', shortVersion: '', bundleVersion: '', name: '', state: 'activated enabled', ...fields };
}

const ROWS_1G: SystemExtensionRow[] = [
  row({ category: NETWORK, teamId: 'MLZF7K7B5R', bundleId: 'at.obdev.littlesnitch.networkextension', shortVersion: '6.4.1', bundleVersion: '7212', name: 'Little Snitch Network Extension' }),
  row({ category: NETWORK, teamId: 'W5364U7YZB', bundleId: 'io.tailscale.ipn.macsys.network-extension', shortVersion: '1.102.2', bundleVersion: '101.102.2', name: 'Tailscale Network Extension' }),
  row({ category: ES, teamId: 'W5W395V82Y', bundleId: 'com.nordvpn.macos.Shield', shortVersion: '10.8.1', bundleVersion: '371', name: 'NordVPN protection' }),
  row({ category: ES, enabled: false, active: false, teamId: 'W5W395V82Y', bundleId: 'com.nordvpn.macos.Shield', shortVersion: '10.8.0', bundleVersion: '370', name: 'NordVPN protection', state: 'terminated waiting to uninstall on reboot' }),
  row({ category: ES, teamId: 'MLZF7K7B5R', bundleId: 'at.obdev.littlesnitch.endpointsecurity', shortVersion: '6.4.1', bundleVersion: '7212', name: 'Little Snitch Endpoint Security' }),
  row({ category: DRIVER, teamId: 'G43BCU2T37', bundleId: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', shortVersion: '1.8.0', bundleVersion: '1.8.0', name: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice' }),
];

test('1-A: ES extension, with the SIP refusal text of reset/uninstall after the listing', () => {
  assert.deepEqual(parseSystemExtensionsList(fixture('sysext-list-1A.txt')), {
    count: 1,
    complete: true,
    extensions: [row({ category: ES, teamId: 'AD94776VX5', bundleId: 'com.suprhackersteve.crescendo.CrescendoExtension', shortVersion: '1.0.4', bundleVersion: '35', name: 'Crescendo System Extension' })],
  });
});

test('1-B: a dext whose name equals its bundle id', () => {
  assert.deepEqual(parseSystemExtensionsList(fixture('sysext-list-1B.txt')), {
    count: 1,
    complete: true,
    extensions: [row({ teamId: '5JZGQTGU4W', bundleId: 'cn.wch.CH34xVCPDriver', shortVersion: '1.0', bundleVersion: '1', name: 'cn.wch.CH34xVCPDriver' })],
  });
});

test('1-E: a blank line after the count', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-1E.txt'));
  assert.equal(list.count, 1);
  assert.equal(list.complete, true);
  assert.deepEqual(list.extensions, [
    row({ category: NETWORK, teamId: 'VBG97UB4TA', bundleId: 'com.objective-see.lulu.extension', shortVersion: '2.3.0', bundleVersion: '2.3.0', name: 'Extension' }),
  ]);
});

test('1-G: three categories with the System Settings suffix, a terminated row starting with two TABs, the count covering it', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-1G.txt'));
  assert.deepEqual(list, { count: 6, complete: true, extensions: ROWS_1G });
});

test('1-G with TABs expanded to spaces: same rows (the terminated row starts with spaces and has no stars)', () => {
  assert.deepEqual(parseSystemExtensionsList(expandTabs(fixture('sysext-list-1G.txt'))), { count: 6, complete: true, extensions: ROWS_1G });
});

test('1-G with whitespace collapsed and the block indented: same rows', () => {
  const text = collapseWhitespace(fixture('sysext-list-1G.txt'))
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n');
  assert.deepEqual(parseSystemExtensionsList(text), { count: 6, complete: true, extensions: ROWS_1G });
});

test('1-I: lines trimmed to bundle (version) [state], no count: same bundle twice, teamId empty', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-1I.txt'));
  assert.equal(list.count, null);
  assert.equal(list.complete, true);
  assert.deepEqual(list.extensions, [
    row({ category: '', enabled: false, active: false, bundleId: 'io.tailscale.ipn.macsys.network-extension', shortVersion: '1.98.9', bundleVersion: '101.98.9', state: 'terminating for uninstall' }),
    row({ category: '', enabled: false, active: false, bundleId: 'io.tailscale.ipn.macsys.network-extension', shortVersion: '1.102.3', bundleVersion: '101.102.3', state: 'activated waiting to upgrade' }),
  ]);
  assert.deepEqual(findExtensionRows(list, { bundleId: 'io.tailscale.ipn.macsys.network-extension', version: '1.102.3' }).map((r) => r.state), ['activated waiting to upgrade']);
});

test('1-L: one space-separated line without flags or count', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-1L.txt'));
  assert.deepEqual(list, {
    count: null,
    complete: true,
    extensions: [row({ category: '', enabled: false, active: false, teamId: 'VBG97UB4TA', bundleId: 'com.objective-see.lulu.extension', shortVersion: '4.4.0', bundleVersion: '4.4.0', name: 'LuLu', state: 'activated waiting for user' })],
  });
});

test('1-N: two ES rows of one team, a 10-digit bundle version', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-1N.txt'));
  assert.equal(list.count, 2);
  assert.equal(list.complete, true);
  assert.deepEqual(list.extensions.map((r) => [r.category, r.teamId, r.bundleId, r.shortVersion, r.bundleVersion, r.name]), [
    [ES, 'WCKWMMKJ35', 'ai.canyonroad.agentsh.SysExt', '1.0', '14', 'ai.canyonroad.agentsh.SysExt'],
    [ES, 'WCKWMMKJ35', 'ai.canyonroad.beacon.sysext', '0.1.0', '1781653639', 'Beacon System Extension'],
  ]);
});

test('1-O: whitespace collapsed, usage text before the listing, version 5.1.5-20/1', () => {
  assert.deepEqual(parseSystemExtensionsList(fixture('sysext-list-1O.txt')), {
    count: 1,
    complete: true,
    extensions: [row({ category: NETWORK, teamId: 'PXPZ95SK77', bundleId: 'com.paloaltonetworks.GlobalProtect.client.extension', shortVersion: '5.1.5-20', bundleVersion: '1', name: 'GlobalProtectExtension' })],
  });
});

test('ad hoc team "-", blank enabled column, [activated disabled] (1-H behaviour)', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-built-adhoc-disabled.txt'));
  assert.deepEqual(list, {
    count: 1,
    complete: true,
    extensions: [row({ enabled: false, active: true, teamId: '-', bundleId: 'com.example.echo.driver', shortVersion: '1.0.0', bundleVersion: '10', name: 'EchoDriver', state: 'activated disabled' })],
  });
  // Collapsed: the lone star is read as active (the only one-star pair seen).
  const collapsed = parseSystemExtensionsList(collapseWhitespace(fixture('sysext-list-built-adhoc-disabled.txt')));
  assert.deepEqual(collapsed.extensions, list.extensions);
});

test('name "-" and [validating by category] (1-J behaviour)', () => {
  const [only] = parseSystemExtensionsList(fixture('sysext-list-built-dash-name.txt')).extensions;
  assert.equal(only?.name, '-');
  assert.equal(only?.teamId, 'ABCDE12345');
  assert.equal(only?.state, 'validating by category');
  assert.equal(only?.enabled, false);
  assert.equal(only?.active, true);
});

test('0 extension(s) (1-M behaviour): complete and empty', () => {
  assert.deepEqual(parseSystemExtensionsList(fixture('sysext-list-built-zero.txt')), { count: 0, complete: true, extensions: [] });
});

test('abort after a category header (1-C behaviour): complete false', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-built-abort.txt'));
  assert.deepEqual(list, { count: 1, complete: false, extensions: [] });
  // Even without the stderr line and with no count, a header with nothing after it is incomplete.
  assert.equal(parseSystemExtensionsList('--- com.apple.system_extension.driver_extension\n').complete, false);
  assert.equal(parseSystemExtensionsList(`--- ${DRIVER}\nenabled\tactive\tteamID\tbundleID (version)\tname\t[state]\n`).complete, false);
});

test('output cut in the middle of a row: complete false, whole rows kept', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-built-cut-row.txt'));
  assert.equal(list.count, 2);
  assert.equal(list.complete, false);
  assert.deepEqual(list.extensions.map((r) => r.bundleId), ['org.pqrs.Karabiner-DriverKit-VirtualHIDDevice']);
  // Cut where no count is there to compare with: the partial last row alone says so.
  const noCount = fixture('sysext-list-built-cut-row.txt').replace('2 extension(s)\n', '');
  assert.equal(parseSystemExtensionsList(noCount).complete, false);
});

test('fewer rows than the count: complete false', () => {
  const text = fixture('sysext-list-1G.txt').split('\n').slice(0, 8).join('\n') + '\n';
  const list = parseSystemExtensionsList(text);
  assert.equal(list.count, 6);
  assert.equal(list.extensions.length, 3);
  assert.equal(list.complete, false);
});

test('duplicate bundle rows (1-D/1-F behaviour): findExtensionRows picks by version', () => {
  const list = parseSystemExtensionsList(fixture('sysext-list-built-duplicates.txt'));
  assert.equal(list.complete, true);
  assert.deepEqual(list.extensions.map((r) => [r.enabled, r.active, r.shortVersion, r.state]), [
    [true, true, '2.4.0', 'activated enabled'],
    [false, false, '2.3.0', 'terminated waiting to uninstall on reboot'],
    [false, true, '2.4.1', 'activated waiting for user'],
  ]);
  const bundleId = 'com.objective-see.lulu.extension';
  assert.equal(findExtensionRows(list, { bundleId }).length, 3);
  assert.deepEqual(findExtensionRows(list, { bundleId, version: '2.3.0' }).map((r) => r.state), ['terminated waiting to uninstall on reboot']);
  assert.deepEqual(findExtensionRows(list, { bundleId, version: '2.4.1/2.4.1' }).map((r) => r.state), ['activated waiting for user']);
  assert.deepEqual(findExtensionRows(list, { bundleId, version: '2.4.1/9' }), []);
  assert.deepEqual(findExtensionRows(list, { bundleId: 'com.other' }), []);
  // Space-converted copy (1-F): the terminated row keeps no stars, the waiting row one.
  const spaced = parseSystemExtensionsList(expandTabs(fixture('sysext-list-built-duplicates.txt')));
  assert.deepEqual(spaced.extensions, list.extensions);
});

test('state glued to the name, a version without a slash, CRLF line ends', () => {
  const text = `1 extension(s)\r\n--- ${DRIVER}\r\n*\t*\tABCDE12345\tcom.example.a (1.0)\tMy Driver[activated enabled]\r\n`;
  assert.deepEqual(parseSystemExtensionsList(text).extensions, [
    row({ teamId: 'ABCDE12345', bundleId: 'com.example.a', shortVersion: '1.0', bundleVersion: '1.0', name: 'My Driver' }),
  ]);
  assert.equal(findExtensionRows(parseSystemExtensionsList(text), { bundleId: 'com.example.a', version: '1.0' }).length, 1);
});

test('text with nothing recognisable: count null, incomplete, no rows', () => {
  assert.deepEqual(parseSystemExtensionsList(''), { count: null, complete: false, extensions: [] });
  assert.deepEqual(parseSystemExtensionsList('zsh: command not found: systemextensionsctl\n'), { count: null, complete: false, extensions: [] });
});
