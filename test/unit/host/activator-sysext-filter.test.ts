// The activator host tool with system extensions (--sysext) and the filter verbs (contract §3):
// the argv it sends and the typed outcome it reads from the JSON lines and exit codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activator, filterOutcomeOf } from '../../../harness/host/tools/activator.ts';
import { ToolError } from '../../../harness/host/tools/tool-error.ts';
import { FakeExec, lines } from './fake-exec.ts';

const CMD = ['dextbench-activator'];
const SYSEXT = '/work/ExecGuard-1.0.0.systemextension';

test('activate with a systemExtension sends --sysext; two builds at once are refused before anything runs', async () => {
  const exec = new FakeExec(() => ({ stdout: lines('{"event":"finished","bundle":"com.example.execguard","result":"completed"}') }));
  const tool = activator(exec, CMD);
  const outcome = await tool.activate({ systemExtension: SYSEXT, bundle: 'com.example.execguard', identity: '-', timeoutMs: 10_000 });
  assert.equal(outcome.result, 'completed');
  assert.deepEqual(exec.argvs(), [['dextbench-activator', 'activate', '--sysext', SYSEXT, '--bundle', 'com.example.execguard', '--identity', '-', '--timeout', '10']]);
  await assert.rejects(tool.activate({ systemExtension: SYSEXT, dext: '/x.dext', bundle: 'b.c', timeoutMs: 1000 }),
    (e: unknown) => e instanceof ToolError && e.message === 'activate b.c: give exactly one of a .dext, a .systemextension or an .app');
  assert.equal(exec.calls.length, 1);
});

test('filter enable/disable/status: argv with --name and --timeout in seconds; saved and status outcomes', async () => {
  const replies = [
    { stdout: lines('{"event":"filterSaved","bundle":"com.example.flowgate","enabled":true}') },
    { stdout: lines('{"event":"filterSaved","bundle":"com.example.flowgate","enabled":false}') },
    { stdout: lines('{"event":"filterStatus","bundle":"com.example.flowgate","enabled":false,"configured":true}') },
  ];
  const exec = new FakeExec(() => replies.shift()!);
  const tool = activator(exec, CMD);
  const enabled = await tool.filter('enable', 'com.example.flowgate', { name: 'FlowGate rules', timeoutMs: 2500 });
  assert.deepEqual([enabled.result, enabled.result === 'saved' && enabled.enabled], ['saved', true]);
  const disabled = await tool.filter('disable', 'com.example.flowgate', { timeoutMs: 1000 });
  assert.deepEqual([disabled.result, disabled.result === 'saved' && disabled.enabled], ['saved', false]);
  const status = await tool.filter('status', 'com.example.flowgate', { timeoutMs: 1000 });
  assert.deepEqual({ ...status, events: [] }, { result: 'status', bundle: 'com.example.flowgate', enabled: false, configured: true, events: [] });
  assert.deepEqual(exec.argvs(), [
    ['dextbench-activator', 'filter', 'enable', '--bundle', 'com.example.flowgate', '--name', 'FlowGate rules', '--timeout', '3'],
    ['dextbench-activator', 'filter', 'disable', '--bundle', 'com.example.flowgate', '--timeout', '1'],
    ['dextbench-activator', 'filter', 'status', '--bundle', 'com.example.flowgate', '--timeout', '1'],
  ]);
});

test('filter outcomes: needsApproval carries the message and the fix; failed carries the NEFilterManagerError; usage and silence are errors', async () => {
  const approval = filterOutcomeOf('com.example.flowgate', lines('{"event":"filterNeedsApproval","bundle":"com.example.flowgate","message":"waiting for Allow"}'), 3);
  assert.deepEqual(approval, {
    result: 'needsApproval', bundle: 'com.example.flowgate', message: 'waiting for Allow',
    fix: 'install the com.apple.webcontent-filter payload (dextbench profile --ne-filter com.example.flowgate), or click Allow at the Mac',
    events: [{ event: 'filterNeedsApproval', bundle: 'com.example.flowgate', message: 'waiting for Allow' }],
  });
  // Exit 3 alone (the line was cut short) still means approval.
  assert.equal(filterOutcomeOf('b.c', '', 3)?.result, 'needsApproval');
  const denied = filterOutcomeOf('b.c', lines('{"event":"failed","bundle":"b.c","domain":"NEFilterErrorDomain","code":5,"message":"denied"}'), 1);
  assert.deepEqual(denied?.result === 'failed' && denied.error, { code: 5, name: 'configurationPermissionDenied', message: 'denied', domain: 'NEFilterErrorDomain' });
  assert.equal(filterOutcomeOf('b.c', 'progress text only\n', 1), undefined);

  const usage = new FakeExec(() => ({ exitCode: 64, stderr: 'dextbench-activator: expected filter enable, disable or status\n' }));
  await assert.rejects(activator(usage, CMD).filter('enable', 'b.c', { timeoutMs: 1000 }), /usage error: dextbench-activator: expected filter enable, disable or status/);
  const silent = new FakeExec(() => ({ exitCode: 1, stderr: 'codesign failed\n' }));
  await assert.rejects(activator(silent, CMD).filter('enable', 'b.c', { timeoutMs: 1000 }),
    (e: unknown) => e instanceof ToolError && e.message === 'filter enable b.c: dextbench-activator filter enable --bundle b.c --timeout 1 exited with 1: codesign failed without a filter event');
});
