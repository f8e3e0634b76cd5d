// systemextensionsctl, csrutil, sw_vers and the activator on the simulated Mac, through the shims.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEXTS, listRows, simConfig, startSim, waitFor, type Sim } from './support.ts';
import { tempDir } from '../support/temp.ts';

const SIP_LINES = [
  'At this time, this tool cannot be used if System Integrity Protection is enabled.',
  'This limitation will be removed in the near future.',
  'Please remember to re-enable System Integrity Protection!',
];
const DRIVER_HEADER = "--- com.apple.system_extension.driver_extension (Go to 'System Settings > General > Login Items & Extensions > Driver Extensions' to modify these system extension(s))";

function messages(ndjson: string): string[] {
  return ndjson.split('\n').filter((l) => l.startsWith('{"timezoneName"')).map((l) => (JSON.parse(l) as { eventMessage: string }).eventMessage);
}

function events(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('SIP enabled', () => {
  let sim: Sim;
  before(async () => { sim = await startSim(simConfig({ sip: 'enabled' })); });
  after(async () => { await sim.stop(); });

  test('csrutil, sw_vers and an empty list print the real formats', async () => {
    assert.equal((await sim.run('csrutil', ['status'])).stdout, 'System Integrity Protection status: enabled.\n');
    assert.equal((await sim.run('sw_vers')).stdout, 'ProductName:\t\tmacOS\nProductVersion:\t\t15.5\nBuildVersion:\t\t24F74\n');
    assert.equal((await sim.run('sw_vers', ['-productVersion'])).stdout, '15.5\n');
    const list = await sim.run('systemextensionsctl', ['list']);
    assert.equal(list.code, 0);
    assert.equal(list.stdout, '0 extension(s)\n');
  });

  test('developer shows the mode; developer on, uninstall and reset are refused', async () => {
    assert.equal((await sim.run('systemextensionsctl', ['developer'])).stdout, 'Developer mode is off\n');
    for (const args of [['developer', 'on'], ['uninstall', '-', 'com.example.echo.driver'], ['reset']]) {
      const r = await sim.run('systemextensionsctl', args);
      assert.equal(r.code, 1, args.join(' '));
      assert.deepEqual(r.stdout.trim().split('\n'), SIP_LINES);
    }
    assert.equal((await sim.run('systemextensionsctl', ['developer'])).stdout, 'Developer mode is off\n');
  });

  test('activation without developer mode fails: the app is not in /Applications (code 3)', async () => {
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 1);
    const last = events(r.stdout).at(-1)!;
    assert.equal(last['event'], 'failed');
    assert.equal(last['code'], 3);
    assert.equal(last['name'], 'unsupportedParentBundleLocation');
  });
});

describe('SIP disabled', () => {
  let sim: Sim;
  before(async () => { sim = await startSim(); });
  after(async () => { await sim.stop(); });

  test('developer on prints nothing and turns developer mode on', async () => {
    const r = await sim.run('systemextensionsctl', ['developer', 'on']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    assert.equal((await sim.run('systemextensionsctl', ['developer'])).stdout, 'Developer mode is on\n');
  });

  test('pre-approved activation finishes and lists the row activated enabled', async () => {
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(events(r.stdout), [
      { event: 'submitted', request: 'activate', bundle: 'com.example.echo.driver', version: '1.0.0/1' },
      { event: 'finished', bundle: 'com.example.echo.driver', result: 'completed' },
    ]);
    const list = (await sim.run('systemextensionsctl', ['list'])).stdout.split('\n');
    assert.equal(list[0], '1 extension(s)');
    assert.equal(list[1], DRIVER_HEADER);
    assert.equal(list[2], 'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]');
    assert.equal(list[3], '*\t*\tDXTBNCH001\tcom.example.echo.driver (1.0.0/1)\tcom.example.echo.driver\t[activated enabled]');
    // Same bundle, same version: finishes again without a new row.
    const again = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(events(again.stdout).at(-1)!['result'], 'completed');
    assert.equal(listRows((await sim.run('systemextensionsctl', ['list'])).stdout).length, 1);
  });

  test('an extension the policy does not allow waits for the user (exit 3)', async () => {
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriverBeta.dext'), '--bundle', 'com.example.echo.driver.beta']);
    assert.equal(r.code, 3);
    assert.deepEqual(events(r.stdout).at(-1), { event: 'needsUserApproval', bundle: 'com.example.echo.driver.beta' });
    const row = listRows((await sim.run('systemextensionsctl', ['list'])).stdout).find((x) => x[3]!.startsWith('com.example.echo.driver.beta '));
    assert.deepEqual(row, ['', '*', 'DXTBNCH001', 'com.example.echo.driver.beta (1.0.0/1)', 'com.example.echo.driver.beta', '[activated waiting for user]']);
  });

  test('upgrade replaces: the old row waits to uninstall until a reboot', async () => {
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.1.0.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 0);
    assert.deepEqual(events(r.stdout).slice(1), [
      { event: 'replacing', bundle: 'com.example.echo.driver', existing: '1.0.0/1', replacement: '1.1.0/2', action: 'replace' },
      { event: 'finished', bundle: 'com.example.echo.driver', result: 'completed' },
    ]);
    const rows = listRows((await sim.run('systemextensionsctl', ['list'])).stdout).filter((x) => x[3]!.startsWith('com.example.echo.driver ('));
    assert.deepEqual(rows.map((x) => [x[0], x[1], x[3], x[5]]), [
      ['*', '*', 'com.example.echo.driver (1.1.0/2)', '[activated enabled]'],
      ['', '', 'com.example.echo.driver (1.0.0/1)', '[terminated waiting to uninstall on reboot]'],
    ]);
    const show = await sim.run('log', ['show', '--style', 'ndjson', '--predicate', 'process == "sysextd" AND eventMessage CONTAINS "advancing state"']);
    assert.ok(messages(show.stdout).includes('extension DXTBNCH001 com.example.echo.driver (1.0.0/1) advancing state from activated_enabled to terminated_waiting_to_uninstall_on_reboot'));
    assert.equal((await sim.run('reboot')).code, 0);
    const after = (await sim.run('systemextensionsctl', ['list'])).stdout;
    assert.equal(after.split('\n')[0], '2 extension(s)');
    assert.doesNotMatch(after, /terminated/);
  });

  test('an invalid CFBundleVersion fails validation (code 9) with the kernelmanagerd lines', async () => {
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriverBadVersion.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 1);
    const last = events(r.stdout).at(-1)!;
    assert.deepEqual([last['event'], last['code'], last['name'], last['domain']], ['failed', 9, 'validationFailed', 'OSSystemExtensionErrorDomain']);
    const show = await sim.run('log', ['show', '--style', 'ndjson', '--info', '--predicate', 'process == "kernelmanagerd" OR process == "sysextd"']);
    const lines = messages(show.stdout);
    assert.ok(lines.some((m) => m.includes(`["Property 'CFBundleVersion' must be a valid kext version"]`)));
    assert.ok(lines.includes('Validation of com.example.echo.driver error: .invalidProperties'));
    assert.ok(lines.includes('extension com.example.echo.driver failed to validate! uninstalling...'));
    assert.ok(lines.includes('extension DXTBNCH001 com.example.echo.driver (1.0.0/1.0.0.0.1) advancing state from validating_by_category to uninstalling'));
    assert.doesNotMatch((await sim.run('systemextensionsctl', ['list'])).stdout, /1\.0\.0\.0\.1/);
  });

  test('a missing bundle fails with extensionNotFound; bad usage exits 64', async () => {
    const r = await sim.run('dextbench-activator', ['activate', '--dext', '/nonexistent/X.dext', '--bundle', 'com.example.x']);
    assert.equal(r.code, 1);
    assert.deepEqual([events(r.stdout).at(-1)!['code'], events(r.stdout).at(-1)!['name']], [4, 'extensionNotFound']);
    const usage = await sim.run('dextbench-activator', ['activate', '--bundle', 'com.example.x']);
    assert.equal(usage.code, 64);
    assert.equal(usage.stdout, '');
    assert.match(usage.stderr, /usage: dextbench-activator/);
  });

  test('uninstall: unknown bundle is an error; a known one waits for reboot and its dext stops', async () => {
    await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on']);
    await waitFor('echo driver matched', async () => (await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-w0'])).stdout.includes('IOUserServer(com.example.echo.driver-'));
    const unknown = await sim.run('systemextensionsctl', ['uninstall', '-', 'com.example.nothing']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim().split('\n').length, 1);
    const r = await sim.run('systemextensionsctl', ['uninstall', 'DXTBNCH001', 'com.example.echo.driver']);
    assert.equal(r.code, 0);
    const rows = listRows((await sim.run('systemextensionsctl', ['list'])).stdout).filter((x) => x[3]!.startsWith('com.example.echo.driver ('));
    assert.deepEqual(rows.map((x) => x[5]), ['[terminated waiting to uninstall on reboot]']);
    assert.equal((await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-w0'])).stdout, '');
  });

  test('deactivate: a pending extension is removed at once; --app finds the dext inside the app', async () => {
    const app = join(tempDir('simapp-'), 'Echo.app');
    cpSync(join(DEXTS, 'EchoDriverBeta.dext'), join(app, 'Contents/Library/SystemExtensions/com.example.echo.driver.beta.dext'), { recursive: true });
    const r = await sim.run('dextbench-activator', ['deactivate', '--app', app, '--bundle', 'com.example.echo.driver.beta']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(events(r.stdout), [
      { event: 'submitted', request: 'deactivate', bundle: 'com.example.echo.driver.beta', version: '1.0.0/1' },
      { event: 'finished', bundle: 'com.example.echo.driver.beta', result: 'completed' },
    ]);
    assert.doesNotMatch((await sim.run('systemextensionsctl', ['list'])).stdout, /driver\.beta/);
    const none = await sim.run('dextbench-activator', ['deactivate', '--app', app, '--bundle', 'com.example.echo.driver.beta']);
    assert.equal(none.code, 1);
    assert.equal(events(none.stdout).at(-1)!['name'], 'extensionNotFound');
  });
});
