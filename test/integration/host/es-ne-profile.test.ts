// Unattended ES/NE approval by a configuration profile, on a simulated Mac whose config grants
// nothing (tcc: { fullDiskAccess: [] }, webContentFilter: []): ExecGuard's es_new_client fails
// NOT_PERMITTED and es.client says to install the profile; FlowGate's filter needs the prompt. The
// profile `dextbench profile --es … --ne-filter …` writes, installed with `profiles install` through
// the rig's Exec (on this Mac it stands in for the MDM push: profilesInstallAsMdm), grants Full
// Disk Access from ExecGuard's next start and approves FlowGate's filter; removing it revokes both.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import type { ExtensionDecl } from '../../../harness/rig/types.ts';
import { dextbench, scratchDir } from '../../support/cli.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { ROOT, simConfig, startSim, type Sim } from '../../sim/support.ts';

const TEAM = 'DXTBNCH001';
const EXECGUARD = 'com.example.execguard';
const FLOWGATE = 'com.example.flowgate';
const EXTENSIONS: Record<string, ExtensionDecl> = {
  execguard: { bundle: EXECGUARD, systemExtension: join(ROOT, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension') },
  flowgate: { bundle: FLOWGATE, systemExtension: join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension') },
};
const NOT_PERMITTED = new RegExp(`^ES client ${EXECGUARD} is not running within 1000 ms \\(.*\\); it logged "ExecGuard failed: es_new_client ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED": ` +
  `grant Full Disk Access to ${EXECGUARD}, or install the profile: dextbench profile --es ${EXECGUARD}$`);
const NEEDS_APPROVAL = new RegExp(`^ne\\.filter enable ${FLOWGATE}: the filter configuration needs approval .*: install the com\\.apple\\.webcontent-filter payload`);

describe('ES and NE approval by an installed profile (nothing granted by the sim config)', () => {
  let sim: Sim;
  let rig: RigSession;
  let ctx: TestStepContext;
  let profile: string;

  before(async () => {
    sim = await startSim(simConfig({
      developerMode: true, policy: { allowedTeamIdentifiers: [TEAM], allowedSystemExtensions: {} },
      tcc: { fullDiskAccess: [] }, webContentFilter: [], profilesInstallAsMdm: true,
      timing: { enumerateMs: 15, matchMs: 15, activateMs: 30, relaunchMs: 300 },
    }));
    const dir = join(sim.stateDir, 'fs/Users/Shared/dextbench/config');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${EXECGUARD}.json`), `${JSON.stringify({ denyExec: ['/usr/bin/nc'], denySigningIds: [] }, null, 2)}\n`);
    rig = connectRig(simRig(), { sim: { binDir: sim.binDir, stateDir: sim.stateDir } });
    ctx = testStepContext(rig, { extensions: EXTENSIONS });
    for (const decl of Object.values(EXTENSIONS)) {
      const activated = await sim.run('dextbench-activator', ['activate', '--sysext', decl.systemExtension!, '--bundle', decl.bundle]);
      assert.equal(activated.code, 0, activated.stdout + activated.stderr);
    }
    const cwd = scratchDir('es-ne-profile-');
    const written = await dextbench(['profile', '--team', TEAM, '--es', EXECGUARD, '--ne-filter', FLOWGATE, '-o', 'x.mobileconfig'], { cwd });
    assert.equal(written.code, 0, written.stderr);
    profile = join(cwd, 'x.mobileconfig');
  });
  after(async () => {
    await ctx?.close();
    await rig?.close();
    await sim?.stop();
  });

  const profiles = (...argv: string[]) => rig.exec.run(['profiles', ...argv], { timeoutMs: 10_000, nothrow: true });
  const filterStatus = async () => JSON.parse((await sim.run('dextbench-activator', ['filter', 'status', '--bundle', FLOWGATE])).stdout) as unknown;

  test('without it: es_new_client NOT_PERMITTED with the profile fix, and the filter waits for approval', async () => {
    assert.match((await failure(step(ctx, 'es.client', { extension: 'execguard', running: true, within: '1s' }))).message, NOT_PERMITTED);
    assert.match((await failure(step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true, within: '1s' }))).message, NEEDS_APPROVAL);
  });

  test('installed: ExecGuard starts after its relaunch and denies, the filter turns on without a prompt', async () => {
    const installed = await profiles('install', '-type', 'configuration', '-path', profile);
    assert.equal(installed.exitCode, 0, installed.stderr);
    const shown = await profiles('show', '-type', 'configuration');
    for (const type of ['com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy', 'com.apple.webcontent-filter']) {
      assert.match(shown.stdout, new RegExp(`type += ${type.replaceAll('.', '\\.')}\\n`));
    }
    // Full Disk Access is asked at es_new_client: the client that failed stays failed until it starts again.
    await step(ctx, 'fault', { extension: 'execguard', kind: 'crash-extension' });
    await step(ctx, 'es.client', { extension: 'execguard', running: true, within: '10s' });
    const denied = await rig.exec.run(['dextbench-esprobe', 'exec', '/usr/bin/nc', '-z', '192.0.2.10', '443'], { timeoutMs: 10_000 });
    assert.equal(JSON.parse(denied.stdout)['errnoName'], 'EPERM');
    const on = testStepContext(rig, { extensions: EXTENSIONS });
    assert.deepEqual(await step(on, 'ne.filter', { extension: 'flowgate', enabled: true, within: '1s' }), { bundle: FLOWGATE, enabled: true });
    assert.deepEqual(await filterStatus(), { event: 'filterStatus', bundle: FLOWGATE, enabled: true, configured: true });
    await on.close();
  });

  test('removed: the filter configuration goes and needs approval again; ExecGuard fails NOT_PERMITTED from its next start', async () => {
    const enabled = await sim.run('dextbench-activator', ['filter', 'enable', '--bundle', FLOWGATE]);
    assert.equal(enabled.code, 0, enabled.stdout + enabled.stderr);
    const removed = await profiles('remove', '-identifier', `dextbench.rig.${TEAM}`);
    assert.equal(removed.exitCode, 0, removed.stderr);
    assert.deepEqual(await filterStatus(), { event: 'filterStatus', bundle: FLOWGATE, enabled: false, configured: false });
    assert.match((await failure(step(ctx, 'ne.filter', { extension: 'flowgate', enabled: true, within: '1s' }))).message, NEEDS_APPROVAL);
    await step(ctx, 'fault', { extension: 'execguard', kind: 'crash-extension' });
    assert.match((await failure(step(ctx, 'es.client', { extension: 'execguard', running: true, within: '1s' }))).message, NOT_PERMITTED);
  });
});
