import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemExtensionsCtl } from '../../../harness/host/tools/systemextensionsctl.ts';
import { FakeExec, lines } from './fake-exec.ts';

const HEADER = 'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]';
const CATEGORY = '--- com.apple.system_extension.driver_extension';

function listing(...rows: string[]): string {
  return rows.length === 0 ? lines('0 extension(s)') : lines(`${rows.length} extension(s)`, CATEGORY, HEADER, ...rows);
}
const row = (enabled: boolean, active: boolean, version: string, state: string, bundle = 'com.example.echo.driver') =>
  `${enabled ? '*' : ''}\t${active ? '*' : ''}\tDXTBNCH001\t${bundle} (${version})\tEchoDriver\t[${state}]`;

const SIP_REFUSAL = lines(
  'At this time, this tool cannot be used if System Integrity Protection is enabled.',
  'This limitation will be removed in the near future.',
  'Please remember to re-enable System Integrity Protection!',
);

test('waitForState polls list until the row for bundle and version has the state', async () => {
  const answers = [
    listing(),
    listing(row(false, true, '1.0.0/1', 'activated waiting for user')),
    listing(row(true, true, '0.9.0/1', 'activated enabled'), row(false, true, '1.0.0/1', 'validating by category')),
    listing(row(true, true, '0.9.0/1', 'activated enabled'), row(true, true, '1.0.0/1', 'activated enabled')),
  ];
  const exec = new FakeExec(() => ({ stdout: answers.shift() ?? listing() }));
  const sysext = systemExtensionsCtl(exec);
  const hit = await sysext.waitForState({ bundleId: 'com.example.echo.driver', version: '1.0.0/1', state: 'activated enabled', timeoutMs: 5000, pollMs: 1 });
  assert.equal(hit.shortVersion, '1.0.0');
  assert.equal(hit.bundleVersion, '1');
  assert.equal(hit.state, 'activated enabled');
  assert.equal(exec.calls.length, 4);
  assert.deepEqual(exec.calls[0]!.argv, ['systemextensionsctl', 'list']);
});

test('waitForState at its deadline names the rows last seen for the bundle', async () => {
  const exec = new FakeExec(() => ({ stdout: listing(row(false, true, '1.0.0/1', 'activated waiting for user'), row(true, true, '2.0/7', 'activated enabled', 'com.other.driver')) }));
  const sysext = systemExtensionsCtl(exec);
  await assert.rejects(
    sysext.waitForState({ bundleId: 'com.example.echo.driver', state: 'activated enabled', timeoutMs: 30, pollMs: 5 }),
    (e: Error) => {
      assert.match(e.message, /^com\.example\.echo\.driver did not reach \[activated enabled\] within 30 ms; rows last seen for com\.example\.echo\.driver: DXTBNCH001 com\.example\.echo\.driver \(1\.0\.0\/1\) \[activated waiting for user\]$/);
      assert.doesNotMatch(e.message, /com\.other\.driver/);
      return true;
    },
  );
  assert.ok(exec.calls.length >= 2, 'polled more than once');
});

test('waitForState with no row for the bundle shows the whole list', async () => {
  const exec = new FakeExec(() => ({ stdout: listing(row(true, true, '2.0/7', 'activated enabled', 'com.other.driver')) }));
  await assert.rejects(
    systemExtensionsCtl(exec).waitForState({ bundleId: 'com.example.echo.driver', version: '1.0.0', state: 'activated enabled', timeoutMs: 10, pollMs: 5 }),
    /com\.example\.echo\.driver \(1\.0\.0\) did not reach .*no row for com\.example\.echo\.driver; the list had 1 row\(s\): DXTBNCH001 com\.other\.driver \(2\.0\/7\) \[activated enabled\]/,
  );
});

test('waitForState stops at once when failFast returns a message', async () => {
  const exec = new FakeExec(() => ({ stdout: listing(row(false, true, '1.0.0/1', 'activated waiting for user')) }));
  const started = performance.now();
  await assert.rejects(
    systemExtensionsCtl(exec).waitForState({
      bundleId: 'com.example.echo.driver', state: 'activated enabled', timeoutMs: 10_000, pollMs: 1,
      failFast: (rows) => rows.some((r) => r.state === 'activated waiting for user') ? 'approve it in System Settings' : undefined,
    }),
    { message: 'approve it in System Settings' },
  );
  assert.equal(exec.calls.length, 1);
  assert.ok(performance.now() - started < 5000);
});

test('waitForState keeps polling through a failing listing and reports it at the deadline', async () => {
  let n = 0;
  const exec = new FakeExec(() => (++n === 1
    ? { stdout: listing(row(false, true, '1.0.0/1', 'activated waiting for user')) }
    : { stderr: '2025-01-01 10:00:00.000 systemextensionsctl[1:2] Completely failed to resolve bundle info\n', exitCode: 134 }));
  await assert.rejects(
    systemExtensionsCtl(exec).waitForState({ bundleId: 'com.example.echo.driver', state: 'activated enabled', timeoutMs: 30, pollMs: 5 }),
    /rows last seen for com\.example\.echo\.driver: .*\[activated waiting for user\] \(last listing failed: listing system extensions: systemextensionsctl list exited with 134: .*Completely failed to resolve bundle info\)/,
  );
});

test('list keeps a listing cut short by an abort, marked incomplete', async () => {
  const exec = new FakeExec(() => ({ stdout: lines('1 extension(s)', CATEGORY), stderr: 'x systemextensionsctl[9:9] Completely failed to resolve bundle info\n', exitCode: 134 }));
  const { list, raw } = await systemExtensionsCtl(exec).list();
  assert.equal(list.complete, false);
  assert.equal(list.count, 1);
  assert.match(raw, /^1 extension\(s\)/);
});

test('developerMode reads "Developer mode is on|off"', async () => {
  for (const [text, on] of [['Developer mode is off\n', false], ['Developer mode is on\n', true]] as const) {
    const exec = new FakeExec(() => ({ stdout: text }));
    assert.equal(await systemExtensionsCtl(exec).developerMode(), on);
    assert.deepEqual(exec.argvs(), [['systemextensionsctl', 'developer']]);
  }
  const odd = new FakeExec(() => ({ stdout: 'something else\n' }));
  await assert.rejects(systemExtensionsCtl(odd).developerMode(), /printed no "Developer mode is on\|off": something else/);
});

test('setDeveloperMode runs developer on (under sudo -n on privileged rigs) and verifies by re-reading', async () => {
  let mode = 'off';
  const exec = new FakeExec((argv) => {
    if (argv.at(-1) === 'on') { mode = 'on'; return { stdout: '' }; }
    return { stdout: `Developer mode is ${mode}\n` };
  });
  await systemExtensionsCtl(exec, { sudo: true }).setDeveloperMode(true);
  assert.deepEqual(exec.argvs(), [['sudo', '-n', 'systemextensionsctl', 'developer', 'on'], ['systemextensionsctl', 'developer']]);
});

test('setDeveloperMode fails when the mode did not change, quoting what the tool said', async () => {
  const exec = new FakeExec((argv) => (argv.length === 3 ? { stdout: 'Developer mode: request queued\n' } : { stdout: 'Developer mode is off\n' }));
  await assert.rejects(systemExtensionsCtl(exec).setDeveloperMode(true),
    { message: 'systemextensionsctl developer on exited 0 (Developer mode: request queued) but developer mode is still off' });
});

test('the SIP refusal becomes one line with the tool\'s words, whatever the exit code', async () => {
  const exec = new FakeExec(() => ({ stdout: SIP_REFUSAL, exitCode: 0 }));
  await assert.rejects(systemExtensionsCtl(exec).uninstall('DXTBNCH001', 'com.example.echo.driver'), (e: Error) => {
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, /^uninstalling com\.example\.echo\.driver: systemextensionsctl refused: At this time, this tool cannot be used if System Integrity Protection is enabled\. This limitation will be removed in the near future\. Please remember to re-enable System Integrity Protection! \(disable SIP/);
    return true;
  });
  assert.deepEqual(exec.argvs(), [['systemextensionsctl', 'uninstall', 'DXTBNCH001', 'com.example.echo.driver']]);
});

test('uninstall failing with an exit code carries stderr in one line', async () => {
  const exec = new FakeExec(() => ({ stderr: 'no such extension\nsecond line\n', exitCode: 1 }));
  await assert.rejects(systemExtensionsCtl(exec).uninstall('-', 'com.example.echo.driver'),
    { message: 'uninstalling com.example.echo.driver: systemextensionsctl uninstall - com.example.echo.driver exited with 1: no such extension second line' });
});
