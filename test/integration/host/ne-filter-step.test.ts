// ne.filter against the real simulated Mac: the activator's filter verbs turn FlowGate's content
// filter on (FlowGate logs its start, flows are filtered) and off; the step that turned it on
// registers a cleanup that turns it off again, and one that found it on leaves it on. Without the
// com.apple.webcontent-filter approval the step fails in one line with the fix; enabling a provider
// that is not activated names the NEFilterManagerError. Turning it on returns once the provider
// started filtering (its start line), not when the configuration was saved.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import type { ExtensionDecl } from '../../../harness/rig/types.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { ROOT, simConfig, startSim, type Sim } from '../../sim/support.ts';

const BUNDLE = 'com.example.flowgate';
/** Turning a filter on starts the NE steps' verdict stream first (to see the filter start): cleanup stops it. */
const STREAM = 'stop the filter verdict stream';
const FLOWGATE = join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension');
const EXTENSIONS: Record<string, ExtensionDecl> = {
  flowgate: { bundle: BUNDLE, systemExtension: FLOWGATE },
  // Declared, never activated.
  idle: { bundle: 'com.example.idlefilter', systemExtension: FLOWGATE },
};

function scenario(rig: RigSession): TestStepContext {
  return testStepContext(rig, { extensions: EXTENSIONS });
}

async function start(webContentFilter: string[], timing?: Record<string, number>): Promise<{ sim: Sim; rig: RigSession }> {
  const sim = await startSim(simConfig({
    developerMode: true, webContentFilter, policy: { allowedTeamIdentifiers: ['DXTBNCH001'] },
    ...(timing ? { timing: { enumerateMs: 15, matchMs: 15, activateMs: 30, relaunchMs: 15, ...timing } } : {}),
  }));
  const rig = connectRig(simRig(), { sim: { binDir: sim.binDir, stateDir: sim.stateDir } });
  const activated = await sim.run('dextbench-activator', ['activate', '--sysext', FLOWGATE, '--bundle', BUNDLE]);
  assert.equal(activated.code, 0, activated.stdout + activated.stderr);
  return { sim, rig };
}

async function status(sim: Sim): Promise<unknown> {
  const r = await sim.run('dextbench-activator', ['filter', 'status', '--bundle', BUNDLE]);
  return JSON.parse(r.stdout);
}

describe('with the webcontent-filter payload for FlowGate', () => {
  let sim: Sim;
  let rig: RigSession;
  before(async () => { ({ sim, rig } = await start([BUNDLE])); });
  after(async () => { await rig?.close(); await sim?.stop(); });

  test('on: saved, FlowGate starts filtering the running provider; cleanup turns it off again', async () => {
    const ctx = scenario(rig);
    assert.deepEqual(await step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true }), { bundle: BUNDLE, enabled: true });
    assert.deepEqual(await status(sim), { event: 'filterStatus', bundle: BUNDLE, enabled: true, configured: true });
    // The provider was already running: turning its filter on is where filtering starts.
    const log = await sim.run('log', ['show', '--last', '1m', '--predicate', `subsystem == "${BUNDLE}"`]);
    assert.match(log.stdout, /FlowGate started rules=0\n/);
    const connect = await sim.run('nc', ['-z', 'allowed.example', '443']);
    assert.equal(connect.code, 0, connect.stderr);
    assert.match((await sim.run('log', ['show', '--last', '1m', '--predicate', `subsystem == "${BUNDLE}"`])).stdout, /verdict=allow protocol=tcp remote=192\.0\.2\.10:443 /);
    // Off and on again within the scenario: still one cleanup.
    await step(ctx, 'ne.filter', { extension: 'flowgate', enabled: false });
    await step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true });
    assert.deepEqual(ctx.cleanupTitles, [STREAM, `turn the content filter of ${BUNDLE} off`]);
    assert.ok(ctx.events.some((e) => e.type === 'activator' && e['event'] === 'filterSaved' && e['enabled'] === true));
    await ctx.close();
    assert.deepEqual(await status(sim), { event: 'filterStatus', bundle: BUNDLE, enabled: false, configured: true });
  });

  test('a filter the scenario found on is left on; off is saved and registers nothing', async () => {
    const before = scenario(rig);
    await step(before, 'ne.filter', { extension: 'flowgate', enabled: true });
    const ctx = scenario(rig);
    await step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true });
    assert.deepEqual(ctx.cleanupTitles, []);
    await ctx.close();
    assert.deepEqual(await status(sim), { event: 'filterStatus', bundle: BUNDLE, enabled: true, configured: true });
    const off = scenario(rig);
    assert.deepEqual(await step(off, 'ne.filter', { extension: 'flowgate', enabled: false }), { bundle: BUNDLE, enabled: false });
    assert.deepEqual(off.cleanupTitles, []);
    assert.deepEqual(await status(sim), { event: 'filterStatus', bundle: BUNDLE, enabled: false, configured: true });
  });

  test('a provider that is not activated: one line naming the NEFilterManagerError', async () => {
    const ctx = scenario(rig);
    const error = await failure(step(ctx, 'ne.filter', { extension: 'idle', enabled: true }));
    assert.equal(error.message, 'ne.filter enable com.example.idlefilter failed: NEFilterErrorDomain code 1 (configurationInvalid): no activated network extension com.example.idlefilter provides the filter');
    assert.deepEqual(ctx.cleanupTitles, [STREAM]);
  });
});

describe('without approval of FlowGate\'s filter', () => {
  let sim: Sim;
  let rig: RigSession;
  before(async () => { ({ sim, rig } = await start([])); });
  after(async () => { await rig?.close(); await sim?.stop(); });

  test('on: one line saying it needs approval, with the fix; nothing to clean up, the filter stays off', async () => {
    const ctx = scenario(rig);
    const error = await failure(step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true, within: '1s' }));
    assert.equal(error.message, 'ne.filter enable com.example.flowgate: the filter configuration needs approval ' +
      '(saveToPreferences is waiting for the user to allow "dextbench com.example.flowgate" to filter network content (no answer within 1s)): ' +
      'install the com.apple.webcontent-filter payload (dextbench profile --ne-filter com.example.flowgate), or click Allow at the Mac');
    assert.deepEqual(ctx.cleanupTitles, [STREAM]);
    assert.deepEqual(await status(sim), { event: 'filterStatus', bundle: BUNDLE, enabled: false, configured: false });
  });
});

describe('a provider that starts a while after its activation (matchMs 1500)', () => {
  let sim: Sim;
  let rig: RigSession;
  before(async () => { ({ sim, rig } = await start([BUNDLE], { matchMs: 1500 })); });
  after(async () => { await rig?.close(); await sim?.stop(); });

  test('on: the step returns once FlowGate started, so the next flow is filtered', async () => {
    const ctx = scenario(rig);
    await step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true });
    assert.ok(ctx.events.some((e) => e.type === 'ne-filter-started' && e['bundle'] === BUNDLE && e['rules'] === 0), JSON.stringify(ctx.events));
    // Filtered: FlowGate gives this flow a verdict (before its start, a flow passes without one).
    const connect = await sim.run('nc', ['-z', 'allowed.example', '443']);
    assert.equal(connect.code, 0, connect.stderr);
    assert.match((await sim.run('log', ['show', '--last', '1m', '--predicate', `subsystem == "${BUNDLE}"`])).stdout, /verdict=allow protocol=tcp remote=192\.0\.2\.10:443 /);
    await ctx.close();
  });
});

describe('a provider that does not start in time (matchMs 60 s)', () => {
  let sim: Sim;
  let rig: RigSession;
  before(async () => { ({ sim, rig } = await start([BUNDLE], { matchMs: 60_000 })); });
  after(async () => { await rig?.close(); await sim?.stop(); });

  test('on: saved, then one line saying the filter did not start and that flows pass unfiltered', async () => {
    const ctx = scenario(rig);
    const error = await failure(step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true, within: '700ms' }));
    assert.match(error.message, /^ne\.filter enable com\.example\.flowgate: saved, but the filter did not start within 700 ms \(no unified log line for FlowGate's start line \(FlowGate started rules=<n>\) within 700 ms \(0 line\(s\) received\)\); its flows pass unfiltered until it does$/);
    // Saved: its cleanup turns it off again.
    assert.deepEqual(ctx.cleanupTitles, [STREAM, `turn the content filter of ${BUNDLE} off`]);
    await ctx.close();
    assert.deepEqual(await status(sim), { event: 'filterStatus', bundle: BUNDLE, enabled: false, configured: true });
  });
});
