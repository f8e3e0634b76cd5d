// eslogger events normalised for matching: v9 and v10 alike, file/signal/mount bodies, dotted matches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestMatch, normaliseEvent } from '../../../harness/es/events.ts';
import { parseEsloggerLine } from '../../../harness/host/parsers/index.ts';
import { subsetMismatches } from '../../../harness/steps/support/match.ts';
import { fixture } from '../parsers/fixture.ts';

const v10Process = (pid: number, path: string) => ({
  audit_token: [4294967295, 0, 0, 0, 0, pid, 100000, 23017], ppid: 1, executable: { path, path_truncated: false, stat: { st_ino: 1152921500312525701 } },
  signing_id: 'com.apple.x', team_id: null, cdhash: null, is_platform_binary: true,
});
const line = (event: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ version: 10, event_type: 1, time: 't', seq_num: 1, global_seq_num: 2, process: v10Process(500, '/bin/zsh'), event, ...extra });

test('5-B (v9): exec normalised with process, target, args and pid', () => {
  const e = normaliseEvent(parseEsloggerLine(fixture('eslogger-exec-v9-5B.jsonl'))!);
  assert.equal(e.event, 'exec');
  assert.equal(e.version, 9);
  assert.equal(e.pid, 97391);
  assert.equal(e.globalSeqNum, 75n);
  assert.deepEqual(e.process, { pid: 97391, ppid: 58916, path: '/bin/nu', signingId: 'nu-b9fb5b9dbba2e494', teamId: null, cdhash: '28CD2C759132B07D63C3A2B377AD440A6C66098E', isPlatformBinary: false });
  assert.equal(e.target?.path, '/bin/connection-checker');
  assert.deepEqual(e.args, ['/bin/connection-checker']);
  assert.deepEqual(subsetMismatches(e, nestMatch({ 'target.path': '/bin/connection-checker', 'process.signingId': '/^nu-/', args: ['/bin/connection-checker'] })), []);
  assert.deepEqual(subsetMismatches(e, nestMatch({ 'target.path': '/usr/bin/true' })), ['target.path = "/bin/connection-checker", expected "/usr/bin/true"']);
});

test('v10 fork: the child from array audit tokens; global_seq_num past 2^53 exact', () => {
  const [forkLine] = fixture('eslogger-built-v10-fork-and-exit.jsonl').split('\n');
  const e = normaliseEvent(parseEsloggerLine(forkLine!)!);
  assert.equal(e.event, 'fork');
  assert.equal(e.version, 10);
  assert.equal(e.globalSeqNum, 9007199254740993n);
  assert.equal(e.child?.pid, 7422);
  assert.equal(e.pid, 7421);
  assert.deepEqual(subsetMismatches(e, nestMatch({ 'child.pid': 7422, 'process.path': '/usr/libexec/xpcproxy' })), []);
});

test('file events: open.file, unlink.target, create new_path / existing_file, rename source → destination', () => {
  const file = (path: string) => ({ path, path_truncated: false, stat: { st_ino: 1152921500312525701 } });
  const open = normaliseEvent(parseEsloggerLine(line({ open: { fflag: 1, file: file('/tmp/a') } }))!);
  assert.equal(open.path, '/tmp/a');
  const unlink = normaliseEvent(parseEsloggerLine(line({ unlink: { target: file('/tmp/b'), parent_dir: file('/tmp') } }))!);
  assert.equal(unlink.path, '/tmp/b');
  const created = normaliseEvent(parseEsloggerLine(line({ create: { destination_type: 1, destination: { new_path: { dir: file('/tmp/'), filename: 'c', mode: 420 } } } }))!);
  assert.equal(created.path, '/tmp/c');
  const existing = normaliseEvent(parseEsloggerLine(line({ create: { destination_type: 0, destination: { existing_file: file('/tmp/d') } } }))!);
  assert.equal(existing.path, '/tmp/d');
  const renamed = normaliseEvent(parseEsloggerLine(line({ rename: { source: file('/tmp/e'), destination_type: 1, destination: { new_path: { dir: file('/var'), filename: 'f' } } } }))!);
  assert.deepEqual([renamed.path, renamed.to], ['/tmp/e', '/var/f']);
  // A body without the fields still gives the event (the field names are from the ES header, not a capture).
  const bare = normaliseEvent(parseEsloggerLine(line({ open: {} }))!);
  assert.equal(bare.event, 'open');
  assert.equal(bare.path, undefined);
});

test('signal: sig number to its macOS name, the target process; mount: statfs names', () => {
  const s = normaliseEvent(parseEsloggerLine(line({ signal: { sig: 9, target: v10Process(612, '/bin/sleep') } }))!);
  assert.deepEqual([s.signal, s.sig, s.target?.pid, s.target?.path], ['SIGKILL', 9, 612, '/bin/sleep']);
  const usr1 = normaliseEvent(parseEsloggerLine(line({ signal: { sig: 30, target: v10Process(613, '/bin/sleep') } }))!);
  assert.equal(usr1.signal, 'SIGUSR1');
  const m = normaliseEvent(parseEsloggerLine(line({ mount: { statfs: { f_mntonname: '/Volumes/x', f_mntfromname: '/dev/disk4s1', f_fstypename: 'apfs' } } }))!);
  assert.deepEqual([m.path, m.device, m.fsType], ['/Volumes/x', '/dev/disk4s1', 'apfs']);
});

test('nestMatch: dotted keys become nested objects and merge with nested ones', () => {
  assert.deepEqual(nestMatch({ 'process.path': '/a', process: { pid: 3 }, 'target.signingId': 'x', args: ['a'] }),
    { process: { path: '/a', pid: 3 }, target: { signingId: 'x' }, args: ['a'] });
});
