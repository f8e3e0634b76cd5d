import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDeviceProfile, loadRig } from '../../../harness/scenario/index.ts';
import { fixture, issueLines } from './support.ts';

test('rig: paths resolve against the rig file; vars resolve from --var > env > the rig\'s own vars', () => {
  const rig = loadRig(fixture('rigs/good.yaml'), { env: {} });
  assert.deepEqual(rig.host, { kind: 'ssh', ssh: { ssh: 'ci@mac-mini.lan', port: 2222 } });
  assert.deepEqual(rig.signing, { identity: 'Apple Development: Jane (ABCDE12345)', team: 'ABCDE12345' });
  assert.deepEqual(rig.activator, { command: ['dextbench-activator'] });
  assert.deepEqual(rig.privileged, { sudo: false });
  assert.deepEqual(rig.hubs, [{ id: 'hub1', driver: 'uhubctl', location: '1-1', ports: 4 }]);
  assert.deepEqual(rig.vars, { BUILD: fixture('build'), NAME: 'plain text', ABSOLUTE: '/opt/builds/x.dext' });
  assert.deepEqual(rig.extensions, { 'echo-driver': { bundle: 'com.example.echo.driver', dext: fixture('build/EchoDriver.dext') } });
  assert.equal(rig.reservation.ttlMs, 2 * 3_600_000);
  assert.equal(rig.devices.length, 1);
  const [echo] = rig.devices;
  assert.equal(echo!.role, 'echo');
  assert.deepEqual(echo!.port, { hub: 'hub1', port: 2 });
  assert.equal(echo!.profile.file, fixture('devices/good.yaml'));
  assert.equal(echo!.profile.proto, fixture('devices/echo.proto'));

  const overridden = loadRig(fixture('rigs/good.yaml'), { vars: { BUILD: '/from/var' }, env: { BUILD: '/from/env' } });
  assert.equal(overridden.extensions['echo-driver']!.dext, '/from/var/EchoDriver.dext');
  const fromEnv = loadRig(fixture('rigs/good.yaml'), { env: { BUILD: '/from/env' } });
  assert.equal(fromEnv.extensions['echo-driver']!.dext, '/from/env/EchoDriver.dext');
});

test('rig: host sim gets the simulated Mac\'s settings with defaults', () => {
  const rig = loadRig(fixture('rigs/sim.yaml'), { env: {} });
  assert.deepEqual(rig.host, {
    kind: 'sim',
    sim: {
      sip: 'disabled', developerMode: false, teamId: 'DXTBNCH001',
      macos: { productName: 'macOS', productVersion: '15.5', buildVersion: '24F74' },
      approvedTeams: [], approvedExtensions: { DXTBNCH001: ['com.example.echo.driver'] },
      dextServer: 'auto',
    },
  });
  assert.deepEqual(rig.reservation, { ttlMs: 2 * 60_000, waitMs: 30 * 60_000 });
  assert.deepEqual(rig.signing, { identity: '-' });
});

test('rig: unknown hub id (with did-you-mean), port beyond the hub, two devices on one port', () => {
  assert.deepEqual(issueLines(() => loadRig(fixture('rigs/unknown-hub.yaml'), { env: {} })), [
    'rigs/unknown-hub.yaml:6:55: devices.echo.port.hub: unknown hub "hbu1"; did you mean \'hub1\'?',
    'rigs/unknown-hub.yaml:7:68: devices.other.port.port: hub hub1 has 4 ports, got port 5',
    'rigs/unknown-hub.yaml:9:50: devices.fourth.port: third is already on hub hub1 port 1; give each device its own port',
  ]);
});

test('rig: a device profile\'s errors are reported in the profile file; a missing profile at the rig\'s line', () => {
  assert.deepEqual(issueLines(() => loadRig(fixture('rigs/bad-profile.yaml'), { env: {} })), [
    'devices/bad.yaml:3:13: usb.vendorId: expected a 16-bit vendor id like 0x1d6b (0 to 0xffff), got 131071',
    'devices/bad.yaml:5:10: usb.speed: expected one of low, full, high, super, got "fast"',
    `rigs/bad-profile.yaml:6:20: devices.gone.profile: device profile "../devices/missing.yaml" not found (looked for ${fixture('devices/missing.yaml')})`,
  ]);
});

test('rig: host must be local, sim or ssh; sim: settings need host: sim', () => {
  assert.deepEqual(issueLines(() => loadRig(fixture('rigs/sim-mismatch.yaml'), { env: {} })), [
    'rigs/sim-mismatch.yaml:2:7: host: expected local, sim or { ssh: user@host }, got "locl"; did you mean \'local\'?',
  ]);
  assert.deepEqual(issueLines(() => loadRig(fixture('rigs/no-sim.yaml'), { env: {} })), [
    'rigs/no-sim.yaml:3:1: rig: unknown key "sim2"; did you mean \'sim\'?',
  ]);
});

test('device profile: hex numbers from YAML, paths relative to the profile', () => {
  const profile = loadDeviceProfile(fixture('devices/good.yaml'));
  assert.deepEqual(profile.usb, { vendorId: 0x1d6b, productId: 0x0104, product: 'Loopback', speed: 'high' });
  assert.deepEqual(profile.interfaces, [{ number: 0, class: 0xff, endpoints: [{ address: 0x81, type: 'bulk' }, { address: 0x01, type: 'bulk' }] }]);
  assert.deepEqual(profile.driver, { bundle: 'com.example.echo.driver', userClass: 'EchoDriver' });
  assert.deepEqual(profile.emulation, { sim: { model: 'loopback' } });
  assert.equal(profile.name, 'good');
});

test('rig: an ssh host resolves its key files against the rig file; with sim: it is the simulated Mac over a loopback sshd', () => {
  const rig = loadRig(fixture('rigs/ssh-files.yaml'), { env: {} });
  assert.equal(rig.host.kind, 'sim');
  assert.deepEqual(rig.host.kind === 'sim' && rig.host.ssh, {
    ssh: '127.0.0.1', port: 2722, identityFile: fixture('rigs/keys/id_ed25519'),
    options: [`UserKnownHostsFile=${fixture('known_hosts')}`, 'IdentityAgent ~/agent.sock', 'SetEnv=SHLVL=1'],
  });
  assert.deepEqual(issueLines(() => loadRig(fixture('rigs/ssh-sim-remote.yaml'), { env: {} })), [
    'rigs/ssh-sim-remote.yaml:3:8: host.ssh: a simulated Mac runs on this machine, so it is reached over 127.0.0.1 or localhost, got ci@mac-mini.lan; use ssh: 127.0.0.1 (start the sshd with npm run sim:sshd), or remove sim: for a real Mac',
  ]);
  assert.deepEqual(issueLines(() => loadRig(fixture('rigs/ssh-bad-option.yaml'), { env: {} })), [
    'rigs/ssh-bad-option.yaml:4:48: host.options[1]: expected an ssh option as Key=Value (e.g. StrictHostKeyChecking=accept-new), got "nonsense"',
  ]);
});
