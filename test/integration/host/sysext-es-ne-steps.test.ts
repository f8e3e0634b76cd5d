// The lifecycle steps with ES and NE extensions against the real simulated Mac: sysext.activate of a
// .systemextension delivers its config first (the exact bytes land in the Mac's
// /Users/Shared/dextbench/config), fault crash-extension kills its process and launchd relaunches
// it with a new pid, and the activator host tool's filter verbs report needsApproval with its fix.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pgrep } from '../../../harness/es/client.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import type { ExtensionDecl } from '../../../harness/rig/types.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { ROOT, simConfig, startSim, waitFor, type Sim } from '../../sim/support.ts';

const EXTENSIONS: Record<string, ExtensionDecl> = {
  execguard: {
    bundle: 'com.example.execguard', systemExtension: join(ROOT, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension'),
    config: { denyExec: ['/usr/bin/nc'], denySigningIds: [], generation: 9007199254740993n },
  },
  flowgate: { bundle: 'com.example.flowgate', systemExtension: join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension') },
};

let sim: Sim;
let rig: RigSession;

before(async () => {
  // FlowGate is allowed by the system-extension policy, but no webcontent-filter payload approves its filter.
  sim = await startSim(simConfig({ developerMode: true, policy: { allowedTeamIdentifiers: ['DXTBNCH001'] }, webContentFilter: [] }));
  rig = connectRig(simRig(), { sim: { binDir: sim.binDir, stateDir: sim.stateDir } });
});

after(async () => {
  await rig?.close();
  await sim?.stop();
});

function context(): TestStepContext {
  return testStepContext(rig, { extensions: EXTENSIONS });
}

test('sysext.activate of an ES .systemextension writes its config first (exact bytes, big integers exact) and reaches activated enabled', async () => {
  const ctx = context();
  const result = await step(ctx, 'sysext.activate', 'execguard');
  assert.deepEqual([result['bundle'], result['version'], result['result']], ['com.example.execguard', '1.0.0/1', 'completed']);
  const written = readFileSync(join(sim.stateDir, 'fs/Users/Shared/dextbench/config/com.example.execguard.json'), 'utf8');
  assert.equal(written, '{\n  "denyExec": [\n    "/usr/bin/nc"\n  ],\n  "denySigningIds": [],\n  "generation": 9007199254740993\n}\n');
  const kinds = ctx.events.map((e) => (e['type'] === 'activator' ? `activator:${String(e['event'])}` : String(e['type'])));
  assert.ok(kinds.indexOf('config') < kinds.indexOf('activator:submitted'), `config before the request: ${kinds.join(', ')}`);
  const { list } = await rig.tools.sysext.list();
  assert.deepEqual(list.extensions.filter((r) => r.bundleId === 'com.example.execguard').map((r) => [r.category, r.state]),
    [['com.apple.system_extension.endpoint_security', 'activated enabled']]);
});

test('fault crash-extension kills the extension\'s process; launchd starts it again with a new pid', async () => {
  const ctx = context();
  const [before] = await waitFor('ExecGuard running', async () => { const p = await pgrep(rig.exec, 'com.example.execguard.systemextension/Contents/MacOS/'); return p.length ? p : undefined; });
  const fault = await step(ctx, 'fault', { extension: 'execguard', kind: 'crash-extension' });
  assert.equal(fault['pid'], before);
  const [after] = await waitFor('ExecGuard relaunched', async () => { const p = await pgrep(rig.exec, 'com.example.execguard.systemextension/Contents/MacOS/'); return p.length ? p : undefined; });
  assert.notEqual(after, before);
  const missing = await failure(step(ctx, 'fault', { extension: 'flowgate', kind: 'crash-extension' }));
  assert.equal(missing.message, 'fault crash-extension: no process of com.example.flowgate runs (pgrep -f com.example.flowgate.systemextension/Contents/MacOS/ found none); activate it first (sysext.activate: flowgate)');
});

test('activator filter: enabling a filter nobody pre-approved needs approval, with the fix; status says it is not configured', async () => {
  const ctx = context();
  await step(ctx, 'sysext.activate', 'flowgate');
  const outcome = await rig.tools.activator.filter('enable', 'com.example.flowgate', { timeoutMs: 1000 });
  assert.equal(outcome.result, 'needsApproval');
  assert.equal(outcome.result === 'needsApproval' && outcome.fix,
    'install the com.apple.webcontent-filter payload (dextbench profile --ne-filter com.example.flowgate), or click Allow at the Mac');
  const status = await rig.tools.activator.filter('status', 'com.example.flowgate', { timeoutMs: 5000 });
  assert.deepEqual({ ...status, events: undefined }, { result: 'status', bundle: 'com.example.flowgate', enabled: false, configured: false, events: undefined });
});
