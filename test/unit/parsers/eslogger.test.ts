import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEsloggerLine, type EsProcess } from '../../../harness/host/parsers/index.ts';
import { fixture } from './fixture.ts';

test('5-B: exec, message version 9, object audit tokens in arbitrary key order', () => {
  const event = parseEsloggerLine(fixture('eslogger-exec-v9-5B.jsonl'))!;
  assert.equal(event.type, 'exec');
  assert.equal(event.eventType, 9);
  assert.equal(event.time, '2025-08-07T13:21:35.880814738Z');
  assert.equal(event.version, 9);
  assert.equal(event.seqNum, 27n);
  assert.equal(event.globalSeqNum, 75n);
  assert.deepEqual(event.process, {
    pid: 97391,
    ppid: 58916,
    path: '/bin/nu',
    signingId: 'nu-b9fb5b9dbba2e494',
    teamId: null,
    cdhash: '28CD2C759132B07D63C3A2B377AD440A6C66098E',
    isPlatformBinary: false,
    auditToken: { auid: 501, euid: 501, egid: 20, ruid: 501, rgid: 20, pid: 97391, asid: 100019, pidversion: 149091 },
    parentAuditToken: { auid: 501, euid: 501, egid: 20, ruid: 501, rgid: 20, pid: 58916, asid: 100019, pidversion: 87724 },
    responsibleAuditToken: { auid: 501, euid: 501, egid: 20, ruid: 501, rgid: 20, pid: 938, asid: 100019, pidversion: 2424 },
  } satisfies EsProcess);
  assert.equal(event.target?.path, '/bin/connection-checker');
  assert.equal(event.target?.signingId, 'connection_checker-04fde7bdb8bceee3');
  assert.equal(event.target?.cdhash, '33F0A3D85BEA260FED5CAD0529AB0E84EC9A0DF1');
  assert.equal(event.target?.auditToken.pidversion, 149092);
  assert.equal(event.target?.pid, 97391);
  assert.deepEqual(event.args, ['/bin/connection-checker']);
  assert.equal(event.child, undefined);
  assert.equal(event.exitStatus, undefined);
  const exec = (event.raw['event'] as Record<string, Record<string, unknown>>)['exec']!;
  assert.deepEqual(exec['env'], ['FOO=bar']);
  assert.equal(exec['image_cputype'], 16777228);
});

test('v10 fork (5-C behaviour): array audit tokens in audit_token_t val[] order; st_ino beyond 2^53 exact', () => {
  const [forkLine] = fixture('eslogger-built-v10-fork-and-exit.jsonl').split('\n');
  const event = parseEsloggerLine(forkLine!)!;
  assert.equal(event.type, 'fork');
  assert.equal(event.eventType, 11);
  assert.equal(event.version, 10);
  assert.equal(event.globalSeqNum, 9007199254740993n);
  assert.deepEqual(event.process.auditToken, { auid: 4294967295, euid: 0, egid: 0, ruid: 0, rgid: 0, pid: 7421, asid: 100000, pidversion: 23017 });
  assert.equal(event.process.pid, 7421);
  assert.equal(event.process.ppid, 1);
  assert.equal(event.process.teamId, null);
  assert.equal(event.process.isPlatformBinary, true);
  assert.equal(event.process.path, '/usr/libexec/xpcproxy');
  assert.equal(event.process.parentAuditToken?.pid, 1);
  assert.equal(event.child?.pid, 7422);
  assert.equal(event.child?.ppid, 7421);
  assert.equal(event.child?.auditToken.pidversion, 23018);
  assert.equal(event.target, undefined);
  const stat = ((event.raw['process'] as Record<string, Record<string, Record<string, unknown>>>)['executable']!)['stat']!;
  assert.equal(stat['st_ino'], 1152921500312525701n);
  assert.equal(stat['st_dev'], 16777233);
});

test('exit: the wait status', () => {
  const [, exitLine] = fixture('eslogger-built-v10-fork-and-exit.jsonl').split('\n');
  const event = parseEsloggerLine(exitLine!)!;
  assert.equal(event.type, 'exit');
  assert.equal(event.eventType, 15);
  assert.equal(event.exitStatus, 256);
  assert.equal(event.process.teamId, 'ABCDE12345');
  assert.equal(event.process.path, '/Applications/Example.app/Contents/MacOS/tool');
  assert.equal(event.process.parentAuditToken, undefined);
});

test('non-event lines are null; malformed events throw one line', () => {
  assert.equal(parseEsloggerLine(''), null);
  assert.equal(parseEsloggerLine('ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED'), null);
  assert.equal(parseEsloggerLine('{"schema_version":1}'), null);
  const oneLine = (pattern: RegExp) => (error: Error) => pattern.test(error.message) && !error.message.includes('\n');
  assert.throws(() => parseEsloggerLine('{"event":{"exec":{}'), oneLine(/^eslogger line is not valid JSON: /));
  assert.throws(() => parseEsloggerLine('{"event":{"exec":{},"fork":{}},"process":{}}'), oneLine(/^eslogger line: "event" has 2 keys, expected one/));
  assert.throws(() => parseEsloggerLine('{"event":{"exit":{"stat":0}}}'), oneLine(/^eslogger line: process is not an object$/));
  assert.throws(() => parseEsloggerLine('{"event":{"exit":{}},"process":{"audit_token":[1,2,3]}}'), oneLine(/^eslogger line: process\.audit_token has 3 values, expected 8$/));
  assert.throws(() => parseEsloggerLine('{"event":{"exit":{}},"process":{"audit_token":{"pid":1}}}'), oneLine(/^eslogger line: process\.audit_token\.auid is not an integer$/));
});
