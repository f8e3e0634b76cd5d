// dext-fixtures/esprobe/dextbench-esprobe, the real probe (contract §4), run here with the real
// perl: every action's JSON line (read back with harness/es's own parser too), errno names,
// signal names, byte-exact argv, usage errors. Only `mount` meets a stand-in: hdiutil is macOS's,
// so a recorded-argv script plays it on PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseProbeLine } from '../../../harness/es/probe.ts';
import { lane, NEEDS } from '../../support/lane.ts';

const probe = new URL('../../../dext-fixtures/esprobe/dextbench-esprobe', import.meta.url).pathname;
const opts = { skip: lane('esprobe', [NEEDS.perl, NEEDS.perlJsonPp]) };
const work = mkdtempSync(join(tmpdir(), 'dextbench esprobe "q" '));
after(() => rmSync(work, { recursive: true, force: true }));

interface Run { status: number | null; stdout: string; stderr: string; pid: number; json: Record<string, unknown> }

function run(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(probe, args, { encoding: 'utf8', timeout: 20_000, cwd: work, env: { ...process.env, ...env } });
  let json: Record<string, unknown> = {};
  if (r.status === 0) {
    assert.equal(r.stdout.split('\n').length, 2, `one line on stdout, got ${JSON.stringify(r.stdout)}`);
    json = JSON.parse(r.stdout) as Record<string, unknown>;
    parseProbeLine(r.stdout); // harness/es reads it without complaint
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? -1, json };
}

/** The fields every line carries, after the action's own (path, to, args) and the pid. */
const outcome = (ok: boolean, exitStatus: number | null, signal: string | null, errno: number | null, errnoName: string | null) =>
  ({ ok, exitStatus, signal, errno, errnoName });

test('exec: a program that runs is ok with its exit status; its output goes to stderr, stdout keeps the one line', opts, () => {
  const r = run(['exec', '/bin/sh', '-c', 'echo from-the-child; exit 3']);
  assert.equal(r.status, 0);
  const { pid, ...rest } = r.json;
  assert.ok(Number.isSafeInteger(pid) && pid !== r.pid, 'pid is the child');
  assert.deepEqual(rest, { action: 'exec', path: '/bin/sh', args: ['/bin/sh', '-c', 'echo from-the-child; exit 3'], ...outcome(true, 3, null, null, null) });
  assert.equal(r.stderr, 'from-the-child\n');
  // Key order is the contract's.
  assert.deepEqual(Object.keys(r.json), ['action', 'path', 'args', 'pid', 'ok', 'exitStatus', 'signal', 'errno', 'errnoName']);

  const t = run(['exec', '/bin/true']);
  assert.deepEqual({ ...t.json, pid: 0 }, { action: 'exec', path: '/bin/true', args: ['/bin/true'], pid: 0, ...outcome(true, 0, null, null, null) });
});

test('exec: errno of a failed execve comes back from the child (EACCES, ENOENT, ENOTDIR); a bare name is not looked up on PATH', opts, () => {
  const notExecutable = join(work, 'plain file');
  writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
  chmodSync(notExecutable, 0o644);
  const cases: [string, number, string][] = [
    [notExecutable, 13, 'EACCES'],
    [join(work, 'missing'), 2, 'ENOENT'],
    [join(notExecutable, 'below-a-file'), 20, 'ENOTDIR'],
    ['true', 2, 'ENOENT'], // execve("true") is relative to the current folder, which has none
  ];
  for (const [path, errno, name] of cases) {
    const r = run(['exec', path]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual({ ...r.json, pid: 0 }, { action: 'exec', path, args: [path], pid: 0, ...outcome(false, null, null, errno, name) }, path);
    assert.equal(r.stderr, '', 'no perl warning');
  }
});

test('exec: a program killed by a signal reports its name', opts, () => {
  const r = run(['exec', '/bin/sh', '-c', 'kill -KILL $$']);
  assert.deepEqual({ ...r.json, pid: 0 }, { action: 'exec', path: '/bin/sh', args: ['/bin/sh', '-c', 'kill -KILL $$'], pid: 0, ...outcome(true, null, 'SIGKILL', null, null) });
});

test('exec: args reach the program byte for byte (spaces, quotes, $, unicode, empty) and the JSON says them back', opts, () => {
  const record = join(work, 'argv.bin');
  const script = join(work, 'record argv.sh');
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\0' "$0" "$@" > "$RECORD"\n`);
  chmodSync(script, 0o755);
  const args = ['a b', `q"uo'te`, '$HOME `x`', 'üñí ✓ 日本', '', '\\n', 'tab\there'];
  const r = run(['exec', script, ...args], { RECORD: record });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.json.args, [script, ...args]);
  assert.equal(r.json.ok, true);
  assert.deepEqual(readFileSync(record), Buffer.from([script, ...args].map((a) => `${a}\0`).join(''), 'utf8'));
});

test('fork: the child exits 0', opts, () => {
  const r = run(['fork']);
  assert.equal(r.status, 0);
  assert.ok(r.json.pid !== r.pid);
  assert.deepEqual({ ...r.json, pid: 0 }, { action: 'fork', pid: 0, ...outcome(true, 0, null, null, null) });
});

test('signal: TERM/KILL end the child by that signal; SIG prefix and case are accepted; STOP is seen as a stop; CHLD is ignored', opts, () => {
  const cases: [string, Record<string, unknown>][] = [
    ['TERM', { ...outcome(true, null, 'SIGTERM', null, null), sent: 'SIGTERM', stopped: false }],
    ['SIGKILL', { ...outcome(true, null, 'SIGKILL', null, null), sent: 'SIGKILL', stopped: false }],
    ['usr1', { ...outcome(true, null, 'SIGUSR1', null, null), sent: 'SIGUSR1', stopped: false }],
    ['STOP', { ...outcome(true, null, 'SIGSTOP', null, null), sent: 'SIGSTOP', stopped: true }],
    ['CHLD', { ...outcome(true, 0, null, null, null), sent: 'SIGCHLD', stopped: false }],
  ];
  for (const [name, want] of cases) {
    const r = run(['signal', name]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number.isSafeInteger(r.json.pid) && r.json.pid !== r.pid, 'pid is the child');
    assert.deepEqual({ ...r.json, pid: 0 }, { action: 'signal', pid: 0, ...want }, name);
  }
});

test('open/create/rename/unlink: ok with the probe\'s own pid, or the errno and its name', opts, () => {
  const dir = join(work, 'files');
  mkdirSync(dir);
  const a = join(dir, 'a file');
  const b = join(dir, 'b ✓');
  const expectOp = (args: string[], fields: Record<string, unknown>, result: ReturnType<typeof outcome>) => {
    const r = run(args);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json, { action: args[0], ...fields, pid: r.pid, ...result }, args.join(' '));
  };
  const ok = outcome(true, null, null, null, null);
  expectOp(['open', a], { path: a }, outcome(false, null, null, 2, 'ENOENT'));
  expectOp(['create', a], { path: a }, ok);
  assert.ok(existsSync(a));
  expectOp(['create', a], { path: a }, outcome(false, null, null, 17, 'EEXIST'));
  expectOp(['create', join(dir, 'no such dir', 'x')], { path: join(dir, 'no such dir', 'x') }, outcome(false, null, null, 2, 'ENOENT'));
  expectOp(['open', a], { path: a }, ok);
  expectOp(['open', dir], { path: dir }, ok);
  expectOp(['rename', a, b], { path: a, to: b }, ok);
  assert.ok(!existsSync(a) && existsSync(b));
  expectOp(['rename', a, b], { path: a, to: b }, outcome(false, null, null, 2, 'ENOENT'));
  expectOp(['unlink', dir], { path: dir }, outcome(false, null, null, 21, 'EISDIR'));
  expectOp(['unlink', b], { path: b }, ok);
  assert.ok(!existsSync(b));
  expectOp(['unlink', b], { path: b }, outcome(false, null, null, 2, 'ENOENT'));
});

test('mount: hdiutil attach -nobrowse -readonly -mountpoint <tmp>, then detach; a refusal keeps its last line; no hdiutil is ENOENT', opts, () => {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const log = join(work, 'hdiutil.log');
  const hdiutil = join(bin, 'hdiutil');
  // Records its argv; `attach` fails when FAIL_ATTACH is set, as hdiutil does for a bad image.
  writeFileSync(hdiutil, `#!/bin/sh\nprintf '%s\\0' "$@" >> "$LOG"; printf '\\n' >> "$LOG"\n`
    + `if [ "$1" = attach ] && [ -n "$FAIL_ATTACH" ]; then echo "some chatter"; echo "hdiutil: attach failed - image not recognized" >&2; exit 1; fi\n`
    + `[ "$1" = attach ] && echo "/dev/disk4 \t/tmp/mnt"\nexit 0\n`);
  chmodSync(hdiutil, 0o755);
  const image = join(work, 'disk image.dmg');
  const env = { PATH: `${bin}:${process.env.PATH}`, LOG: log, TMPDIR: work };
  const calls = () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\0').slice(0, -1));

  const r = run(['mount', image], env);
  assert.equal(r.status, 0, r.stderr);
  const mountPoint = join(work, `dextbench-esprobe-mount.${r.pid}`);
  assert.deepEqual(r.json, { action: 'mount', path: image, pid: r.pid, ...outcome(true, 0, null, null, null), mountPoint, detached: true });
  assert.deepEqual(calls(), [['attach', '-nobrowse', '-readonly', '-mountpoint', mountPoint, image], ['detach', mountPoint]]);
  assert.ok(!existsSync(mountPoint), 'the mount point is removed');

  rmSync(log);
  const refused = run(['mount', image], { ...env, FAIL_ATTACH: '1' });
  assert.deepEqual(refused.json, {
    action: 'mount', path: image, pid: refused.pid, ...outcome(false, 1, null, null, null),
    mountPoint: join(work, `dextbench-esprobe-mount.${refused.pid}`), message: 'hdiutil: attach failed - image not recognized',
  });
  assert.equal(calls().length, 1, 'no detach after a failed attach');

  const absent = run(['mount', image], { PATH: '/nonexistent', TMPDIR: work });
  assert.equal(absent.status, 0, absent.stderr);
  assert.deepEqual({ ...absent.json, mountPoint: '' }, { action: 'mount', path: image, pid: absent.pid, ...outcome(false, null, null, 2, 'ENOENT'), mountPoint: '' });
});

test('usage errors: exit 64, one line on stderr naming the form, nothing on stdout', opts, () => {
  const cases: [string[], RegExp][] = [
    [[], /missing action; usage: dextbench-esprobe exec <path>/],
    [['run', '/bin/true'], /unknown action 'run'/],
    [['exec'], /expected 'exec <path> \[args\.\.\.\]', got 0 arguments after exec/],
    [['exec', ''], /exec needs a path/],
    [['fork', 'x'], /expected 'fork', got 1 argument after fork/],
    [['rename', 'a'], /expected 'rename <from> <to>', got 1 argument/],
    [['open', 'a', 'b'], /expected 'open <path>', got 2 arguments/],
    [['signal', 'BOGUS'], /unknown signal 'BOGUS'/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(args);
    assert.equal(r.status, 64, `${JSON.stringify(args)}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, /^dextbench-esprobe: /);
    assert.match(r.stderr, pattern);
  }
});
