// The probe's argv and JSON line, es_new_client results to fixes, and ExecGuard's log lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExecGuardLine } from '../../../harness/es/execguard.ts';
import { logValue } from '../../../harness/sim/log-value.ts';
import { findNewClientResult, newClientFix } from '../../../harness/es/new-client.ts';
import { describeProbe, parseProbeLine, probeArgv, runProbe } from '../../../harness/es/probe.ts';
import { FakeExec } from '../host/fake-exec.ts';

test('probe argv per action', () => {
  assert.deepEqual(probeArgv({ action: 'exec', path: '/usr/bin/true', args: ['a b', '-c'] }), ['exec', '/usr/bin/true', 'a b', '-c']);
  assert.deepEqual(probeArgv({ action: 'signal', signal: 'sigkill' }), ['signal', 'KILL']);
  assert.deepEqual(probeArgv({ action: 'rename', path: '/a', to: '/b' }), ['rename', '/a', '/b']);
  assert.deepEqual(probeArgv({ action: 'open', path: '/a' }), ['open', '/a']);
  assert.deepEqual(probeArgv({ action: 'mount', image: '/x.dmg' }), ['mount', '/x.dmg']);
});

test('the probe JSON line: read; wrong fields named; described in one line', () => {
  const r = parseProbeLine('noise\n{"action":"exec","path":"/usr/bin/nc","args":["/usr/bin/nc"],"pid":1234,"ok":false,"exitStatus":null,"signal":null,"errno":1,"errnoName":"EPERM"}\n');
  assert.equal(r.errno, 1);
  assert.equal(describeProbe(r), 'EPERM (errno 1)');
  assert.equal(describeProbe(parseProbeLine('{"action":"signal","pid":9,"ok":true,"exitStatus":null,"signal":"SIGKILL","errno":null,"errnoName":null}')), 'ok, signal SIGKILL');
  assert.throws(() => parseProbeLine(''), /printed no JSON line: \(nothing\)/);
  assert.throws(() => parseProbeLine('{"action":"exec","pid":"1","ok":true}'), /"pid" should be an integer/);
  assert.throws(() => parseProbeLine('{"action":"exec","pid":1,"ok":"yes"}'), /"ok" should be true or false/);
  assert.throws(() => parseProbeLine('{"action":"exec","pid":1,"ok":true,"errno":"EPERM"}'), /"errno" should be an integer or null/);
});

test('runProbe: exit 64, 70 and 127 are one line each; 0 gives the JSON', async () => {
  const codes: Record<string, { exitCode: number; stderr?: string; stdout?: string }> = {
    fork: { exitCode: 0, stdout: '{"action":"fork","pid":5,"ok":true,"exitStatus":0,"signal":null,"errno":null,"errnoName":null}\n' },
    open: { exitCode: 64, stderr: 'usage: dextbench-esprobe open <path>' },
    unlink: { exitCode: 70, stderr: 'pipe: Too many open files' },
    create: { exitCode: 127 },
  };
  const exec = new FakeExec((argv) => codes[argv[1]!]!);
  assert.equal((await runProbe(exec, ['dextbench-esprobe'], { action: 'fork' }, { timeoutMs: 1000 })).exitStatus, 0);
  await assert.rejects(runProbe(exec, ['dextbench-esprobe'], { action: 'open', path: '/a' }, { timeoutMs: 1000 }), /refused its arguments \(usage, exit 64\): usage: dextbench-esprobe open <path>/);
  await assert.rejects(runProbe(exec, ['dextbench-esprobe'], { action: 'unlink', path: '/a' }, { timeoutMs: 1000 }), /the probe itself failed \(exit 70\): pipe: Too many open files/);
  await assert.rejects(runProbe(exec, ['dextbench-esprobe'], { action: 'create', path: '/a' }, { timeoutMs: 1000 }), /not on fake host; install it with dextbench provision, or set esprobe.command in the rig/);
});

test('es_new_client results found in text, each with its fix for eslogger and for an extension', () => {
  assert.equal(findNewClientResult('x ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED y'), 'ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED');
  assert.equal(findNewClientResult('ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED'), 'ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED');
  assert.equal(findNewClientResult('ES_NEW_CLIENT_RESULT_ERR_MADE_UP'), undefined);
  assert.equal(findNewClientResult('nothing'), undefined);
  const ext = { kind: 'extension', bundle: 'com.example.execguard' } as const;
  assert.match(newClientFix('ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED', ext), /Full Disk Access to com\.example\.execguard, or install the profile: dextbench profile --es com\.example\.execguard/);
  assert.match(newClientFix('ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED', ext), /must run as root/);
  assert.match(newClientFix('ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED', ext), /com\.apple\.developer\.endpoint-security\.client/);
  assert.match(newClientFix('ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED', { kind: 'eslogger' }), /Full Disk Access/);
});

test('ExecGuard lines (contract §5) parse; %20 stands for a space; other text does not', () => {
  assert.deepEqual(parseExecGuardLine('ExecGuard started: es_new_client ES_NEW_CLIENT_RESULT_SUCCESS'), { kind: 'started', result: 'ES_NEW_CLIENT_RESULT_SUCCESS' });
  assert.deepEqual(parseExecGuardLine('ExecGuard failed: es_new_client ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED'), { kind: 'failed', result: 'ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED' });
  assert.deepEqual(parseExecGuardLine('deny exec path=/usr/bin/nc signing_id=com.apple.nc pid=612 rule=path'), { kind: 'deny', path: '/usr/bin/nc', signingId: 'com.apple.nc', pid: 612, rule: 'path' });
  assert.deepEqual(parseExecGuardLine(`allow exec path=${logValue('/tmp/my tool')} signing_id=- pid=7 cached=true`), { kind: 'allow', path: '/tmp/my tool', signingId: null, pid: 7, cached: true });
  assert.equal(logValue('a%b\tc d'), 'a%25b%09c%20d');
  assert.equal(logValue(null), '-');
  assert.equal((parseExecGuardLine(`deny exec path=${logValue('/x/100% tab\there')} signing_id=- pid=1 rule=path`) as { path: string }).path, '/x/100% tab\there');
  for (const other of ['deny exec path=/a signing_id=- pid=x rule=path', 'deny exec path=/a signing_id=- pid=1 rule=team', 'allow exec path=/a pid=1 cached=true', 'FlowGate started rules=2']) {
    assert.equal(parseExecGuardLine(other), undefined, other);
  }
});
