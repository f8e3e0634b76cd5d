// The eslogger stream: sudo -n argv, lines parsed as they come (both message versions), gaps in
// global_seq_num counted, waits with deadlines, and a refusal at start as one line with its fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EsloggerError, EsloggerStream } from '../../../harness/es/stream.ts';
import { FakeExec, type FakeProcess } from '../host/fake-exec.ts';

const token = (pid: number, v: 9 | 10) => (v === 10 ? [501, 501, 20, 501, 20, pid, 100019, 7] : { pidversion: 7, asid: 100019, pid, rgid: 20, ruid: 501, egid: 20, euid: 501, auid: 501 });
function execLine(global: number | string, v: 9 | 10, path = '/usr/bin/true', pid = 700): string {
  const proc = (p: string) => ({ executable: { path: p, stat: { st_ino: '__INO__' } }, audit_token: token(pid, v), ppid: 1, signing_id: 'com.apple.true', team_id: null, cdhash: null, is_platform_binary: true });
  return JSON.stringify({ event: { exec: { target: proc(path), args: [path, '-x'] } }, global_seq_num: '__G__', seq_num: 1, version: v, event_type: 9, time: 't', process: proc('/bin/zsh') })
    .replace(/"__INO__"/g, '1152921500312525701').replace('"__G__"', String(global));
}

async function started(): Promise<{ stream: EsloggerStream; proc: FakeProcess; exec: FakeExec }> {
  const exec = new FakeExec(() => ({}));
  const stream = await EsloggerStream.start(exec, { events: ['exec', 'fork'], startupMs: 20 });
  return { stream, proc: exec.spawned[0]!, exec };
}

const tick = () => new Promise((r) => setImmediate(r));

test('runs sudo -n eslogger with the event names; v9 and v10 lines both parse; partial lines wait for their end', async () => {
  const { stream, proc, exec } = await started();
  assert.deepEqual(exec.argvs(), [['sudo', '-n', 'eslogger', 'exec', 'fork']]);
  const half = execLine(1, 9);
  proc.stdout.write(half.slice(0, 40));
  await tick();
  assert.equal(stream.events().length, 0);
  proc.stdout.write(`${half.slice(40)}\n${execLine(2, 10, '/bin/echo', 701)}\nnot json\n{"broken\n`);
  await tick();
  const events = stream.events();
  assert.deepEqual(events.map((e) => [e.version, e.target?.path, e.pid]), [[9, '/usr/bin/true', 700], [10, '/bin/echo', 701]]);
  assert.equal(stream.malformed, 1);
  assert.deepEqual(stream.gaps(), []);
  await stream.stop();
  assert.deepEqual(proc.killedWith, ['SIGTERM']);
});

test('a jump in global_seq_num is a gap: the missing count, bigints past 2^53 exact; a restart from lower is not', async () => {
  const { stream, proc } = await started();
  const seen: bigint[] = [];
  stream.onGap((g) => seen.push(g.missing));
  proc.stdout.write([execLine(10, 10), execLine(11, 10), execLine(15, 10), execLine(17, 10), execLine('9007199254740993', 10), execLine(3, 10), execLine(4, 10), ''].join('\n'));
  await tick();
  assert.deepEqual(stream.gaps().map((g) => [g.after, g.before, g.missing]), [[11n, 15n, 3n], [15n, 17n, 1n], [17n, 9007199254740993n, 9007199254740975n]]);
  assert.deepEqual(seen, [3n, 1n, 9007199254740975n]);
  assert.equal(stream.dropped(), 9007199254740979n);
  await stream.stop();
});

test('waitFor: an event already seen, one still to come, a deadline, and eslogger ending first', async () => {
  const { stream, proc } = await started();
  proc.stdout.write(`${execLine(1, 10, '/a')}\n`);
  await tick();
  assert.equal((await stream.waitFor((e) => e.target?.path === '/a', { timeoutMs: 50, description: 'exec of /a' })).target?.path, '/a');
  const later = stream.waitFor((e) => e.target?.path === '/b', { timeoutMs: 2000, description: 'exec of /b' });
  proc.stdout.write(`${execLine(2, 10, '/b')}\n`);
  assert.equal((await later).globalSeqNum, 2n);
  await assert.rejects(stream.waitFor((e) => e.target?.path === '/c', { timeoutMs: 30, description: 'exec of /c' }), /^EsloggerError: no exec of \/c within 30 ms$/);
  const waiting = stream.waitFor((e) => e.target?.path === '/d', { timeoutMs: 2000, description: 'exec of /d' });
  proc.stderr.write('eslogger: lost connection\n');
  await tick();
  proc.exit(1);
  await assert.rejects(waiting, /eslogger exited \(1\): eslogger: lost connection while waiting for exec of \/d/);
});

for (const [stderr, code, fix] of [
  ['Failed to create ES client: ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED', 1, /Full Disk Access/],
  ['ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED', 1, /must run as root/],
  ['sudo: a password is required', 1, /passwordless sudo for \/usr\/bin\/eslogger \(dextbench provision/],
  ['sudo: eslogger: command not found', 1, /macOS 13/],
] as const) {
  test(`eslogger refused at start (${stderr}): one line with the fix`, async () => {
    const exec = new FakeExec(() => ({}), (p) => { setImmediate(() => { p.stderr.write(`${stderr}\n`); setImmediate(() => p.exit(code)); }); });
    const error = await EsloggerStream.start(exec, { events: ['exec'], startupMs: 500 }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof EsloggerError);
    assert.match(error.message, /^eslogger exec on fake host exited at once with 1: /);
    assert.match(error.message, fix);
    assert.ok(!error.message.includes('\n'));
  });
}

test('event names are checked before anything runs', async () => {
  const exec = new FakeExec(() => ({}));
  await assert.rejects(EsloggerStream.start(exec, { events: ['exec', 'Exec;rm'] }), /not event names: "Exec;rm"/);
  await assert.rejects(EsloggerStream.start(exec, { events: [] }), /no events/);
  assert.equal(exec.calls.length, 0);
});
