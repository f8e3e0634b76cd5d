import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scenarioLogScope } from '../../../harness/engine/log-targets.ts';
import type { RigDefinition } from '../../../harness/rig/types.ts';
import { loadScenario } from '../../../harness/scenario/index.ts';
import { stepRegistry } from '../../../harness/steps/index.ts';
import { tempDir } from '../../support/temp.ts';

const profile = (bundle: string, userClass: string) => ({ file: '/d.yaml', name: 'd', usb: { vendorId: 1, productId: 2 }, interfaces: [], driver: { bundle, userClass } });
const rig: Pick<RigDefinition, 'extensions' | 'devices'> = {
  extensions: {
    'echo-driver': { bundle: 'com.example.echo.driver', dext: '/e.dext' },
    'echo-beta': { bundle: 'com.example.echo.driver.beta', dext: '/b.dext' },
    'hid-driver': { bundle: 'com.example.hid', dext: '/h.dext' },
  },
  devices: [
    { role: 'echo', profile: profile('com.example.echo.driver', 'EchoDriver'), port: { hub: 'h', port: 1 } },
    { role: 'pad', profile: profile('com.example.pad', 'PadDriver'), port: { hub: 'h', port: 2 } },
  ],
};

function scenario(body: string) {
  const dir = tempDir('dextbench-scope-');
  writeFileSync(join(dir, 's.yaml'), `name: s\n${body}`);
  return loadScenario(join(dir, 's.yaml'), { steps: stepRegistry, env: {} });
}

test('a scenario follows its own extensions, the rig extensions its steps name, and its devices\' drivers with their classes', () => {
  const s = scenario([
    'uses:',
    '  devices: [echo]',
    '  extensions:',
    '    own: { dext: /o.dext, bundle: com.example.own }',
    'steps:',
    '  - sysext.activate: hid-driver',
    '  - run: { argv: [echo, echo-beta, com.example.echo.driver.beta] }',
    '  - sysext.expect: { bundle: com.example.echo.driver, state: activated enabled, within: 1s }',
  ].join('\n'));
  assert.deepEqual(scenarioLogScope(s, rig), {
    targets: [
      { bundle: 'com.example.own' },
      { bundle: 'com.example.echo.driver', userClasses: ['EchoDriver'] },
      { bundle: 'com.example.hid' },
    ],
    // Strings in a run step's argv do not name extensions.
    others: ['com.example.echo.driver.beta', 'com.example.pad'],
  });
});
