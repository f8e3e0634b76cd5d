// The Cambrionix driver's pure parts and its place in a rig: `state` parsing (tolerant, as the
// manual asks), the hubs[] schema's cambrionix entry, the refusal over ssh, and the locationID of
// a device behind it. The serial protocol itself: test/integration/power/cambrionix.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHubDriver, parseCambrionixState } from '../../../harness/power/index.ts';
import { connectRig } from '../../../harness/rig/connect.ts';
import { rigDeviceLocation } from '../../../harness/rig/device-state.ts';
import type { CambrionixHubSpec } from '../../../harness/rig/types.ts';
import { locationIdAt } from '../../../harness/rig/usb-location.ts';
import { loadRig } from '../../../harness/scenario/index.ts';
import { hubRigFiles } from '../../support/hub-rig-file.ts';
import { FakeExec } from '../host/fake-exec.ts';
import { simRig } from '../rig/rig-fixtures.ts';

const CAMBRIONIX: CambrionixHubSpec = { id: 'cbrx', driver: 'cambrionix', serial: '/dev/cu.usbserial-DN004ABC', ports: 8 };
const { rigFile, issues } = hubRigFiles('cbrx');

test('rig: a cambrionix hub has serial and ports, and may have a location; its devices get a locationID from it', () => {
  const withLocation = loadRig(rigFile('located', 'local', '{ id: cbrx, driver: cambrionix, serial: /dev/cu.usbserial-DN004ABC, ports: 8, location: "2-1" }'), { env: {} });
  assert.deepEqual(withLocation.hubs, [{ id: 'cbrx', driver: 'cambrionix', serial: '/dev/cu.usbserial-DN004ABC', ports: 8, location: '2-1' }]);
  assert.equal(rigDeviceLocation(withLocation, withLocation.devices[0]!), locationIdAt('2-1', 2));
  assert.equal(rigDeviceLocation(withLocation, withLocation.devices[0]!), 0x02120000n);
  const without = loadRig(rigFile('unlocated', 'local', '{ id: cbrx, driver: cambrionix, serial: /dev/cu.usbserial-DN004ABC, ports: 8 }'), { env: {} });
  assert.deepEqual(without.hubs, [{ id: 'cbrx', driver: 'cambrionix', serial: '/dev/cu.usbserial-DN004ABC', ports: 8 }]);
  assert.equal(rigDeviceLocation(without, without.devices[0]!), undefined, 'found by VID/PID and serial alone');
});

test('rig: a misspelt driver, a missing ports, a relative serial, a misspelt key and a port beyond the hub are one line each', () => {
  assert.deepEqual(issues(rigFile('typo', 'local', '{ id: cbrx, driver: cambrionx, serial: /dev/x, ports: 8 }')), [
    'typo.yaml:4:25: hubs[0].driver: expected a hub driver: uhubctl, cambrionix, gadget or ykush, got "cambrionx"; did you mean \'cambrionix\'?',
  ]);
  assert.deepEqual(issues(rigFile('bad', 'local', '{ id: cbrx, driver: cambrionix, serial: dev/x, port: 8 }', 9)), [
    'bad.yaml:4:5: hubs[0]: missing required key "ports"',
    'bad.yaml:4:45: hubs[0].serial: expected the hub\'s serial device, an absolute path like /dev/cu.usbserial-DN004ABC, got "dev/x"',
    'bad.yaml:4:52: hubs[0]: unknown key "port"; did you mean \'ports\'?',
  ]);
  assert.deepEqual(issues(rigFile('beyond', 'local', '{ id: cbrx, driver: cambrionix, serial: /dev/x, ports: 4 }', 5)), [
    'beyond.yaml:6:36: devices.echo.port.port: hub cbrx has 4 ports, got port 5',
  ]);
});

test('rig: a cambrionix hub behind ssh, or on the simulated Mac, is refused at its driver', () => {
  assert.deepEqual(issues(rigFile('ssh', '{ ssh: ci@mac-mini }', '{ id: cbrx, driver: cambrionix, serial: /dev/x, ports: 8 }')), [
    'ssh.yaml:4:25: hubs[0].driver: a cambrionix hub is driven through its serial port, which only the machine it is plugged into can open, ' +
      'and this rig\'s Mac is reached over ssh; run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)',
  ]);
  assert.deepEqual(issues(rigFile('sim', 'sim\nsim: {}', '{ id: cbrx, driver: cambrionix, serial: /dev/x, ports: 8 }')), [
    'sim.yaml:5:25: hubs[0].driver: the simulated Mac\'s hubs are uhubctl hubs, got cambrionix; use driver: uhubctl with a location',
  ]);
});
