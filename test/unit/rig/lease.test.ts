// The rig lease against a real filesystem through LocalExec (real sh, mkdir, mv, stat, date), and,
// where this test runs as root, a second user (nobody, through setpriv) on the same lease folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalExec, TransportError, type Exec, type ExecOptions } from '../../../harness/host/exec.ts';
import { acquireLease, inspectLease, leaseDirFor, type LeaseState } from '../../../harness/rig/lease.ts';
import { sleep } from '../../../harness/common/time.ts';

const root = mkdtempSync(join(tmpdir(), 'dextbench-lease-'));
chmodSync(root, 0o755); // another user must be able to reach the shared folder
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshBase = () => join(root, `case-${++n}`, 'Users', 'Shared', 'dextbench', 'leases');
const exec = new LocalExec();

test('acquire: an atomic <rig>.lease folder in the shared folder, both 0777, owner.json world-readable; release removes it', async () => {
  const base = freshBase();
  const lease = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'dextbench run', waitMs: 0 });
  const dir = leaseDirFor(base, 'desk');
  assert.equal(lease.dir, dir);
  assert.equal(statSync(base).mode & 0o7777, 0o777);
  assert.equal(statSync(dir).mode & 0o7777, 0o777);
  assert.equal(statSync(join(dir, 'owner.json')).mode & 0o777, 0o644);
  const holder = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8'));
  assert.equal(holder.owner, 'dextbench run');
  assert.equal(holder.pid, process.pid);
  assert.equal(holder.ttlMs, 60_000);
  assert.equal(holder.token, lease.holder.token);
  await lease.release();
  assert.equal(existsSync(dir), false);
});

test('a held lease: waitMs 0 fails at once, naming the holder, its user and host, and when it expires', async () => {
  const base = freshBase();
  await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'dextbench run', waitMs: 0 });
  await assert.rejects(acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'dextbench rig plug echo', waitMs: 0 }),
    /^LeaseError: rig "desk" is reserved by dextbench run \(\S+@\S+, pid \d+\) since \S+, renewed 0ms ago; it expires 1m after its last renewal if that holder is gone$/);
});

test('a second user waits (told once) and gets the rig when the first releases it', async () => {
  const base = freshBase();
  const first = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'first', waitMs: 0 });
  const waits: LeaseState[] = [];
  setTimeout(() => void first.release(), 600);
  const second = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'second', waitMs: 10_000, pollMs: 100, onWait: (s) => waits.push(s) });
  assert.equal(waits.length, 1);
  assert.equal(waits[0]!.held && waits[0]!.holder?.owner, 'first');
  assert.equal(second.tookOverFrom, undefined);
  await second.release();
});

test('an expired lease is taken over; the old holder learns it lost it and its release leaves the new one alone', async () => {
  const base = freshBase();
  const old = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 1_000, owner: 'killed run', waitMs: 0 });
  const taker = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'next run', waitMs: 5_000, pollMs: 200 });
  assert.ok(taker.tookOverFrom !== undefined && taker.tookOverFrom !== 'unreadable');
  assert.equal(taker.tookOverFrom.owner, 'killed run');
  await assert.rejects(old.renew(), /the reservation of rig "desk" was lost to next run/);
  await old.release();
  const state = await inspectLease(exec, base, 'desk', 60_000);
  assert.equal(state.held && state.holder?.token, taker.holder.token);
});

test('a lease kept alive is never taken over, however long the others wait', async () => {
  const base = freshBase();
  const holder = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 1_200, owner: 'long run', waitMs: 0 });
  let lost = false;
  holder.keepAlive(() => { lost = true; });
  await assert.rejects(acquireLease(exec, 'desk', { baseDir: base, ttlMs: 1_200, owner: 'waiter', waitMs: 3_500, pollMs: 200 }), /reserved by long run/);
  assert.equal(lost, false);
  await holder.release();
});

test('a host that does not answer for a while (a reboot) does not stop the renewals: the lease is renewed once it is back', async () => {
  const base = freshBase();
  let unreachableUntil = 0;
  let refused = 0;
  const flaky: Exec = {
    where: 'flaky', onRecord: (l) => exec.onRecord(l), spawn: (a, o) => exec.spawn(a, o), close: () => exec.close(),
    run: (argv: string[], options?: ExecOptions) => {
      if (performance.now() < unreachableUntil) { refused++; return Promise.reject(new TransportError('unreachable', 'ssh: connect to host mac port 22: Host is down', argv)); }
      return exec.run(argv, options);
    },
  };
  const holder = await acquireLease(flaky, 'desk', { baseDir: base, ttlMs: 900, owner: 'rebooting run', waitMs: 0 });
  let lost: Error | undefined;
  unreachableUntil = performance.now() + 1_000;
  holder.keepAlive((e) => { lost = e; });
  await sleep(1_800);
  assert.ok(refused >= 2, `renewals were tried while the host was down (${refused})`);
  assert.equal(lost, undefined);
  const state = await inspectLease(exec, base, 'desk', 900);
  assert.ok(state.held && state.holder?.token === holder.holder.token && state.ageMs < 900, `renewed since the host came back: ${JSON.stringify(state)}`);
  await holder.release();
});

test('an unreadable owner.json counts as expired once the TTL has passed since its mtime, and not before', async () => {
  const base = freshBase();
  const dir = leaseDirFor(base, 'desk');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'owner.json'), '\x00\x01 not json');
  await assert.rejects(acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'rig plug', waitMs: 0 }),
    /reserved by a holder whose owner\.json cannot be read/);
  const past = new Date(Date.now() - 120_000);
  utimesSync(join(dir, 'owner.json'), past, past);
  const lease = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'rig plug', waitMs: 0 });
  assert.equal(lease.tookOverFrom, 'unreadable');
  await lease.release();
});

test('two takers of one expired lease: one takes it, the other is told who holds it now', async () => {
  const base = freshBase();
  await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 1_000, owner: 'killed run', waitMs: 0 });
  await sleep(2_100);
  const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((owner) =>
    acquireLease(exec, 'desk', { baseDir: base, ttlMs: 60_000, owner, waitMs: 0 })));
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  assert.equal(won.length, 1, JSON.stringify(outcomes.map((o) => o.status === 'rejected' ? String(o.reason) : 'won')));
  const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLease>>>).value;
  for (const o of outcomes) {
    if (o.status === 'rejected') assert.match(String(o.reason), new RegExp(`reserved by (${winner.holder.owner} |a holder that is just taking it)|the expired reservation of killed run .* is being taken over by another user`));
  }
  const state = await inspectLease(exec, base, 'desk', 60_000);
  assert.equal(state.held && state.holder?.token, winner.holder.token);
});

/** Commands as another user (setpriv), as a second account on the Mac would run them. */
class OtherUserExec implements Exec {
  readonly where = 'local as nobody';
  private readonly inner = new LocalExec();
  run(argv: string[], options?: ExecOptions) {
    return this.inner.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv], options);
  }
  spawn(): never { throw new Error('not used'); }
  onRecord() { return () => {}; }
  async close() {}
}

const asRoot = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
test('another user sees who holds the rig, waits, and takes over an expired lease', { skip: asRoot ? false : 'needs root and setpriv to act as a second user' }, async () => {
  const base = freshBase();
  const other = new OtherUserExec();
  const mine = await acquireLease(exec, 'desk', { baseDir: base, ttlMs: 1_000, owner: 'ci run', waitMs: 0 });
  const seen = await inspectLease(other, base, 'desk', 60_000);
  assert.equal(seen.held && seen.holder?.owner, 'ci run');
  await assert.rejects(acquireLease(other, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'desk user', waitMs: 0 }), /reserved by ci run/);
  const theirs = await acquireLease(other, 'desk', { baseDir: base, ttlMs: 60_000, owner: 'desk user', waitMs: 5_000, pollMs: 200 });
  assert.ok(theirs.tookOverFrom !== undefined && theirs.tookOverFrom !== 'unreadable' && theirs.tookOverFrom.owner === 'ci run');
  assert.equal(statSync(join(theirs.dir, 'owner.json')).uid, 65534);
  // Nothing of the taken-over lease is left behind, though another user created it.
  assert.deepEqual(spawnSync('ls', ['-A', base], { encoding: 'utf8' }).stdout.trim(), 'desk.lease');
  await theirs.release();
  await mine.release();
  assert.equal(existsSync(theirs.dir), false);
});
