// The NE steps against the real simulated Mac: FlowGate activated and its filter enabled through the
// activator, its rules in the delivered config file, then ne.connect / ne.dns / ne.expect. Each
// failure is one line naming what was expected and what was seen.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { scratchDir } from '../../support/cli.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { ROOT, simConfig, startSim, type Sim } from '../../sim/support.ts';

const BUNDLE = 'com.example.flowgate';
const FLOWGATE = join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension');
const FLOW_RULE = { action: 'drop', host: 'blocked.example', port: 443, protocol: 'tcp' };
const DNS_RULE = { action: 'drop', dnsName: 'blocked.example' };
/** FlowGate built under another bundle id, as a team's own filter would be. */
const ACME = 'com.acme.netfilter';

let sim: Sim;
let rig: RigSession;

before(async () => {
  sim = await startSim(simConfig({ developerMode: true, webContentFilter: [BUNDLE, ACME], policy: { allowedTeamIdentifiers: ['DXTBNCH001'] } }));
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
function deliver(rules: object[], bundle = BUNDLE): void {
  const configDir = join(sim.stateDir, 'fs/Users/Shared/dextbench/config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, `${bundle}.json`), `${JSON.stringify({ rules }, null, 2)}\n`);
}

function scenario(): TestStepContext {
  return testStepContext(rig, { extensions: { flowgate: { bundle: BUNDLE, systemExtension: FLOWGATE } } });
}

async function filter(enabled: boolean, bundle = BUNDLE): Promise<void> {
  const r = await sim.run('dextbench-activator', ['filter', enabled ? 'enable' : 'disable', '--bundle', bundle]);
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

test('a filter of your own, built under another bundle id, is followed under that id; a scenario that declares no filter fails ne.expect in one line', async () => {
  // FlowGate built as com.acme.netfilter: it logs under its own bundle id (contract §5).
  const acme = ACME;
  const build = join(scratchDir('dextbench-ne-'), `${acme}.systemextension`);
  cpSync(FLOWGATE, build, { recursive: true });
  const plist = join(build, 'Contents/Info.plist');
  writeFileSync(plist, readFileSync(plist, 'utf8').replaceAll('com.example.flowgate', acme));
  deliver([FLOW_RULE], acme);
  const activated = await sim.run('dextbench-activator', ['activate', '--sysext', build, '--bundle', acme]);
  assert.equal(activated.code, 0, activated.stdout + activated.stderr);
  // A bundle id is enough to declare a filter installed already; ne.filter sees it start under its id.
  const ctx = testStepContext(rig, { extensions: { netfilter: { bundle: acme } } });
  await step(ctx, 'ne.filter', { extension: 'netfilter', enabled: true, within: '5s' });
  assert.ok(ctx.events.some((e) => e.type === 'ne-filter-started' && e['bundle'] === acme));
  await step(ctx, 'ne.connect', { host: 'blocked.example', port: 443, expect: 'dropped', within: '2s' });
  const drop = await step(ctx, 'ne.expect', { verdict: 'drop', match: { hostname: 'blocked.example' }, within: '2s' });
  assert.equal(drop['remote'], '192.0.2.20:443');
  // Following FlowGate's bundle id alone sees none of its lines.
  const other = testStepContext(rig, { extensions: { flowgate: { bundle: BUNDLE } } });
  await step(other, 'ne.connect', { host: 'blocked.example', port: 443, expect: 'dropped', within: '2s' });
  const unseen = await failure(step(other, 'ne.expect', { verdict: 'drop', within: '300ms' }));
  assert.equal(unseen.message, `ne.expect: no FlowGate verdict drop within 300 ms; saw no FlowGate verdict at all (0 line(s) from subsystem == "${BUNDLE}")`);
  await other.close();
  const bare = testStepContext(rig);
  const none = await failure(step(bare, 'ne.expect', { verdict: 'drop', within: '300ms' }));
  assert.equal(none.message, 'ne.expect drop: cannot follow the filter\'s log lines: the scenario and the rig declare no system extension whose verdict lines to follow: declare the filter under uses.extensions or the rig\'s extensions (a bundle id is enough)');
  await bare.close();
  // The filter ne.filter turned on is off again after its scenario.
  await ctx.close();
  const status = await sim.run('dextbench-activator', ['filter', 'status', '--bundle', acme]);
  assert.equal(JSON.parse(status.stdout).enabled, false);
});
