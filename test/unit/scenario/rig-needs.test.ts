// Which rigs a scenario can run on: its device roles, and the extensions it takes from the rig
// (declared without a build of its own). A name no rig has is one line at its entry, never a
// scenario that quietly runs nowhere.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { borrowedExtensions, loadRig, loadScenario, rigsWithNeeds } from '../../../harness/scenario/index.ts';
import { tempDir } from '../../support/temp.ts';
import { issueLines } from '../../support/validation.ts';
import { testSteps } from './registry.ts';

const dir = tempDir('dextbench-rig-needs-');
function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}
const issues = (load: () => unknown): string[] => issueLines(load, dir);

const rig = (name: string, devices: string[], extensions: string) => loadRig(write(`${name}.yaml`, `name: ${name}
host: sim
sim: {}
hubs:
  - { id: hub1, driver: uhubctl, location: "1-1", ports: 4 }
devices:
${devices.map((role, i) => `  ${role}: { profile: ${join(import.meta.dirname, '../../../devices/echo.yaml')}, port: { hub: hub1, port: ${i + 2} } }`).join('\n') || '  {}'}
extensions:
${extensions}
`), { env: {} });

const guard = rig('guard', ['echo'], '  execguard: { systemExtension: /b/ExecGuard.systemextension, bundle: com.example.execguard }');
const twoEcho = rig('two-echo', ['echo-a', 'echo-b'], '  echo-driver: { dext: /b/Echo.dext, bundle: com.example.echo.driver }');

const scenario = (name: string, uses: string) => write(`${name}.yaml`, `name: ${name}
uses:
${uses}
steps:
  - wait: 10ms
`);

test('borrowedExtensions: the ones without dext:, app: or systemExtension:, parsed or as written', () => {
  assert.deepEqual(borrowedExtensions({
    execguard: { bundle: 'com.example.execguard', config: { denyExec: ['/usr/bin/nc'] } },
    own: { bundle: 'com.example.own', systemExtension: '/b/Own.systemextension' },
    dext: { bundle: 'com.example.d', dext: '/b/D.dext' },
    app: { bundle: 'com.example.a', app: '/b/A.app' },
    bad: 'not a map',
  }), ['execguard']);
});

test('rigsWithNeeds: every role and every borrowed extension on the same rig', () => {
  const names = (needs: Parameters<typeof rigsWithNeeds>[0]) => rigsWithNeeds(needs, [guard, twoEcho]).map((r) => r.name);
  assert.deepEqual(names({ roles: [], extensions: [] }), ['guard', 'two-echo']);
  assert.deepEqual(names({ roles: [], extensions: ['execguard'] }), ['guard']);
  assert.deepEqual(names({ roles: ['echo'], extensions: ['execguard'] }), ['guard']);
  assert.deepEqual(names({ roles: ['echo-a'], extensions: ['execguard'] }), []);
  assert.deepEqual(names({ roles: [], extensions: ['echo-driver', 'execguard'] }), []);
  assert.deepEqual(names({ roles: [], extensions: ['toString'] }), [], 'only the rig\'s own keys count');
});

test('loadScenario with rigs: a borrowed extension no rig declares is one line at its entry, naming the rigs\' extensions and a likely fix', () => {
  const file = scenario('typo', '  extensions:\n    execgaurd: { bundle: com.example.execguard }');
  assert.deepEqual(issues(() => loadScenario(file, { steps: testSteps, env: {}, rigs: [guard, twoEcho] })), [
    'typo.yaml:4:16: uses.extensions.execgaurd: no rig declares an extension "execgaurd" (guard: execguard; two-echo: echo-driver); did you mean \'execguard\'?',
  ]);
  assert.deepEqual(issues(() => loadScenario(file, { steps: testSteps, env: {}, rigs: [twoEcho] })), [
    `typo.yaml:4:16: uses.extensions.execgaurd: rig two-echo (${relative(process.cwd(), twoEcho.file)}) declares no extension "execgaurd"; its extensions: echo-driver; declare it in the rig, or give its dext:, app: or systemExtension: here`,
  ]);
  // One of the run's rigs has it: the scenario loads, and runs only there.
  const borrows = scenario('borrows', '  extensions:\n    execguard: { bundle: com.example.execguard, config: { denyExec: [/usr/bin/nc] } }');
  const loaded = loadScenario(borrows, { steps: testSteps, env: {}, rigs: [guard, twoEcho] });
  assert.deepEqual(rigsWithNeeds({ roles: loaded.uses.devices, extensions: borrowedExtensions(loaded.uses.extensions) }, [guard, twoEcho]).map((r) => r.name), ['guard']);
  // With a build of its own it needs nothing of the rig.
  const own = scenario('own', '  extensions:\n    mine: { systemExtension: /b/Mine.systemextension, bundle: com.example.mine }');
  assert.equal(loadScenario(own, { steps: testSteps, env: {}, rigs: [twoEcho] }).name, 'own');
});

test('loadScenario with rigs: the devices on one rig and the extension on another is one line naming what each rig has', () => {
  const file = scenario('split', '  devices: [echo-a]\n  extensions:\n    execguard: { bundle: com.example.execguard }');
  assert.deepEqual(issues(() => loadScenario(file, { steps: testSteps, env: {}, rigs: [guard, twoEcho] })), [
    'split.yaml:3:3: uses: no one rig has the devices echo-a and the extensions execguard (guard: devices echo, extensions execguard; two-echo: devices echo-a, echo-b, extensions echo-driver)',
  ]);
});
