// plug and replug on a simulated Mac whose hub port powers the device but the device never
// enumerates (timing.enumerateMs far past the step's deadline, as a dead port or cable looks):
// the failure is the rig's (infrastructure), not the driver's, which plays no part before the
// device enumerates. A device that does enumerate plugs as usual.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { classifyFailure } from '../../../harness/engine/failure-class.ts';
import { LocalExec } from '../../../harness/host/exec.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { failure, step, testStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { simConfig, startSim, type Sim } from '../../sim/support.ts';

let sim: Sim;
let rig: RigSession;

before(async () => {
  sim = await startSim(simConfig({ timing: { enumerateMs: 600_000, matchMs: 15, activateMs: 30, relaunchMs: 15 } }));
  rig = connectRig(simRig(), { exec: new LocalExec({ pathPrefix: [sim.binDir], where: 'simulated Mac "test"' }) });
});

after(async () => {
  await rig?.close();
  await sim?.stop();
});

test('plug: the port is on but the device never enumerates: infrastructure, saying the port was switched on', async () => {
  const ctx = testStepContext(rig, { devices: ['echo'] });
  const error = await failure(step(ctx, 'plug', { device: 'echo', within: '300ms' }));
  assert.equal(error.failureClass, 'infrastructure');
  assert.equal(classifyFailure(error), 'infrastructure');
  assert.match(error.message, /^echo \(.*\) did not enumerate within 300ms: .* after its port was switched on \(a dead port, cable or hub: no driver takes part before the device enumerates\)$/);
  assert.ok(ctx.events.some((e) => e.type === 'port-on' && e['device'] === 'echo'), 'the port was switched on');
  await step(ctx, 'unplug', 'echo');
});

test('replug: the same after the port comes back on', async () => {
  const ctx = testStepContext(rig, { devices: ['echo'] });
  const error = await failure(step(ctx, 'replug', { device: 'echo', off: '10ms', within: '300ms' }));
  assert.equal(classifyFailure(error), 'infrastructure');
  assert.match(error.message, /did not enumerate within 300ms: .* after its port was switched on/);
  await step(ctx, 'unplug', 'echo');
});
