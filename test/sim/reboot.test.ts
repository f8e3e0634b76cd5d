// The simulated Mac's sysctl (kern.boottime) and shutdown (-r now restarts it, root only) as
// commands, through its shims.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sleep } from '../../harness/common/time.ts';
import { startSim, type Sim } from './support.ts';

let sim: Sim;

before(async () => {
  sim = await startSim();
  // This machine's own shutdown and sudo must never be reached (tests may run as root).
  for (const tool of ['shutdown', 'sudo', 'sysctl']) assert.ok(existsSync(join(sim.binDir, tool)), `the simulated Mac has no ${tool}`);
  const dropIns = join(sim.stateDir, 'fs', 'etc', 'sudoers.d');
  mkdirSync(dropIns, { recursive: true });
  writeFileSync(join(dropIns, 'shutdown'), '%admin ALL = (root) NOPASSWD: /sbin/shutdown\n');
});

after(async () => {
  await sim?.stop();
});

const TIMEVAL = /^\{ sec = (\d+), usec = (\d+) \} \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

async function bootTime(): Promise<string> {
  const r = await sim.run('sysctl', ['-n', 'kern.boottime']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trimEnd(), TIMEVAL);
  return r.stdout;
}

test('sysctl: kern.boottime with and without -n; an unknown oid', async () => {
  const plain = await sim.run('sysctl', ['kern.boottime']);
  assert.equal(plain.code, 0);
  assert.equal(plain.stdout, `kern.boottime: ${await bootTime()}`);
  const unknown = await sim.run('sysctl', ['-n', 'kern.nope']);
  assert.deepEqual([unknown.code, unknown.stdout, unknown.stderr], [1, '', 'sysctl: unknown oid \'kern.nope\'\n']);
});

test('shutdown is root only: without sudo, NOT super-user and no restart', async () => {
  const before = await bootTime();
  const r = await sim.run('shutdown', ['-r', 'now']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'shutdown: NOT super-user\n']);
  await sleep(400);
  assert.equal(await bootTime(), before);
});

test('sudo shutdown: halt, sleep and later times are refused; -r now answers first, then the Mac restarts', async () => {
  const before = await bootTime();
  for (const [args, said] of [
    [['-h', 'now'], 'shutdown: the simulated Mac only restarts (-r): -h would leave nothing to come back\n'],
    [['-r', '+5'], 'shutdown: the simulated Mac restarts only now, not at +5\n'],
    [['now'], 'shutdown: -h, -r, -s, or -k is required\nusage: shutdown [-] [-h [-u] [-n] | -r [-n] | -s | -k] time [warning-message ...]\n'],
    [['-r', '-h', 'now'], 'shutdown: incompatible switches -h, -k, -r, and -s\nusage: shutdown [-] [-h [-u] [-n] | -r [-n] | -s | -k] time [warning-message ...]\n'],
  ] as const) {
    const r = await sim.run('sudo', ['-n', 'shutdown', ...args]);
    assert.deepEqual([r.code, r.stderr], [1, said], args.join(' '));
  }
  await sleep(400);
  assert.equal(await bootTime(), before, 'a refused shutdown restarts nothing');

  const r = await sim.run('sudo', ['-n', '/sbin/shutdown', '-r', 'now']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Shutdown NOW!\n\r\nSystem shutdown time has arrived\x07\x07\r\n', '']);
  assert.equal(await bootTime(), before, 'the command answers before the Mac goes down');
  await sleep(400);
  const after = await bootTime();
  assert.notEqual(after, before);
  const [, sec0, usec0] = TIMEVAL.exec(before.trimEnd())!;
  const [, sec1, usec1] = TIMEVAL.exec(after.trimEnd())!;
  assert.ok(Number(sec1) * 1e6 + Number(usec1) > Number(sec0) * 1e6 + Number(usec0));
});
