// The expect.* steps against the real simulated Mac, step by step. expect.no_crash and
// expect.relaunched with the scenario boundary where a real rig has it: a dext launched before the
// scenario began (a device matched at boot, or by an earlier scenario) logs nothing inside the
// scenario until it crashes. expect.event with a match that names a key the event lacks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sleep } from '../../../harness/common/time.ts';
import { LocalExec } from '../../../harness/host/exec.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from '../../sim/support.ts';

const BUNDLE = 'com.example.echo.driver';
const extensions = { 'echo-driver': { dext: join(DEXTS, 'EchoDriver-1.0.0.dext'), bundle: BUNDLE } };

let sim: Sim;
let rig: RigSession;

before(async () => {
  sim = await startSim(simConfig({ developerMode: true }));
  rig = connectRig(simRig(), { exec: new LocalExec({ pathPrefix: [sim.binDir], where: 'simulated Mac "test"' }) });
});

after(async () => {
  await rig?.close();
  await sim?.stop();
});

/** One scenario's context, begun now: what the engine gives each step of a scenario. */
function scenario(): TestStepContext {
  return testStepContext(rig, { devices: ['echo'], extensions });
}

async function pidServingEcho(): Promise<number | null> {
  const servers = await rig.tools.ioreg.userServers();
  return servers.find((s) => s.serverName === BUNDLE)?.pid ?? null;
}

/** Sleeps into the next second of the wall clock: `log show --start` counts whole seconds. */
async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

test('a crash of a dext launched before the scenario began fails expect.no_crash, also once its device is gone', async () => {
  const earlier = scenario();
  await step(earlier, 'sysext.activate', 'echo-driver');
  await step(earlier, 'plug', 'echo');
  await step(earlier, 'expect.matched', { device: 'echo', within: '5s' });
  await nextSecond();

  const ctx = scenario();
  const crash = await step(ctx, 'fault', { device: 'echo', kind: 'crash-dext' });
  await step(ctx, 'expect.relaunched', { device: 'echo', previousPid: crash['pid'], within: '5s' });
  await step(ctx, 'unplug', 'echo');
  const error = await failure(step(ctx, 'expect.no_crash', 'echo-driver'));
  assert.match(error.message, /^com\.example\.echo\.driver crashed during the scenario: kernel \d\d:\d\d:\d\d\.\d+ "DK: Loopback-0x[0-9a-f]+ rematching after dext crash"$/);
  assert.ok(ctx.events.some((e) => e.type === 'crash-evidence'), 'the evidence is on the timeline');
});

test('a crash in the same second just before the scenario began is not the scenario\'s', async () => {
  const earlier = scenario();
  await step(earlier, 'plug', 'echo');
  await step(earlier, 'expect.matched', { device: 'echo', within: '5s' });
  await nextSecond();
  const crashedAt = Date.now();
  const crash = await step(earlier, 'fault', { device: 'echo', kind: 'crash-dext' });
  await waitFor('relaunch', async () => { const pid = await pidServingEcho(); return pid !== null && pid !== crash['pid']; });

  const ctx = scenario();
  assert.equal(Math.floor(ctx.startedAt.getTime() / 1000), Math.floor(crashedAt / 1000), 'precondition: crash and scenario start in one second');
  const result = await step(ctx, 'expect.no_crash', 'echo-driver');
  assert.equal(result['providersChecked'], 1);
});

test('the dext at the start and at the end: another pid and another channel instance id are named', async () => {
  const ctx = scenario();
  const matched = await step(ctx, 'expect.matched', { device: 'echo', within: '5s' });
  const before = await step(ctx, 'call', { device: 'echo', method: 'GetInfo' });
  const crash = await step(ctx, 'fault', { device: 'echo', kind: 'crash-dext' });
  const relaunched = await step(ctx, 'expect.relaunched', { device: 'echo', previousPid: crash['pid'], within: '5s' });
  const after = await step(ctx, 'reconnect', { device: 'echo', within: '5s' });
  const error = await failure(step(ctx, 'expect.no_crash', 'echo-driver'));
  const provider = `Loopback-0x${(matched['providerId'] as bigint).toString(16)}`;
  assert.ok(error.message.includes(`${provider}: served by dext pid ${matched['pid']} when the scenario first saw it, by pid ${relaunched['pid']} now`), error.message);
  assert.ok(error.message.includes(`${provider} (echo): its dext answers GetInfo with instance id ${after['instanceId']}, it was ${before['instanceId']} when the scenario first saw it`), error.message);
  await ctx.close();
});

test('a dext restarted on purpose (deactivate, activate) is no crash, and expect.relaunched says it was not relaunched', async () => {
  const ctx = scenario();
  const first = await step(ctx, 'expect.matched', { device: 'echo', within: '5s' });
  await step(ctx, 'sysext.deactivate', 'echo-driver');
  await step(ctx, 'sysext.activate', 'echo-driver');
  const error = await failure(step(ctx, 'expect.relaunched', { device: 'echo', previousPid: first['pid'], within: '5s' }));
  assert.match(error.message, /has a new dext process \(pid \d+\) but the unified log has no "rematching after dext crash" line for it since the scenario began/);
  const result = await step(ctx, 'expect.no_crash', 'echo-driver');
  assert.equal(result['providersChecked'], 1);
  await step(ctx, 'unplug', 'echo');
  await step(ctx, 'sysext.deactivate', 'echo-driver');
});

test('expect.event whose match names a key the event lacks says so, with the keys it has', async () => {
  const ctx = scenario();
  await step(ctx, 'sysext.activate', 'echo-driver');
  await step(ctx, 'plug', 'echo');
  await step(ctx, 'expect.matched', { device: 'echo', within: '5s' });
  await step(ctx, 'io', { device: 'echo', mode: 'loopback', bytes: '64KiB', pattern: 'counter' });
  await step(ctx, 'expect.event', { device: 'echo', kind: 'ioDone', match: { state: 'done', bytesDone: 65536 }, within: '2s' });
  const error = await failure(step(ctx, 'expect.event', { device: 'echo', kind: 'ioDone', match: { state: 'done', bytesDon: 65536 }, within: '300ms' }));
  assert.match(error.message, /it differs: bytesDon: no such key in the response \(it has: [^)]*bytesDone[^)]*; did you mean 'bytesDone'\?\)/);
  await ctx.close();
  await step(ctx, 'unplug', 'echo');
  await step(ctx, 'sysext.deactivate', 'echo-driver');
});
