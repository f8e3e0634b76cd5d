// Which kind a declared extension is, from its build's Info.plist: the ES client (ExecGuard) and the
// content filter (FlowGate) samples, a dext, and builds that are neither (or unreadable).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { extensionKind, isEndpointSecurityBuild, isNetworkExtensionBuild, networkExtensionFilters } from '../../../harness/host/tools/endpoint-security.ts';

const ROOT = join(import.meta.dirname, '../../..');
const EXECGUARD = join(ROOT, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension');
const FLOWGATE = join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension');

/** A bare .systemextension whose Info.plist dict holds `body`. */
function build(name: string, body: string): string {
  const bundle = join(mkdtempSync(join(tmpdir(), 'dextbench-kind-')), `${name}.systemextension`);
  mkdirSync(join(bundle, 'Contents'), { recursive: true });
  writeFileSync(join(bundle, 'Contents', 'Info.plist'), `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n` +
    `<key>CFBundleIdentifier</key><string>com.example.${name}</string>\n${body}\n</dict>\n</plist>\n`);
  return bundle;
}

test('the samples: ExecGuard is an ES client, FlowGate a content filter; a declaration without a bare build is a dext', () => {
  assert.deepEqual([isEndpointSecurityBuild(EXECGUARD), isNetworkExtensionBuild(EXECGUARD)], [true, false]);
  assert.deepEqual([isEndpointSecurityBuild(FLOWGATE), isNetworkExtensionBuild(FLOWGATE)], [false, true]);
  assert.equal(extensionKind({ systemExtension: EXECGUARD }), 'es');
  assert.equal(extensionKind({ systemExtension: FLOWGATE }), 'ne-filter');
  assert.equal(extensionKind({}), 'dext');
  const rig = { extensions: { echo: { bundle: 'com.example.echo.driver' }, execguard: { bundle: 'com.example.execguard', systemExtension: EXECGUARD }, flowgate: { bundle: 'com.example.flowgate', systemExtension: FLOWGATE } } };
  assert.deepEqual(networkExtensionFilters(rig), ['com.example.flowgate']);
});

test('NetworkExtension needs an NEProviderClasses dict; a build that says neither, or cannot be read, is approved as a dext', () => {
  const providers = '<key>NetworkExtension</key><dict><key>NEProviderClasses</key><dict><key>com.apple.networkextension.filter-data</key><string>F.P</string></dict></dict>';
  assert.equal(extensionKind({ systemExtension: build('filter', providers) }), 'ne-filter');
  assert.equal(isNetworkExtensionBuild(build('machonly', '<key>NetworkExtension</key><dict><key>NEMachServiceName</key><string>T.x</string></dict>')), false);
  assert.equal(isNetworkExtensionBuild(build('stringclasses', '<key>NetworkExtension</key><dict><key>NEProviderClasses</key><string>x</string></dict>')), false);
  assert.equal(isNetworkExtensionBuild(build('toplevel', '<key>NEProviderClasses</key><dict/>')), false);
  assert.equal(extensionKind({ systemExtension: build('plain', '<key>CFBundleName</key><string>Plain</string>') }), 'dext');
  assert.equal(extensionKind({ systemExtension: join(tmpdir(), 'no-such.systemextension') }), 'dext');
  assert.equal(extensionKind({ systemExtension: build('broken', '<key>unclosed') }), 'dext');
});
