// A com.apple.system-extension-policy payload installed or removed while extensions are known
// (reference §B.4, macOS 11.3+): installing one that allows a pending extension completes its
// activation, removing the only one that allowed an active extension deactivates it. Driven through
// the shims: `profiles` (profilesInstallAsMdm stands in for the MDM push), the activator,
// `systemextensionsctl list`, `ioreg`, `pgrep` and `log show`.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildMobileconfig, type ProfileRequest } from '../../harness/profile/mobileconfig.ts';
import { writeSystemExtension } from '../support/system-extension-bundle.ts';
import { tempDir } from '../support/temp.ts';
import { DEXTS, listRows, simConfig, startSim, waitFor, type Sim } from './support.ts';

const TEAM = 'DXTBNCH001';
const ECHO = 'com.example.echo.driver';
const ECHO_V1 = join(DEXTS, 'EchoDriver-1.0.0.dext');
const EXECGUARD = 'com.example.execguard';
const builds = tempDir('dextbench-policy-builds-');
const ES = writeSystemExtension(builds, 'ExecGuard-1.0.0.systemextension', { bundle: EXECGUARD, kind: 'es', name: 'ExecGuard', executable: 'ExecGuard' });

function events(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A profile written with dextbench's own generator, under its own identifier. */
function profileFile(identifier: string, kinds: Partial<Pick<ProfileRequest, 'dexts' | 'es'>>): string {
  const path = join(tempDir('dextbench-policy-profile-'), `${identifier}.mobileconfig`);
  writeFileSync(path, buildMobileconfig({ team: TEAM, dexts: [], es: [], neFilters: [], removable: false, identifier, ...kinds }).xml);
  return path;
}

/** Tools on one simulated Mac, as the tests use them. */
function on(sim: () => Sim) {
  const run = async (tool: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => sim().run(tool, args);
  return {
    activate: (flag: string, path: string, bundle: string) => run('dextbench-activator', ['activate', flag, path, '--bundle', bundle]),
    install: async (path: string): Promise<void> => {
      const r = await run('profiles', ['install', '-type', 'configuration', '-path', path]);
      assert.deepEqual([r.code, r.stderr], [0, ''], `profiles install ${path}`);
    },
    remove: async (identifier: string): Promise<void> => {
      const r = await run('profiles', ['remove', '-identifier', identifier]);
      assert.deepEqual([r.code, r.stderr], [0, ''], `profiles remove ${identifier}`);
    },
    /** The `[state]` of each row of `bundle` in `systemextensionsctl list`, top to bottom. */
    states: async (bundle: string): Promise<string[]> =>
      listRows((await run('systemextensionsctl', ['list'])).stdout).filter((x) => x[3]!.startsWith(`${bundle} (`)).map((x) => x[5]!),
    /** Pids of the dext servers `ioreg` shows for the echo driver. */
    echoServers: async (): Promise<string[]> =>
      [...(await run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout.matchAll(/"IOUserClientCreator" = "pid (\d+), com\.example\.echo"/g)].map((m) => m[1]!),
    sysextdLines: async (): Promise<string[]> =>
      (await run('log', ['show', '--style', 'ndjson', '--predicate', 'process == "sysextd" AND eventMessage CONTAINS "advancing state"'])).stdout
        .split('\n').filter((l) => l.startsWith('{"timezoneName"')).map((l) => (JSON.parse(l) as { eventMessage: string }).eventMessage),
    pgrep: async (bundle: string): Promise<string[]> =>
      (await run('pgrep', ['-f', `${bundle}.systemextension/Contents/MacOS/`])).stdout.split('\n').filter(Boolean),
    plugEcho: async (): Promise<void> => {
      assert.equal((await run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on'])).code, 0);
      await waitFor('the echo device enumerated', async () => (await run('ioreg', ['-r', '-n', 'Loopback', '-w0'])).stdout.includes('Loopback'));
    },
  };
}

describe('system-extension policy installed and removed, nothing allowed by the sim config', () => {
  let sim: Sim;
  const mac = on(() => sim);
  const wrongType = profileFile('dextbench.test.echo-as-es', { es: [ECHO] });
  const echoA = profileFile('dextbench.test.echo-a', { dexts: [ECHO] });
  const echoB = profileFile('dextbench.test.echo-b', { dexts: [ECHO] });
  const execguard = profileFile('dextbench.test.execguard', { es: [EXECGUARD] });

  before(async () => {
    sim = await startSim(simConfig({
      developerMode: true, profilesInstallAsMdm: true,
      policy: { allowedTeamIdentifiers: [], allowedSystemExtensions: {} },
    }));
  });
  after(async () => { await sim.stop(); });

  test('installing a payload that allows a pending dext completes its activation, and its device matches', async () => {
    await mac.plugEcho();
    const pending = await mac.activate('--dext', ECHO_V1, ECHO);
    assert.equal(pending.code, 3, pending.stdout + pending.stderr);
    assert.deepEqual(events(pending.stdout).map((e) => e['event']), ['submitted', 'needsUserApproval']);
    assert.deepEqual(await mac.states(ECHO), ['[activated waiting for user]']);

    // The same bundle allowed only as an EndpointSecurityExtension (AllowedSystemExtensionTypes) is not allowed.
    await mac.install(wrongType);
    assert.deepEqual(await mac.states(ECHO), ['[activated waiting for user]']);
    await new Promise((r) => setTimeout(r, 200)); // matchMs is 15: a match would have happened
    assert.deepEqual(await mac.echoServers(), []);

    await mac.install(echoA);
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]']);
    assert.ok((await mac.sysextdLines()).includes(`extension ${TEAM} ${ECHO} (1.0.0/1) advancing state from activated_waiting_for_user to activated_enabled`));
    await waitFor('the echo driver matched', async () => (await mac.echoServers()).length === 1);

    // The app quit after needsUserApproval; asking again now finishes at once.
    const again = await mac.activate('--dext', ECHO_V1, ECHO);
    assert.equal(again.code, 0, again.stdout);
    assert.deepEqual(events(again.stdout).slice(1), [{ event: 'finished', bundle: ECHO, result: 'completed' }]);
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]']);
  });

  test('removing the profile that alone allowed the dext deactivates it: its dext stops', async () => {
    const [pid] = await mac.echoServers();
    await mac.remove('dextbench.test.echo-as-es'); // never allowed it: nothing changes
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]']);
    assert.deepEqual(await mac.echoServers(), [pid]);

    await mac.remove('dextbench.test.echo-a');
    assert.deepEqual(await mac.states(ECHO), ['[terminated waiting to uninstall on reboot]']);
    assert.deepEqual(await mac.echoServers(), []);
    assert.ok((await mac.sysextdLines()).includes(`extension ${TEAM} ${ECHO} (1.0.0/1) advancing state from activated_enabled to terminated_waiting_to_uninstall_on_reboot`));
  });

  test('a dext another profile still allows stays active until that one goes too', async () => {
    assert.equal((await sim.run('reboot')).code, 0);
    assert.deepEqual(await mac.states(ECHO), []);
    assert.equal((await mac.activate('--dext', ECHO_V1, ECHO)).code, 3);
    await mac.install(echoA);
    await mac.install(echoB);
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]']);
    const [pid] = await waitFor('the echo driver matched', async () => { const s = await mac.echoServers(); return s.length === 1 ? s : undefined; });

    await mac.remove('dextbench.test.echo-a');
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]']);
    assert.deepEqual(await mac.echoServers(), [pid]);
    await mac.remove('dextbench.test.echo-b');
    assert.deepEqual(await mac.states(ECHO), ['[terminated waiting to uninstall on reboot]']);
    assert.deepEqual(await mac.echoServers(), []);
  });

  test('an ES extension: the payload starts it, removing the payload ends its row and its process', async () => {
    const pending = await mac.activate('--sysext', ES, EXECGUARD);
    assert.equal(pending.code, 3, pending.stdout + pending.stderr);
    assert.deepEqual(await mac.states(EXECGUARD), ['[activated waiting for user]']);
    assert.deepEqual(await mac.pgrep(EXECGUARD), []);

    await mac.install(execguard);
    assert.deepEqual(await mac.states(EXECGUARD), ['[activated enabled]']);
    await waitFor('the ES extension process', async () => (await mac.pgrep(EXECGUARD)).length === 1);

    await mac.remove('dextbench.test.execguard');
    assert.deepEqual(await mac.states(EXECGUARD), []);
    assert.deepEqual(await mac.pgrep(EXECGUARD), []);
    assert.ok((await mac.sysextdLines()).includes(`extension ${TEAM} ${EXECGUARD} (1.0.0/1) advancing state from activated_enabled to uninstalling`));
  });
});

describe('system-extension policy removed from a dext the sim config also allows', () => {
  let sim: Sim;
  const mac = on(() => sim);
  before(async () => { sim = await startSim(simConfig({ developerMode: true, profilesInstallAsMdm: true })); });
  after(async () => { await sim.stop(); });

  test('the dext stays active and keeps its device', async () => {
    await mac.plugEcho();
    await mac.install(profileFile('dextbench.test.echo-also', { dexts: [ECHO] }));
    const r = await mac.activate('--dext', ECHO_V1, ECHO);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [pid] = await waitFor('the echo driver matched', async () => { const s = await mac.echoServers(); return s.length === 1 ? s : undefined; });
    await mac.remove('dextbench.test.echo-also');
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]']);
    assert.deepEqual(await mac.echoServers(), [pid]);
  });
});

describe('a pending upgrade allowed by a payload while the old version is active', () => {
  let sim: Sim | undefined;
  const mac = on(() => sim!);
  const stateDir = tempDir('dextbench-policy-state-');
  after(async () => { await sim?.stop(); });

  test('the new version takes the place of the old one, which waits to uninstall on reboot', async () => {
    // 1.0.0 activated while the config allowed it; the same Mac restarted with a config that allows nothing.
    sim = await startSim(simConfig({ developerMode: true, profilesInstallAsMdm: true }), stateDir);
    assert.equal((await mac.activate('--dext', ECHO_V1, ECHO)).code, 0);
    await sim.stop();
    sim = await startSim(simConfig({ developerMode: true, profilesInstallAsMdm: true, policy: { allowedTeamIdentifiers: [], allowedSystemExtensions: {} } }), stateDir);
    const upgrade = await mac.activate('--dext', join(DEXTS, 'EchoDriver-1.1.0.dext'), ECHO);
    assert.equal(upgrade.code, 3, upgrade.stdout);
    assert.deepEqual(await mac.states(ECHO), ['[activated enabled]', '[activated waiting for user]']);

    await mac.install(profileFile('dextbench.test.echo-upgrade', { dexts: [ECHO] }));
    const rows = listRows((await sim.run('systemextensionsctl', ['list'])).stdout).filter((x) => x[3]!.startsWith(`${ECHO} (`));
    assert.deepEqual(rows.map((x) => [x[3], x[5]]), [
      [`${ECHO} (1.1.0/2)`, '[activated enabled]'],
      [`${ECHO} (1.0.0/1)`, '[terminated waiting to uninstall on reboot]'],
    ]);
  });
});
