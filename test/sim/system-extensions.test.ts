// ES and NE system extensions on the simulated Mac, through its shims: categories in
// systemextensionsctl list (macos-formats.md §1), their processes (pgrep, kill -9, relaunch),
// upgrade and reboot, and the activator's filter verbs (contract §3, §6).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeSystemExtension } from '../support/system-extension-bundle.ts';
import { tempDir } from '../support/temp.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from './support.ts';

const builds = tempDir('dextbench-sysext-builds-');
const ES_V1 = writeSystemExtension(builds, 'ExecGuard-1.0.0.systemextension', { bundle: 'com.example.execguard', kind: 'es', name: 'ExecGuard', executable: 'ExecGuard' });
const ES_V2 = writeSystemExtension(builds, 'ExecGuard-1.1.0.systemextension', { bundle: 'com.example.execguard', kind: 'es', name: 'ExecGuard', executable: 'ExecGuard', shortVersion: '1.1.0', bundleVersion: '2' });
const NE = writeSystemExtension(builds, 'FlowGate-1.0.0.systemextension', { bundle: 'com.example.flowgate', kind: 'ne', name: 'FlowGate' });
const NE_UNAPPROVED = writeSystemExtension(builds, 'OtherFilter.systemextension', { bundle: 'com.example.otherfilter', kind: 'ne' });
const NEITHER = writeSystemExtension(builds, 'Plain.systemextension', { bundle: 'com.example.plain', kind: 'none' });

const suffix = (label: string): string => ` (Go to 'System Settings > General > Login Items & Extensions > ${label}' to modify these system extension(s))`;
const HEADER = 'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]';

function lastEvent(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('ES and NE system extensions', () => {
  let sim: Sim;
  const pgrep = async (bundle: string): Promise<number[]> => {
    const r = await sim.run('pgrep', ['-f', `${bundle}.systemextension/Contents/MacOS/`]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map(Number);
  };
  const activate = (flag: string, path: string, bundle: string): Promise<{ stdout: string; stderr: string; code: number }> =>
    sim.run('dextbench-activator', ['activate', flag, path, '--bundle', bundle]);

  before(async () => {
    sim = await startSim(simConfig({
      developerMode: true,
      policy: { allowedTeamIdentifiers: [], allowedSystemExtensions: { DXTBNCH001: ['com.example.echo.driver', 'com.example.execguard', 'com.example.flowgate', 'com.example.otherfilter'] } },
      webContentFilter: ['com.example.flowgate'],
    }));
  });
  after(async () => { await sim.stop(); });

  test('activated ES, NE and driver extensions are listed under their own categories, network first', async () => {
    for (const [flag, path, bundle] of [['--sysext', ES_V1, 'com.example.execguard'], ['--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), 'com.example.echo.driver'], ['--sysext', NE, 'com.example.flowgate']] as const) {
      const r = await activate(flag, path, bundle);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(lastEvent(r.stdout), { event: 'finished', bundle, result: 'completed' });
    }
    const list = await sim.run('systemextensionsctl', ['list']);
    assert.equal(list.stdout, [
      '3 extension(s)',
      `--- com.apple.system_extension.network_extension${suffix('Network Extensions')}`,
      HEADER,
      '*\t*\tDXTBNCH001\tcom.example.flowgate (1.0.0/1)\tFlowGate\t[activated enabled]',
      `--- com.apple.system_extension.endpoint_security${suffix('Endpoint Security Extensions')}`,
      HEADER,
      '*\t*\tDXTBNCH001\tcom.example.execguard (1.0.0/1)\tExecGuard\t[activated enabled]',
      `--- com.apple.system_extension.driver_extension${suffix('Driver Extensions')}`,
      HEADER,
      '*\t*\tDXTBNCH001\tcom.example.echo.driver (1.0.0/1)\tcom.example.echo.driver\t[activated enabled]',
      '',
    ].join('\n'));
    const es = await sim.run('systemextensionsctl', ['list', 'com.apple.system_extension.endpoint_security']);
    assert.equal(es.stdout.split('\n')[0], '1 extension(s)');
  });

  test('each runs as a process pgrep finds by its staged path; kill -9 ends it and launchd starts it again with a new pid', async () => {
    const [esPid] = await waitFor('the ES extension process', async () => { const p = await pgrep('com.example.execguard'); return p.length ? p : undefined; });
    const [nePid] = await waitFor('the NE extension process', async () => { const p = await pgrep('com.example.flowgate'); return p.length ? p : undefined; });
    assert.notEqual(esPid, nePid);
    const listed = await sim.run('pgrep', ['-lf', 'com.example.execguard']);
    assert.match(listed.stdout, new RegExp(`^${esPid} /Library/SystemExtensions/[0-9A-F-]{36}/com\\.example\\.execguard\\.systemextension/Contents/MacOS/ExecGuard\\n$`));
    assert.equal((await sim.run('pgrep', ['-x', 'ExecGuard'])).stdout, `${esPid}\n`);
    const none = await sim.run('pgrep', ['-f', 'com.example.nothing']);
    assert.deepEqual([none.code, none.stdout], [1, '']);

    const killed = await sim.run('kill', ['-9', String(esPid)]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.deepEqual(await pgrep('com.example.execguard'), [], 'gone right after the kill');
    const [relaunched] = await waitFor('the relaunch', async () => { const p = await pgrep('com.example.execguard'); return p.length ? p : undefined; });
    assert.notEqual(relaunched, esPid);
    assert.deepEqual(await pgrep('com.example.flowgate'), [nePid], 'the other extension is untouched');
    assert.equal((await sim.run('kill', ['-9', String(esPid)])).code, 1, 'the old pid is gone');
  });

  test('an upgrade leaves the old version terminated (its process gone) until a reboot', async () => {
    const [before] = await pgrep('com.example.execguard');
    const r = await activate('--sysext', ES_V2, 'com.example.execguard');
    assert.equal(r.code, 0, r.stdout);
    const list = (await sim.run('systemextensionsctl', ['list'])).stdout;
    assert.ok(list.includes([
      `--- com.apple.system_extension.endpoint_security${suffix('Endpoint Security Extensions')}`,
      HEADER,
      '*\t*\tDXTBNCH001\tcom.example.execguard (1.1.0/2)\tExecGuard\t[activated enabled]',
      '\t\tDXTBNCH001\tcom.example.execguard (1.0.0/1)\tExecGuard\t[terminated waiting to uninstall on reboot]',
    ].join('\n')), list);
    assert.ok(list.startsWith('4 extension(s)\n'));
    const [after] = await waitFor('the new version\'s process', async () => { const p = await pgrep('com.example.execguard'); return p.length ? p : undefined; });
    assert.notEqual(after, before);
    assert.equal((await sim.run('reboot')).code, 0);
    const rebooted = (await sim.run('systemextensionsctl', ['list'])).stdout;
    assert.ok(rebooted.startsWith('3 extension(s)\n'), rebooted);
    assert.doesNotMatch(rebooted, /terminated/);
    await waitFor('the extension running again after the reboot', async () => (await pgrep('com.example.execguard')).length === 1);
  });

  test('filter enable: approved by the webcontent-filter policy it saves; otherwise it waits for the prompt and needs approval (exit 3)', async () => {
    const status = async (bundle: string): Promise<unknown> => lastEvent((await sim.run('dextbench-activator', ['filter', 'status', '--bundle', bundle])).stdout);
    assert.deepEqual(await status('com.example.flowgate'), { event: 'filterStatus', bundle: 'com.example.flowgate', enabled: false, configured: false });
    const enabled = await sim.run('dextbench-activator', ['filter', 'enable', '--bundle', 'com.example.flowgate']);
    assert.deepEqual([enabled.code, lastEvent(enabled.stdout)], [0, { event: 'filterSaved', bundle: 'com.example.flowgate', enabled: true }]);
    assert.deepEqual(await status('com.example.flowgate'), { event: 'filterStatus', bundle: 'com.example.flowgate', enabled: true, configured: true });
    const disabled = await sim.run('dextbench-activator', ['filter', 'disable', '--bundle', 'com.example.flowgate', '--name', 'FlowGate']);
    assert.deepEqual([disabled.code, lastEvent(disabled.stdout)], [0, { event: 'filterSaved', bundle: 'com.example.flowgate', enabled: false }]);
    assert.deepEqual(await status('com.example.flowgate'), { event: 'filterStatus', bundle: 'com.example.flowgate', enabled: false, configured: true });

    assert.equal((await activate('--sysext', NE_UNAPPROVED, 'com.example.otherfilter')).code, 0);
    const started = Date.now();
    const asked = await sim.run('dextbench-activator', ['filter', 'enable', '--bundle', 'com.example.otherfilter', '--timeout', '1']);
    assert.ok(Date.now() - started >= 900, 'it waited for an answer until --timeout');
    assert.equal(asked.code, 3);
    assert.deepEqual(lastEvent(asked.stdout), {
      event: 'filterNeedsApproval', bundle: 'com.example.otherfilter',
      message: 'saveToPreferences is waiting for the user to allow "dextbench com.example.otherfilter" to filter network content (no answer within 1s)',
    });
    assert.deepEqual(await status('com.example.otherfilter'), { event: 'filterStatus', bundle: 'com.example.otherfilter', enabled: false, configured: false });
  });

  test('filter enable without the network extension activated fails configurationInvalid (1); bad usage exits 64', async () => {
    const r = await sim.run('dextbench-activator', ['filter', 'enable', '--bundle', 'com.example.nofilter']);
    assert.equal(r.code, 1);
    assert.deepEqual(lastEvent(r.stdout), {
      event: 'failed', bundle: 'com.example.nofilter', domain: 'NEFilterErrorDomain', code: 1, name: 'configurationInvalid',
      message: 'no activated network extension com.example.nofilter provides the filter',
    });
    assert.equal((await sim.run('dextbench-activator', ['filter', 'toggle', '--bundle', 'com.example.flowgate'])).code, 64);
    assert.equal((await sim.run('dextbench-activator', ['activate', '--sysext', NE, '--dext', NE, '--bundle', 'com.example.flowgate'])).code, 64);
  });

  test('a .systemextension that is neither ES nor NE fails with unknownExtensionCategory (7)', async () => {
    const r = await activate('--sysext', NEITHER, 'com.example.plain');
    assert.equal(r.code, 1);
    const failed = lastEvent(r.stdout);
    assert.deepEqual([failed['event'], failed['code'], failed['name']], ['failed', 7, 'unknownExtensionCategory']);
  });

  test('deactivating a system extension removes its row and ends its process', async () => {
    const r = await sim.run('dextbench-activator', ['deactivate', '--sysext', NE, '--bundle', 'com.example.flowgate']);
    assert.deepEqual([r.code, lastEvent(r.stdout)], [0, { event: 'finished', bundle: 'com.example.flowgate', result: 'completed' }]);
    assert.deepEqual(await pgrep('com.example.flowgate'), []);
    assert.doesNotMatch((await sim.run('systemextensionsctl', ['list'])).stdout, /com\.example\.flowgate/);
  });
});
