// The ES steps' failures against the real simulated Mac: ExecGuard activated with /usr/bin/nc in its
// denyExec, the probe and eslogger as the sim's shims. Each failure is one line saying what was
// expected and what was seen, with the fix when there is one: an exec allowed that should be denied
// (and the reverse), es.expect running out of time (the last event of that kind that differed),
// es.forbid seeing what it forbids, es.client with ExecGuard crashed, never activated, or refused by
// es_new_client (no Full Disk Access), and eslogger refused by sudo.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pgrep } from '../../../harness/es/client.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import type { ExtensionDecl } from '../../../harness/rig/types.ts';
import { failure, step, testStepContext, type TestStepContext } from '../../support/run-step.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { ROOT, simConfig, startSim, type Sim } from '../../sim/support.ts';

const BUNDLE = 'com.example.execguard';
const PROCESS = `${BUNDLE}.systemextension/Contents/MacOS/`;
const EXTENSIONS: Record<string, ExtensionDecl> = {
  execguard: { bundle: BUNDLE, systemExtension: join(ROOT, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension') },
};

/** A Mac where ExecGuard may be approved; `fullDiskAccess` and `passwordlessSudo` as the test needs. */
async function startMac(overrides: { fullDiskAccess: string[]; passwordlessSudo: string[]; relaunchMs: number }): Promise<{ sim: Sim; rig: RigSession }> {
  const sim = await startSim(simConfig({
    developerMode: true, policy: { allowedTeamIdentifiers: ['DXTBNCH001'], allowedSystemExtensions: {} },
    tcc: { fullDiskAccess: overrides.fullDiskAccess }, passwordlessSudo: overrides.passwordlessSudo,
    timing: { enumerateMs: 15, matchMs: 15, activateMs: 30, relaunchMs: overrides.relaunchMs },
  }));
  const dir = join(sim.stateDir, 'fs/Users/Shared/dextbench/config');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${BUNDLE}.json`), `${JSON.stringify({ denyExec: ['/usr/bin/nc'], denySigningIds: [] }, null, 2)}\n`);
  return { sim, rig: connectRig(simRig(), { sim: { binDir: sim.binDir, stateDir: sim.stateDir } }) };
}

async function activate(sim: Sim): Promise<void> {
  const activated = await sim.run('dextbench-activator', ['activate', '--sysext', EXTENSIONS['execguard']!.systemExtension!, '--bundle', BUNDLE]);
  assert.equal(activated.code, 0, activated.stdout + activated.stderr);
}

/** One scenario's context: its own results map (so its own eslogger stream), cleanups run by close(). */
function scenario(rig: RigSession): TestStepContext {
  return testStepContext(rig, { extensions: EXTENSIONS });
}

describe('ES steps with ExecGuard running (Full Disk Access granted, eslogger allowed by sudoers)', () => {
  let mac: { sim: Sim; rig: RigSession };
  let ctx: ReturnType<typeof scenario>;

  before(async () => {
    // launchd's relaunch is slow enough here to see the crashed client down.
    mac = await startMac({ fullDiskAccess: ['eslogger', BUNDLE], passwordlessSudo: ['/usr/bin/eslogger'], relaunchMs: 2500 });
    ctx = scenario(mac.rig);
  });
  after(async () => {
    await ctx?.close();
    await mac?.rig.close();
    await mac?.sim.stop();
  });

  test('es.client: never activated is one line naming the missing row and process', async () => {
    const e = await failure(step(ctx, 'es.client', { extension: 'execguard', running: true }));
    assert.equal(e.message, `ES client ${BUNDLE} is not running (${BUNDLE}: no row under com.apple.system_extension.endpoint_security; no process)`);
    await activate(mac.sim);
    await step(ctx, 'es.client', { extension: 'execguard', running: true, within: '5s' });
  });

  test('es.exec: a denied path expected allowed, and an allowed one expected denied', async () => {
    const allowed = await failure(step(ctx, 'es.exec', { path: '/usr/bin/nc', args: ['-z', '192.0.2.10', '443'], expect: 'allowed' }));
    assert.equal(allowed.message, 'exec /usr/bin/nc: expected allowed, but it failed with EPERM (errno 1)');
    const denied = await failure(step(ctx, 'es.exec', { path: '/usr/bin/true', expect: 'denied' }));
    assert.equal(denied.message, 'exec /usr/bin/true: expected denied, but it succeeded (ok, exit 0)');
  });

  test('es.expect: running out of time names what was expected, how many of that kind were seen, and the last one that differed', async () => {
    const ran = await step(ctx, 'es.exec', { path: '/bin/echo', args: ['hello'], expect: 'allowed' });
    await step(ctx, 'es.expect', { event: 'exec', match: { 'target.path': '/bin/echo', pid: ran['pid'] }, within: '5s' });
    const e = await failure(step(ctx, 'es.expect', { event: 'exec', match: { 'target.path': '/bin/echo', args: ['/bin/echo', 'bye'] }, within: '300ms' }));
    assert.match(e.message, new RegExp('^no exec event matching \\{"target\\.path":"/bin/echo","args":\\["/bin/echo","bye"\\]\\} within 300 ms ' +
      '\\(\\d+ exec event\\(s\\) seen since eslogger started; the last one differs: args\\[1\\] = "hello", expected "bye" ' +
      `\\(exec by pid ${String(ran['pid'])} \\(\\S+\\), target /bin/echo \\[com\\.apple\\.echo\\], args \\["/bin/echo","hello"\\], global_seq_num \\d+\\)\\)$`));
    assert.doesNotMatch(e.message, /\n/);
  });

  test('es.forbid: a forbidden event seen is one line describing it', async () => {
    const ran = await step(ctx, 'es.exec', { path: '/usr/bin/true', expect: 'allowed' });
    const e = await failure(step(ctx, 'es.forbid', { event: 'exec', match: { 'target.path': '/usr/bin/true', pid: ran['pid'] }, during: '500ms' }));
    assert.match(e.message, new RegExp(`^a forbidden exec event matching \\{"target\\.path":"/usr/bin/true","pid":${String(ran['pid'])}\\} was seen: ` +
      `exec by pid ${String(ran['pid'])} \\(\\S+\\), target /usr/bin/true \\[com\\.apple\\.true\\], args \\["/usr/bin/true"\\], global_seq_num \\d+$`));
    // Nothing denied was ever executed: the same step passes for /usr/bin/nc.
    await step(ctx, 'es.forbid', { event: 'exec', match: { 'target.path': '/usr/bin/nc' } });
  });

  test('es.mount on a Mac that shares this machine\'s files: the image is used where it is, nothing staged; expected denied but attached is one line', async () => {
    const image = join(ROOT, 'test/fixtures/projects/es-mount/blank.dmg');
    const mounted = await step(ctx, 'es.mount', { image, expect: 'allowed' });
    assert.deepEqual([mounted['action'], mounted['path'], mounted['ok']], ['mount', image, true]);
    assert.deepEqual(ctx.events.filter((e) => e['type'] === 'stage'), []);
    const e = await failure(step(ctx, 'es.mount', { image, expect: 'denied' }));
    assert.equal(e.message, `mount ${image}: expected denied, but it succeeded (ok, exit 0)`);
  });

  test('es.client: a crashed ExecGuard is not running, with its row still activated enabled; back after launchd relaunched it', async () => {
    const [pid] = await pgrep(mac.rig.exec, PROCESS);
    assert.ok(pid);
    await step(ctx, 'fault', { extension: 'execguard', kind: 'crash-extension' });
    const e = await failure(step(ctx, 'es.client', { extension: 'execguard', running: true }));
    assert.equal(e.message, `ES client ${BUNDLE} is not running (${BUNDLE}: 1.0.0/1 [activated enabled]; no process)`);
    const back = await step(ctx, 'es.client', { extension: 'execguard', running: true, within: '10s' });
    assert.notEqual(back['pid'], pid);
    const still = await failure(step(ctx, 'es.client', { extension: 'execguard', running: false }));
    assert.equal(still.message, `ES client ${BUNDLE} is still running (${BUNDLE}: 1.0.0/1 [activated enabled]; process ${String(back['pid'])})`);
  });
});

describe('ES steps on a Mac without Full Disk Access for ExecGuard and without passwordless sudo for eslogger', () => {
  let mac: { sim: Sim; rig: RigSession };

  before(async () => {
    mac = await startMac({ fullDiskAccess: ['eslogger'], passwordlessSudo: [], relaunchMs: 600 });
    await activate(mac.sim);
  });
  after(async () => {
    await mac?.rig.close();
    await mac?.sim.stop();
  });

  test('es.client: es_new_client NOT_PERMITTED is one line quoting ExecGuard\'s log line, with the fix', async () => {
    const ctx = scenario(mac.rig);
    const e = await failure(step(ctx, 'es.client', { extension: 'execguard', running: true, within: '1s' }));
    assert.match(e.message, new RegExp(`^ES client ${BUNDLE} is not running within 1000 ms \\(${BUNDLE}: 1\\.0\\.0/1 \\[activated enabled\\]; (no process|process \\d+)\\); ` +
      'it logged "ExecGuard failed: es_new_client ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED": ' +
      `grant Full Disk Access to ${BUNDLE}, or install the profile: dextbench profile --es ${BUNDLE}$`));
  });

  test('eslogger refused by sudo: the first es.* step fails in one line with the fix', async () => {
    const ctx = scenario(mac.rig);
    const e = await failure(step(ctx, 'es.exec', { path: '/usr/bin/true', expect: 'allowed' }));
    assert.match(e.message, /^eslogger exec fork exit on simulated Mac "test" exited at once with 1: sudo: a password is required; eslogger needs root: give the rig's user passwordless sudo for \/usr\/bin\/eslogger \(dextbench provision writes the rule\)$/);
    await ctx.close();
  });
});
