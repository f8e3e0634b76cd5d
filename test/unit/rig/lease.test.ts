import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acquireLease } from '../../../harness/rig/lease.ts';
import { FakeExec, type Responder } from '../host/fake-exec.ts';

/** A host filesystem that answers mkdir/cat/tee/mv/rm/printenv as coreutils do. */
function fakeHost(env: Record<string, string> = {}) {
  const dirs = new Set<string>(['/tmp', '/var/folders/x/T']);
  const files = new Map<string, string>();
  const respond: Responder = (argv, options) => {
    const [cmd, ...args] = argv;
    switch (cmd) {
      case 'printenv': return env[args[0]!] !== undefined ? { stdout: `${env[args[0]!]}\n` } : { exitCode: 1 };
      case 'mkdir':
        if (dirs.has(args[0]!)) return { stderr: `mkdir: cannot create directory '${args[0]}': File exists\n`, exitCode: 1 };
        dirs.add(args[0]!);
        return {};
      case 'cat':
        return files.has(args[0]!) ? { stdout: files.get(args[0]!)! } : { stderr: `cat: ${args[0]}: No such file or directory\n`, exitCode: 1 };
      case 'tee':
        files.set(args[0]!, options.stdin!.toString());
        return { stdout: options.stdin!.toString() };
      case 'mv': {
        const [from, to] = args as [string, string];
        if (!dirs.has(from)) return { stderr: `mv: cannot stat '${from}': No such file or directory\n`, exitCode: 1 };
        dirs.delete(from);
        dirs.add(to);
        for (const [path, text] of [...files]) if (path.startsWith(`${from}/`)) { files.delete(path); files.set(to + path.slice(from.length), text); }
        return {};
      }
      case 'rm':
        dirs.delete(args[1]!);
        for (const path of [...files.keys()]) if (path.startsWith(`${args[1]}/`)) files.delete(path);
        return {};
      default: return { exitCode: 127, stderr: `${cmd}: command not found` };
    }
  };
  return { exec: new FakeExec(respond), dirs, files };
}

const DIR = '/var/folders/x/T/dextbench-lease-sim';

test('acquire: mkdir the lease dir under the host\'s TMPDIR and write owner + expiry through tee', async () => {
  const host = fakeHost({ TMPDIR: '/var/folders/x/T/' });
  const before = Date.now();
  const lease = await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'job 1', waitMs: 0 });
  assert.deepEqual(host.exec.argvs().slice(0, 3), [['printenv', 'TMPDIR'], ['mkdir', DIR], ['tee', `${DIR}/owner.json`]]);
  const holder = JSON.parse(host.files.get(`${DIR}/owner.json`)!);
  assert.equal(holder.owner, 'job 1');
  assert.ok(Date.parse(holder.expiresAt) >= before + 60_000);
  assert.equal(lease.dir, DIR);
  assert.equal(lease.tookOverFrom, undefined);
  await lease.release();
  assert.equal(host.dirs.has(DIR), false);
});

test('a held lease: waitMs 0 fails at once naming the holder and its expiry; no TMPDIR means /tmp', async () => {
  const host = fakeHost();
  await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'dextbench pid 1 worker 0', waitMs: 0 });
  await assert.rejects(acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'me', waitMs: 0 }), (e: Error) => {
    assert.match(e.message, /^rig "sim" is reserved by dextbench pid 1 worker 0 since \S+Z until \S+Z; if that holder is gone, remove \/tmp\/dextbench-lease-sim on fake host$/);
    return true;
  });
});

test('waiting: the lease is taken once the holder releases it', async () => {
  const host = fakeHost();
  const first = await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'first', waitMs: 0 });
  setTimeout(() => { void first.release(); }, 30);
  const second = await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'second', waitMs: 5000, pollMs: 10 });
  assert.equal(JSON.parse(host.files.get('/tmp/dextbench-lease-sim/owner.json')!).owner, 'second');
  assert.equal(second.tookOverFrom, undefined);
});

test('waiting past waitMs fails and says how long it waited', async () => {
  const host = fakeHost();
  await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'first', waitMs: 0 });
  await assert.rejects(acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'second', waitMs: 40, pollMs: 10 }), /reserved by first .* \(waited 0 s\)/);
});

test('an expired lease is taken over (moved aside, removed) and the takeover noted', async () => {
  const host = fakeHost();
  await acquireLease(host.exec, 'sim', { ttlMs: 1, owner: 'crashed job', waitMs: 0 });
  await new Promise((r) => setTimeout(r, 5));
  const lease = await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'me', waitMs: 0 });
  assert.equal(lease.tookOverFrom?.owner, 'crashed job');
  const mv = host.exec.argvs().find((a) => a[0] === 'mv')!;
  assert.equal(mv[1], '/tmp/dextbench-lease-sim');
  assert.match(mv[2]!, /^\/tmp\/dextbench-lease-sim\.stale-/);
  assert.ok(host.exec.argvs().some((a) => a[0] === 'rm' && a[2] === mv[2]));
  assert.equal(JSON.parse(host.files.get('/tmp/dextbench-lease-sim/owner.json')!).owner, 'me');
  assert.deepEqual([...host.dirs].filter((d) => d.includes('stale')), []);
});

test('release after a takeover leaves the new holder alone; renew then reports the loss', async () => {
  const host = fakeHost();
  const old = await acquireLease(host.exec, 'sim', { ttlMs: 1, owner: 'slow job', waitMs: 0 });
  await new Promise((r) => setTimeout(r, 5));
  await acquireLease(host.exec, 'sim', { ttlMs: 60_000, owner: 'new job', waitMs: 0 });
  await assert.rejects(old.renew(), { message: 'the reservation of rig "sim" was lost to new job: it expired and was taken over, or was removed' });
  await old.release();
  assert.equal(JSON.parse(host.files.get('/tmp/dextbench-lease-sim/owner.json')!).owner, 'new job');
});

test('renew pushes the expiry', async () => {
  const host = fakeHost();
  const lease = await acquireLease(host.exec, 'sim', { ttlMs: 1000, owner: 'me', waitMs: 0 });
  const first = lease.expiresAt.getTime();
  await new Promise((r) => setTimeout(r, 5));
  await lease.renew();
  assert.ok(lease.expiresAt.getTime() > first);
  assert.equal(JSON.parse(host.files.get('/tmp/dextbench-lease-sim/owner.json')!).expiresAt, lease.expiresAt.toISOString());
});

test('a lease dir without a readable owner.json is waited on, then taken over after the grace period', async () => {
  const host = fakeHost();
  host.dirs.add('/tmp/dextbench-lease-sim');
  await assert.rejects(acquireLease(host.exec, 'sim', { ttlMs: 1000, owner: 'me', waitMs: 0 }), /reserved by a holder that has not written its owner\.json yet/);
  const lease = await acquireLease(host.exec, 'sim', { ttlMs: 1000, owner: 'me', waitMs: 2000, pollMs: 5, unreadableGraceMs: 20 });
  assert.match(lease.tookOverFrom!.owner, /no readable owner\.json/);
});

test('mkdir failing for another reason is one clear line; rig names are made path-safe', async () => {
  const exec = new FakeExec((argv) => (argv[0] === 'mkdir' ? { stderr: `mkdir: cannot create directory '${argv[1]}': Permission denied\n`, exitCode: 1 } : { exitCode: 1 }));
  await assert.rejects(acquireLease(exec, 'my rig/2', { ttlMs: 1000, owner: 'me', waitMs: 0 }),
    { message: "could not reserve rig \"my rig/2\": mkdir /tmp/dextbench-lease-my_rig_2 on fake host failed: mkdir: cannot create directory '/tmp/dextbench-lease-my_rig_2': Permission denied" });
});
