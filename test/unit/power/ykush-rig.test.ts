// A YKUSH in a rig file: hubs[] with driver: ykush (serial, ports and location optional), its
// devices' locationIDs, one line per mistake, and the refusal on the simulated Mac and over ssh
// (its control interface enumerates only on the machine its upstream port is plugged into).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRig, describeHub } from '../../../harness/rig/connect.ts';
import { rigDeviceLocation } from '../../../harness/rig/device-state.ts';
import type { YkushHubSpec } from '../../../harness/rig/types.ts';
import { loadRig } from '../../../harness/scenario/index.ts';
import { hubRigFiles } from '../../support/hub-rig-file.ts';
import { FakeExec } from '../host/fake-exec.ts';
import { simRig } from '../rig/rig-fixtures.ts';

const { rigFile, issues } = hubRigFiles('yk');

test('rig: a ykush hub on a local Mac needs only its id; serial, ports and location are kept when given, and the location gives locationIDs', () => {
  const bare = loadRig(rigFile('bare', 'local', '{ id: yk, driver: ykush }'), { env: {} });
  assert.deepEqual(bare.hubs, [{ id: 'yk', driver: 'ykush' }]);
  assert.equal(rigDeviceLocation(bare, bare.devices[0]!), undefined, 'found by VID/PID and serial alone');
  const full = loadRig(rigFile('full', 'local', '{ id: yk, driver: ykush, serial: YK20001, ports: 3, location: "1-1.2" }'), { env: {} });
  assert.deepEqual(full.hubs, [{ id: 'yk', driver: 'ykush', serial: 'YK20001', ports: 3, location: '1-1.2' }]);
  assert.equal(rigDeviceLocation(full, full.devices[0]!), 0x01122000n, 'bus 1, ports 1.2, then the YKUSH port 2');
});

test('rig: a misspelt driver, a serial with spaces, a port count the YKUSH cannot have, and a port beyond the declared ones are one line each', () => {
  assert.deepEqual(issues(rigFile('typo', 'local', '{ id: yk, driver: ykusb }')), [
    'typo.yaml:4:23: hubs[0].driver: expected a hub driver: uhubctl, cambrionix, gadget or ykush, got "ykusb"; did you mean \'ykush\'?',
  ]);
  assert.deepEqual(issues(rigFile('bad', 'local', '{ id: yk, driver: ykush, serial: "YK 1", ports: 4 }')), [
    'bad.yaml:4:38: hubs[0].serial: expected the YKUSH\'s USB serial string, like YK20001, got "YK 1"',
    'bad.yaml:4:53: hubs[0].ports: expected a number <= 3, got 4',
  ]);
  assert.deepEqual(issues(rigFile('beyond', 'local', '{ id: yk, driver: ykush, ports: 1 }', 2)), [
    'beyond.yaml:6:34: devices.echo.port.port: hub yk has 1 ports, got port 2',
  ]);
});

test('rig: a ykush hub on the simulated Mac, or behind ssh, is refused at its driver with the fix', () => {
  assert.deepEqual(issues(rigFile('sim', 'sim\nsim: {}', '{ id: yk, driver: ykush }')), [
    'sim.yaml:5:23: hubs[0].driver: the simulated Mac\'s hubs are uhubctl hubs, got ykush; use driver: uhubctl with a location',
  ]);
  assert.deepEqual(issues(rigFile('ssh', '{ ssh: ci@mac-mini }', '{ id: yk, driver: ykush, serial: YK20001 }')), [
    'ssh.yaml:4:23: hubs[0].driver: a ykush hub is driven through its USB control interface, which enumerates only on the machine its upstream port is plugged into, ' +
      'and this rig\'s Mac is reached over ssh; run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)',
  ]);
});

test('connectRig refuses a rig built in code with a YKUSH behind ssh; opens nothing for a local one', async () => {
  const YKUSH: YkushHubSpec = { id: 'yk', driver: 'ykush' };
  const overSsh = simRig({ host: { kind: 'ssh', ssh: { ssh: 'ci@mac-mini' } }, hubs: [YKUSH], devices: [] });
  assert.throws(() => connectRig(overSsh, { exec: new FakeExec(() => ({})) }), { name: 'HubError', message: /^hub yk: a YKUSH is driven through its USB control interface, .* reached over ssh \(ci@mac-mini\)/ });
  const local = connectRig(simRig({ host: { kind: 'local' }, hubs: [YKUSH], devices: [] }), { exec: new FakeExec(() => ({})) });
  assert.equal(local.hubs.get('yk')?.id, 'yk');
  await local.close();
  // How doctor and `rig status` name it.
  assert.equal(describeHub(YKUSH), 'ykush');
  assert.equal(describeHub({ ...YKUSH, serial: 'YK20001' }), 'ykush YK20001');
});
