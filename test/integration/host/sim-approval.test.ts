// Activation on a simulated Mac with no pre-approval: the activator reports needsUserApproval, the
// list shows `activated waiting for user`, and waitForState's failFast stops at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectRig } from '../../../harness/rig/connect.ts';
import { attachSimulatedMac } from '../../../harness/rig/sim-launcher.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';

const repoRoot = new URL('../../..', import.meta.url).pathname;
const ECHO_DEXT = join(repoRoot, 'dext-fixtures', 'echo', 'sim', 'EchoDriver-1.0.0.dext');
const BUNDLE = 'com.example.echo.driver';

test('without approval: needsUserApproval, [activated waiting for user], failFast; a missing dext fails with extensionNotFound', async () => {
  const definition = simRig();
  if (definition.host.kind !== 'sim') throw new Error('simRig is a sim rig');
  definition.host.sim.approvedExtensions = {};
  const stateDir = mkdtempSync(join(tmpdir(), 'dextbench-approval-it-'));
  const sim = await attachSimulatedMac(definition, { stateDir, repoRoot, who: 'approval test' });
  try {
    const rig = connectRig(definition, { sim: { binDir: sim.binDir, stateDir } });
    await rig.tools.sysext.setDeveloperMode(true);
    const outcome = await rig.tools.activator.activate({ dext: ECHO_DEXT, bundle: BUNDLE, identity: '-', timeoutMs: 20_000 });
    assert.equal(outcome.result, 'needsUserApproval', JSON.stringify(outcome));
    assert.equal(outcome.exitCode, 3);

    const started = performance.now();
    await assert.rejects(rig.tools.sysext.waitForState({
      bundleId: BUNDLE, state: 'activated enabled', timeoutMs: 20_000,
      failFast: (rows) => (rows.some((r) => r.state === 'activated waiting for user') ? `${BUNDLE} waits for approval` : undefined),
    }), { message: `${BUNDLE} waits for approval` });
    assert.ok(performance.now() - started < 10_000, 'failFast ended the wait long before its deadline');

    const missing = await rig.tools.activator.activate({ dext: join(stateDir, 'Nope.dext'), bundle: 'com.example.nope', identity: '-', timeoutMs: 10_000 });
    assert.equal(missing.result, 'failed');
    assert.equal(missing.exitCode, 1);
    assert.deepEqual({ code: missing.error?.code, name: missing.error?.name }, { code: 4, name: 'extensionNotFound' });
  } finally {
    await sim.detach();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
