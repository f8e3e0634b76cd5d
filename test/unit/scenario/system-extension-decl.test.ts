// ES/NE declarations (contract §1): systemExtension: resolved against the file, config: kept as
// written (big integers exact), one build per extension, and the simulated Mac's tcc,
// webContentFilter and network settings with their defaults.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { simConfigFor } from '../../../harness/rig/sim-launcher.ts';
import { extensionsOnRig, loadRig, loadScenario } from '../../../harness/scenario/index.ts';
import { tempDir } from '../../support/temp.ts';
import { issueLines } from '../../support/validation.ts';
import { testSteps } from './registry.ts';

const dir = tempDir('dextbench-sysext-decl-');
function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
const issues = (load: () => unknown): string[] => issueLines(load, dir);

const SIM_RIG = `name: es-ne
host: sim
sim: {}
extensions:
  execguard:
    systemExtension: ../builds/ExecGuard-1.0.0.systemextension
    bundle: com.example.execguard
    config: { denyExec: [/usr/bin/nc], denySigningIds: [], generation: 9007199254740993 }
  flowgate: { systemExtension: ./FlowGate.systemextension, bundle: com.example.flowgate }
  echo-driver: { dext: /opt/Echo.dext, bundle: com.example.echo.driver }
`;

test('rig: systemExtension resolves against the rig file and config stays as written, big integers exact', () => {
  const rig = loadRig(write('es-ne.yaml', SIM_RIG), { env: {} });
  assert.deepEqual(rig.extensions['execguard'], {
    bundle: 'com.example.execguard',
    systemExtension: join(dir, '..', 'builds', 'ExecGuard-1.0.0.systemextension'),
    config: { denyExec: ['/usr/bin/nc'], denySigningIds: [], generation: 9007199254740993n },
  });
  assert.deepEqual(rig.extensions['flowgate'], { bundle: 'com.example.flowgate', systemExtension: join(dir, 'FlowGate.systemextension') });
});

test('rig sim: by default eslogger and the rig\'s system extensions have Full Disk Access and filter approval; the network of contract §6', () => {
  const rig = loadRig(write('defaults.yaml', SIM_RIG), { env: {} });
  assert.equal(rig.host.kind, 'sim');
  const config = simConfigFor(rig);
  assert.deepEqual(config['tcc'], { fullDiskAccess: ['eslogger', 'com.example.execguard', 'com.example.flowgate'] });
  assert.deepEqual(config['webContentFilter'], ['com.example.execguard', 'com.example.flowgate']);
  assert.deepEqual(config['network'], {
    hosts: { 'allowed.example': '192.0.2.10', 'blocked.example': '192.0.2.20' },
    listening: ['192.0.2.10:443/tcp', '192.0.2.20:443/tcp', '192.0.2.10:80/tcp', '192.0.2.20:80/tcp', '192.0.2.53:53/udp'],
    dnsServer: '192.0.2.53',
  });
});

test('rig sim: grants written in the rig are exactly those (an empty list grants nothing)', () => {
  const rig = loadRig(write('grants.yaml', SIM_RIG.replace('sim: {}', `sim:
  tcc: { fullDiskAccess: [] }
  webContentFilter: [com.example.other]
  network: { hosts: { a.example: 10.0.0.1 }, listening: [10.0.0.1:22/tcp] }`)), { env: {} });
  const config = simConfigFor(rig);
  assert.deepEqual(config['tcc'], { fullDiskAccess: [] });
  assert.deepEqual(config['webContentFilter'], ['com.example.other']);
  assert.deepEqual(config['network'], { hosts: { 'a.example': '10.0.0.1' }, listening: ['10.0.0.1:22/tcp'], dnsServer: '192.0.2.53' });
});

test('rig: two builds for one extension, a config that is not a map, a bad socket: one line each at file:line:column', () => {
  const file = write('bad.yaml', `name: bad
host: sim
sim:
  network: { listening: [192.0.2.10:443] }
extensions:
  both: { systemExtension: ./A.systemextension, dext: ./A.dext, bundle: com.example.a }
  listy: { systemExtension: ./B.systemextension, bundle: com.example.b, config: [1, 2] }
`);
  assert.deepEqual(issues(() => loadRig(file, { env: {} })), [
    'bad.yaml:4:26: sim.network.listening[0]: expected ip:port/tcp or ip:port/udp like 192.0.2.10:443/tcp, got "192.0.2.10:443"',
    'bad.yaml:6:28: extensions.both.systemExtension: give one of dext:, app: or systemExtension:, not dext and systemExtension, got "./A.systemextension"',
    'bad.yaml:7:81: extensions.listy.config: expected a map of settings, got a list',
  ]);
});

test('scenario: systemExtension and config; without a build it must be the rig\'s, and then only overrides what it says', () => {
  const file = write('scenario.yaml', `name: es
uses:
  extensions:
    execguard: { bundle: com.example.execguard, config: { denyExec: [/usr/bin/true] } }
    upgrade: { systemExtension: ../builds/ExecGuard-1.1.0.systemextension, bundle: com.example.execguard }
steps:
  - wait: 1ms
`);
  const rig = loadRig(write('rig-for-scenario.yaml', SIM_RIG), { env: {} });
  const scenario = loadScenario(file, { steps: testSteps, env: {}, rigExtensions: rig.extensions });
  assert.deepEqual(scenario.uses.extensions['upgrade'], { bundle: 'com.example.execguard', systemExtension: join(dir, '..', 'builds', 'ExecGuard-1.1.0.systemextension') });
  const merged = extensionsOnRig(rig.extensions, scenario.uses.extensions);
  assert.deepEqual(merged['execguard'], {
    bundle: 'com.example.execguard', systemExtension: join(dir, '..', 'builds', 'ExecGuard-1.0.0.systemextension'),
    config: { denyExec: ['/usr/bin/true'] },
  });
  assert.equal(merged['flowgate'], rig.extensions['flowgate']);
  assert.equal(merged['upgrade'], scenario.uses.extensions['upgrade']);

  assert.deepEqual(issues(() => loadScenario(file, { steps: testSteps, env: {}, rigExtensions: {} })), [
    'scenario.yaml:4:16: uses.extensions.execguard: give dext:, app: or systemExtension: (the rig declares no extension "execguard")',
  ]);
});
