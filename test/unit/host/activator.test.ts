import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activator, outcomeOf } from '../../../harness/host/tools/activator.ts';
import { FakeExec, lines } from './fake-exec.ts';

const CMD = ['dextbench-activator'];
const DEXT = '/work/EchoDriver-1.0.0.dext';
const submitted = '{"event":"submitted","request":"activate","bundle":"com.example.echo.driver","version":"1.0.0/1"}';

test('activate passes the contract argv and reads a completed finish', async () => {
  const exec = new FakeExec(() => ({
    stdout: lines('wrapping EchoDriver-1.0.0.dext', submitted, '{"event":"finished","bundle":"com.example.echo.driver","result":"completed"}'),
  }));
  const outcome = await activator(exec, CMD).activate({ dext: DEXT, bundle: 'com.example.echo.driver', identity: '-', timeoutMs: 30_000 });
  assert.deepEqual(exec.argvs(), [['dextbench-activator', 'activate', '--dext', DEXT, '--bundle', 'com.example.echo.driver', '--identity', '-', '--timeout', '30']]);
  assert.ok(exec.calls[0]!.timeoutMs! > 30_000, 'the exec deadline leaves room beyond the request timeout');
  assert.equal(outcome.result, 'completed');
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.events.map((e) => e.event), ['submitted', 'finished']);
  assert.equal(outcome.events[0]!.version, '1.0.0/1');
});

test('deactivate with an app, no identity; willCompleteAfterReboot after a replacing event', async () => {
  const exec = new FakeExec(() => ({
    stdout: lines(
      '{"event":"submitted","request":"deactivate","bundle":"b.c","version":"1.1.0/2"}',
      '{"event":"replacing","bundle":"b.c","existing":"1.0.0/1","replacement":"1.1.0/2","action":"replace"}',
      '{"event":"finished","bundle":"b.c","result":"willCompleteAfterReboot"}',
    ),
  }));
  const outcome = await activator(exec, ['/opt/bin/act', '--verbose']).deactivate({ app: '/Apps/Echo.app', bundle: 'b.c', timeoutMs: 1500 });
  assert.deepEqual(exec.argvs()[0], ['/opt/bin/act', '--verbose', 'deactivate', '--app', '/Apps/Echo.app', '--bundle', 'b.c', '--timeout', '2']);
  assert.equal(outcome.result, 'willCompleteAfterReboot');
  assert.equal(outcome.events[1]!.replacement, '1.1.0/2');
});

test('a failed event maps to result failed with the OSSystemExtensionError code, name and message', async () => {
  const exec = new FakeExec(() => ({
    stdout: lines(submitted, '{"event":"failed","bundle":"com.example.echo.driver","domain":"OSSystemExtensionErrorDomain","code":8,"name":"codeSignatureInvalid","message":"Code signature invalid"}'),
    exitCode: 1,
  }));
  const outcome = await activator(exec, CMD).activate({ dext: DEXT, bundle: 'com.example.echo.driver', timeoutMs: 5000 });
  assert.equal(outcome.result, 'failed');
  assert.deepEqual(outcome.error, { code: 8, name: 'codeSignatureInvalid', message: 'Code signature invalid', domain: 'OSSystemExtensionErrorDomain' });
  assert.equal(outcome.exitCode, 1);
});

test('a failed event with only a code gets the name from the error table', async () => {
  const exec = new FakeExec(() => ({ stdout: lines('{"event":"failed","bundle":"x","code":10}'), exitCode: 1 }));
  const outcome = await activator(exec, CMD).activate({ dext: DEXT, bundle: 'x', timeoutMs: 5000 });
  assert.deepEqual(outcome.error, { code: 10, name: 'forbiddenBySystemPolicy', message: 'forbiddenBySystemPolicy' });
});

test('exit 3 after needsUserApproval is needsUserApproval', async () => {
  const exec = new FakeExec(() => ({ stdout: lines(submitted, '{"event":"needsUserApproval","bundle":"com.example.echo.driver"}'), exitCode: 3 }));
  const outcome = await activator(exec, CMD).activate({ dext: DEXT, bundle: 'com.example.echo.driver', timeoutMs: 5000 });
  assert.equal(outcome.result, 'needsUserApproval');
  assert.equal(outcome.exitCode, 3);
});

test('a failure of the activator itself (no decisive callback) is thrown with its stderr', async () => {
  const exec = new FakeExec(() => ({ stdout: '{"event":"submitted","bundle":"x"', stderr: 'dextbench-activator: codesign failed: no identity found\n', exitCode: 1 }));
  await assert.rejects(activator(exec, CMD).activate({ dext: DEXT, bundle: 'x', timeoutMs: 5000 }),
    { message: `activate x: dextbench-activator activate --dext ${DEXT} --bundle x --timeout 5 exited with 1: dextbench-activator: codesign failed: no identity found before any request callback` });
  assert.deepEqual(outcomeOf(lines(submitted), 0), { result: 'failed', events: [JSON.parse(submitted)], exitCode: 0 });
  const cut = new FakeExec(() => ({ stdout: lines(submitted), exitCode: 0 }));
  await assert.rejects(activator(cut, CMD).activate({ dext: DEXT, bundle: 'x', timeoutMs: 5000 }), /exited with 0 after submitted$/);
});

test('a missing activator command is one line saying how to install it', async () => {
  const exec = new FakeExec(() => ({ stderr: 'dextbench-activator: command not found', exitCode: 127 }));
  await assert.rejects(activator(exec, CMD).activate({ dext: DEXT, bundle: 'x', timeoutMs: 5000 }), (e: Error) => {
    assert.equal(e.message, 'dextbench-activator is not installed on fake host: build and install the activator (see dext-fixtures/activator/README.md), or set activator.command in the rig');
    return true;
  });
});

test('usage errors and timeouts are thrown as one line', async () => {
  const usage = new FakeExec(() => ({ stderr: 'usage: dextbench-activator activate|deactivate (--dext X | --app Y) --bundle ID\n', exitCode: 64 }));
  await assert.rejects(activator(usage, CMD).activate({ dext: DEXT, bundle: 'x', timeoutMs: 5000 }),
    /^ToolError: dextbench-activator activate --dext .* usage error: usage: dextbench-activator activate\|deactivate/);
  const slow = new FakeExec(() => ({ timedOut: true }));
  await assert.rejects(activator(slow, CMD).activate({ dext: DEXT, bundle: 'x', timeoutMs: 5000 }), /^ToolError: activate x: dextbench-activator .* timed out after/);
});

test('exactly one of dext, systemExtension or app', async () => {
  const exec = new FakeExec(() => ({}));
  await assert.rejects(activator(exec, CMD).activate({ bundle: 'x', timeoutMs: 1 }), { message: 'activate x: give exactly one of a .dext, a .systemextension or an .app' });
  await assert.rejects(activator(exec, CMD).activate({ dext: 'a', app: 'b', bundle: 'x', timeoutMs: 1 }), /exactly one/);
  assert.equal(exec.calls.length, 0);
});
