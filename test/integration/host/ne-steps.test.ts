// The NE steps against the real simulated Mac: FlowGate activated and its filter enabled through the
// activator, its rules in the delivered config file, then ne.connect / ne.dns / ne.expect. Each
// failure is one line naming what was expected and what was seen.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { ROOT, simConfig, startSim, type Sim } from '../../sim/support.ts';

const BUNDLE = 'com.example.flowgate';
const FLOWGATE = join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension');
const FLOW_RULE = { action: 'drop', host: 'blocked.example', port: 443, protocol: 'tcp' };
const DNS_RULE = { action: 'drop', dnsName: 'blocked.example' };

let sim: Sim;
let rig: RigSession;

before(async () => {
  sim = await startSim(simConfig({ developerMode: true, webContentFilter: [BUNDLE], policy: { allowedTeamIdentifiers: ['DXTBNCH001'] } }));
  rig = connectRig(simRig(), { exec: new LocalExec({ pathPrefix: [sim.binDir], where: 'simulated Mac "test"' }) });
  deliver([FLOW_RULE]);
  const activated = await sim.run('dextbench-activator', ['activate', '--sysext', FLOWGATE, '--bundle', BUNDLE]);
  assert.equal(activated.code, 0, activated.stdout + activated.stderr);
});

after(async () => {
  await rig?.close();
  await sim?.stop();
});

/** The config as the harness delivers it (contract §2); FlowGate re-reads it on every decision. */
function deliver(rules: object[]): void {
  const configDir = join(sim.stateDir, 'fs/Users/Shared/dextbench/config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, `${BUNDLE}.json`), `${JSON.stringify({ rules }, null, 2)}\n`);
}

function scenario(): TestStepContext {
  return testStepContext(rig);
}

async function filter(enabled: boolean): Promise<void> {
  const r = await sim.run('dextbench-activator', ['filter', enabled ? 'enable' : 'disable', '--bundle', BUNDLE]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

test('with the filter on: the blocked flow is killed, the allowed one passes, and ne.expect sees both verdicts', async () => {
  await filter(true);
  const ctx = scenario();
  const dropped = await step(ctx, 'ne.connect', { url: 'https://blocked.example/', expect: 'dropped', within: '3s' });
  assert.deepEqual([dropped['outcome'], dropped['exitCode']], ['killed', 7]);
  const allowed = await step(ctx, 'ne.connect', { host: 'allowed.example', port: 443, expect: 'allowed', within: '3s' });
  assert.equal(allowed['outcome'], 'allowed');
  const drop = await step(ctx, 'ne.expect', { verdict: 'drop', match: { protocol: 'tcp', hostname: 'blocked.example', port: 443 }, within: '2s' });
  assert.deepEqual([drop['remote'], drop['verdict']], ['192.0.2.20:443', 'drop']);
  const allow = await step(ctx, 'ne.expect', { verdict: 'allow', match: { remote: '192.0.2.10:443' }, within: '2s' });
  assert.equal(allow['hostname'], 'allowed.example');
  // DNS: with a dnsName rule, the question for the blocked name is dropped; the allowed name resolves.
  deliver([FLOW_RULE, DNS_RULE]);
  const dns = await step(ctx, 'ne.dns', { name: 'blocked.example', expect: 'dropped', within: '1s' });
  assert.equal(dns['outcome'], 'timedOut');
  await step(ctx, 'ne.dns', { name: 'allowed.example', expect: 'allowed', within: '1s' });
  await step(ctx, 'ne.expect', { verdict: 'drop', match: { name: 'blocked.example' }, within: '2s' });

  const wrong = await failure(step(ctx, 'ne.connect', { url: 'https://blocked.example/', expect: 'allowed', within: '2s' }));
  assert.equal(wrong.message, 'ne.connect https://blocked.example/: expected allowed, but it was dnsFailed (curl exit 6: curl: (6) Could not resolve host: blocked.example)');
  deliver([FLOW_RULE]);
  const unseen = await failure(step(ctx, 'ne.expect', { verdict: 'drop', match: { hostname: 'allowed.example' }, within: '300ms' }));
  assert.match(unseen.message, /^ne\.expect: no FlowGate verdict drop \{"hostname":"allowed\.example"\} within 300 ms; saw \d+ other verdict\(s\), last: .*\[.*\]$/);
  assert.ok(!unseen.message.includes('\n'));
  assert.ok(ctx.events.some((e) => e.type === 'ne-connect' && e['outcome'] === 'killed'));
  await ctx.close();
});

test('with the filter off, everything is allowed and no verdict is logged; dropped then fails in one line', async () => {
  await filter(false);
  const ctx = scenario();
  await step(ctx, 'ne.connect', { url: 'https://blocked.example/', expect: 'allowed', within: '2s' });
  await step(ctx, 'ne.dns', { name: 'blocked.example', expect: 'allowed', within: '1s' });
  const error = await failure(step(ctx, 'ne.connect', { host: 'blocked.example', port: 443, protocol: 'tcp', expect: 'dropped', within: '2s' }));
  assert.equal(error.message, 'ne.connect blocked.example:443/tcp: expected dropped, but the connection was allowed (nc exit 0: Connection to blocked.example port 443 [tcp/https] succeeded!)');
  const none = await failure(step(ctx, 'ne.expect', { verdict: 'drop', within: '300ms' }));
  assert.equal(none.message, 'ne.expect: no FlowGate verdict drop within 300 ms; saw no FlowGate verdict at all (0 line(s) from subsystem == "com.example.flowgate")');
  await ctx.close();
});
