import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dextbench, scratchDir } from '../../support/cli.ts';

test('rig status / plug / unplug and sysext list on the simulated Mac keep one Mac state between commands', async () => {
  const cwd = scratchDir();
  const before = await dextbench(['rig', 'status'], { cwd });
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, /rig sim \(.*rigs\/sim\.yaml\) on simulated Mac/);
  assert.match(before.stdout, /port 2 {2}off {2}echo {2}not enumerated/);

  const plug = await dextbench(['rig', 'plug', 'echo'], { cwd });
  assert.equal(plug.code, 0, plug.stderr);
  assert.match(plug.stdout, /^echo: plugged, enumerated as "Loopback" id 0x[0-9a-f]+, no dext service after \d+ ms$/m);

  const after = await dextbench(['rig', 'status', 'echo'], { cwd });
  assert.match(after.stdout, /port 2 {2}on {3}echo {2}enumerated as "Loopback"/);

  const sysext = await dextbench(['sysext', 'list', '--json'], { cwd });
  assert.equal(sysext.code, 0, sysext.stderr);
  const list = JSON.parse(sysext.stdout);
  assert.equal(list.complete, true);
  assert.deepEqual(list.extensions, []);

  const cycle = await dextbench(['rig', 'cycle', 'echo', '--off', '200ms'], { cwd });
  assert.equal(cycle.code, 0, cycle.stderr);
  assert.match(cycle.stdout, /^echo: unplugged \(hub1 port 2 off\)\necho: plugged, enumerated as "Loopback"/m);

  const unplug = await dextbench(['rig', 'unplug', 'echo'], { cwd });
  assert.equal(unplug.code, 0, unplug.stderr);
  assert.match(unplug.stdout, /^echo: unplugged \(hub1 port 2 off\)$/m);
});

test('hands-on commands: clear one-line errors', async () => {
  const cwd = scratchDir();
  const unknown = await dextbench(['rig', 'plug', 'nope'], { cwd });
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr.trim(), 'dextbench: rig "sim" has no device "nope" (it has: echo)');
  const usage = await dextbench(['rig', 'wiggle'], { cwd });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr.trim(), /^dextbench: usage: dextbench rig status\|plug\|unplug\|cycle/);
  const command = await dextbench(['runn'], { cwd });
  assert.equal(command.code, 2);
  assert.equal(command.stderr.trim(), 'dextbench: unknown command "runn"; run dextbench --help for the commands');
  const rig = await dextbench(['sysext', 'list', '--rig', 'missing.yaml'], { cwd });
  assert.equal(rig.code, 1);
  assert.equal(rig.stderr.trim().split('\n').length, 1, rig.stderr);
  assert.ok(!/\n\s+at /.test(rig.stderr));
});
