import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsrutilStatus, parseSwVers } from '../../../harness/host/parsers/index.ts';
import { expandTabs, fixture } from './fixture.ts';

const CUSTOM_6D = {
  'Apple Internal': false,
  'Kext Signing': true,
  'Filesystem Protections': false,
  'Debugging Restrictions': false,
  'DTrace Restrictions': true,
  'NVRAM Protections': true,
  'BaseSystem Verification': true,
};

test('csrutil 6-A enabled, 6-B disabled behind "# ", 6-C disabled (Apple Internal)', () => {
  assert.deepEqual(parseCsrutilStatus(fixture('csrutil-6A.txt')), { status: 'enabled', configuration: {} });
  assert.deepEqual(parseCsrutilStatus(fixture('csrutil-6B.txt')), { status: 'disabled', configuration: {} });
  assert.deepEqual(parseCsrutilStatus(fixture('csrutil-6C.txt')), { status: 'disabled', qualifier: 'Apple Internal', configuration: {} });
});

test('csrutil 6-D: unknown (Custom Configuration) with the key block, space- or TAB-indented', () => {
  const expected = { status: 'unknown', qualifier: 'Custom Configuration', configuration: CUSTOM_6D };
  assert.deepEqual(parseCsrutilStatus(fixture('csrutil-6D.txt')), expected);
  assert.deepEqual(parseCsrutilStatus(fixture('csrutil-built-6D-tabs.txt')), expected);
});

test('csrutil 6-E: quote markers, no status line, the ten-key set of recent releases', () => {
  assert.deepEqual(parseCsrutilStatus(fixture('csrutil-6E.txt')), {
    status: 'unknown',
    configuration: {
      'Apple Internal': false,
      'Kext Signing': true,
      'Filesystem Protections': true,
      'Debugging Restrictions': false,
      'DTrace Restrictions': true,
      'NVRAM Protections': true,
      'BaseSystem Verification': true,
      'Boot-arg Restrictions': true,
      'Kernel Integrity Protections': true,
      'Authenticated Root Requirement': true,
    },
  });
});

test('csrutil: 10.11 "enabled (Custom Configuration)" and text that is not csrutil output', () => {
  const text = 'System Integrity Protection status: enabled (Custom Configuration).\n\nConfiguration:\n\tApple Internal: disabled\n\tKext Signing: disabled\n';
  assert.deepEqual(parseCsrutilStatus(text), {
    status: 'enabled',
    qualifier: 'Custom Configuration',
    configuration: { 'Apple Internal': false, 'Kext Signing': false },
  });
  assert.throws(() => parseCsrutilStatus('csrutil: command not found\n'), /^Error: not csrutil status output: .*command not found/);
});

test('sw_vers 6-F (spaces), 6-G (one TAB, no patch number), 6-H (two TABs; "sw_vers: " prefix)', () => {
  assert.deepEqual(parseSwVers(fixture('sw-vers-6F.txt')), { productName: 'Mac OS X', productVersion: '10.15.5', buildVersion: '19F101' });
  assert.deepEqual(parseSwVers(fixture('sw-vers-6G.txt')), { productName: 'Mac OS X', productVersion: '10.13', buildVersion: '17A405' });
  assert.deepEqual(parseSwVers(fixture('sw-vers-6H-14.txt')), { productName: 'macOS', productVersion: '14.0', buildVersion: '23A344' });
  assert.deepEqual(parseSwVers(fixture('sw-vers-6H-26.txt')), { productName: 'macOS', productVersion: '26.3', buildVersion: '25D125' });
  assert.deepEqual(parseSwVers(expandTabs(fixture('sw-vers-6H-26.txt'))), { productName: 'macOS', productVersion: '26.3', buildVersion: '25D125' });
});

test('sw_vers 6-I: ProductVersionExtra; lines the grep dropped are empty', () => {
  assert.deepEqual(parseSwVers(fixture('sw-vers-6I.txt')), { productName: '', productVersion: '13.3.1', buildVersion: '', productVersionExtra: '(a)' });
  assert.throws(() => parseSwVers('sw_vers: command not found'), /^Error: not sw_vers output/);
});
