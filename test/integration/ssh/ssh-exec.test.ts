// The ssh Exec against a real OpenSSH server on 127.0.0.1 (npm run sim:sshd): argv byte for byte,
// binary stdio, exit codes vs signals vs ssh's own 255, deadlines that kill the remote command, one
// reconnect for reads, and one clear line for each way a connection fails.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ExecError, TransportError } from '../../../harness/host/exec.ts';
import { hostExec, SshExec, type SshTarget } from '../../../harness/host/ssh.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd, type SimSshd } from '../../support/sim-sshd.ts';
import { tempDir } from '../../support/temp.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);

describe('ssh Exec', { skip }, () => {
  let sshd: SimSshd;
  let target: SshTarget;
  let exec: SshExec;
  before(async () => {
    sshd = await startSimSshd();
    target = { ssh: '127.0.0.1', port: sshd.port, identityFile: sshd.identityFile, options: [`UserKnownHostsFile=${sshd.knownHosts}`, 'SetEnv=SHLVL=1'] };
    exec = hostExec(target) as SshExec;
  });

  /** The remote process's argv, as hex of each argument's bytes (perl prints what it received). */
  async function remoteArgv(args: string[]): Promise<string[]> {
    const r = await exec.run(['/usr/bin/perl', '-e', 'print join("\\n", map { unpack("H*", $_) } @ARGV)', ...args]);
    return r.stdout === '' ? [] : r.stdout.split('\n').map((hex) => Buffer.from(hex, 'hex').toString('utf8'));
  }

  test('every character 1..255, empty strings, leading -, globs, ~, $, quotes, newlines and 32 KB reach the remote process byte for byte', async () => {
    const every = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
    const nasty = ['', '-n', '--', '*', '~', '~/x', '$HOME', '`id`', '$(id)', "it's", '"q"', 'a b', 'line1\nline2', '\\', ';rm -rf /tmp/x', '%s', '!', every, 'é漢字🙂'];
    assert.deepEqual(await remoteArgv(nasty), nasty);
    const big = 'x'.repeat(32 * 1024 - 7) + "'\n$*~";
    assert.deepEqual(await remoteArgv([big]), [big]);
  });

  test('stdin, stdout and stderr are binary-clean', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    const out = await exec.run(['cat'], { stdin: bytes });
    assert.ok(out.stdoutBytes.equals(bytes), 'stdout bytes differ');
    const err = await exec.run(['sh', '-c', 'cat >&2'], { stdin: bytes });
    assert.ok(err.stderrBytes.equals(bytes), 'stderr bytes differ');
  });

  test('a remote exit code, a death by signal and an exit 255 stay distinguishable from ssh failing', async () => {
    assert.equal((await exec.run(['sh', '-c', 'exit 42'], { nothrow: true })).exitCode, 42);
    const killed = await exec.run(['sh', '-c', 'kill -SEGV $$'], { nothrow: true });
    assert.deepEqual([killed.exitCode, killed.signal], [null, 'SIGSEGV']);
    const own255 = await exec.run(['sh', '-c', 'echo out; exit 255'], { nothrow: true });
    assert.deepEqual([own255.exitCode, own255.signal, own255.stdout], [255, null, 'out\n']);
    const missing = await exec.run(['no-such-command-here'], { nothrow: true });
    assert.deepEqual([missing.exitCode, missing.stderr], [127, 'no-such-command-here: command not found\n']);
    await assert.rejects(exec.run(['false']), ExecError);
  });

  test('cwd, env and the PATH prefix apply on the remote side', async () => {
    const dir = tempDir('ssh-cwd');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'only-here'), '#!/bin/sh\necho "found $GREETING"\n', { mode: 0o755 });
    const withPath = hostExec(target, { pathPrefix: [join(dir, 'bin')], env: { GREETING: 'hi there' } });
    assert.equal((await withPath.run(['only-here'])).stdout, 'found hi there\n');
    assert.equal((await withPath.run(['only-here'], { env: { GREETING: "it's me" } })).stdout, "found it's me\n");
    assert.equal((await exec.run(['pwd'], { cwd: dir })).stdout.trim(), dir);
    const cd = await exec.run(['pwd'], { cwd: join(dir, 'nope'), nothrow: true });
    assert.equal(cd.exitCode, 1);
    assert.match(cd.stderr, /^cd: .*nope: No such file or directory/);
  });

  test('a deadline kills the remote command and everything it started, not only the local ssh', async () => {
    // Durations no other test uses (other files run at the same time), so pgrep finds only these.
    const unique = `${process.pid % 1000}${Date.now() % 100000}`;
    const [first, second] = [`300.${unique}`, `301.${unique}`];
    const r = await exec.run(['sh', '-c', `sleep ${first} & exec sleep ${second}`], { nothrow: true, timeoutMs: 700 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const duration of [first, second]) {
      const left = spawnSync('pgrep', ['-f', `^sleep ${duration.replace('.', '\\.')}$`], { encoding: 'utf8' }).stdout.trim();
      assert.equal(left, '', `the remote sleep ${duration} still runs`);
    }
  });

  test('a streaming command (spawn) delivers lines as they come and kill() ends it on the remote side', async () => {
    const p = exec.spawn(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.05; done']);
    const lines: string[] = [];
    await new Promise<void>((resolve) => p.stdout.on('data', (c: Buffer) => {
      lines.push(...c.toString().split('\n').filter(Boolean));
      if (lines.length >= 3) resolve();
    }));
    p.kill('SIGTERM');
    const record = await p.exited;
    assert.deepEqual([record.exitCode, record.signal], [null, 'SIGTERM']);
    assert.deepEqual(lines.slice(0, 3), ['tick 1', 'tick 2', 'tick 3']);
  });

  test('every command shares one master connection', async () => {
    await exec.run(['true']);
    const check = spawnSync('ssh', ['-o', `ControlPath=${exec.controlPath}`, '-O', 'check', '127.0.0.1'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const pid = Number(/pid=(\d+)/.exec(check.stderr)?.[1]);
    await Promise.all(Array.from({ length: 6 }, () => exec.run(['true'])));
    const again = spawnSync('ssh', ['-o', `ControlPath=${exec.controlPath}`, '-O', 'check', '127.0.0.1'], { encoding: 'utf8' });
    assert.equal(Number(/pid=(\d+)/.exec(again.stderr)?.[1]), pid, 'a second master was started');
  });

  test('when the connection drops, a read is retried once over a new connection; a command that changes state is not', async () => {
    const dropMaster = () => setTimeout(() => spawnSync('ssh', ['-o', `ControlPath=${exec.controlPath}`, '-O', 'exit', '127.0.0.1']), 300);
    const script = 'sleep 1; echo done';
    dropMaster();
    const read = await exec.run(['sh', '-c', script], { idempotent: true });
    assert.equal(read.stdout, 'done\n');
    dropMaster();
    const write = exec.run(['sh', '-c', script]);
    await assert.rejects(write, (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.kind, 'dropped');
      assert.match(error.message, /the connection dropped during `sh -c sleep 1; echo done` .*never retried/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });

  test('each way a connection fails is one line that says what to do', async () => {
    const fail = async (t: SshTarget): Promise<TransportError> => {
      const e = await hostExec(t).run(['true']).then(() => undefined, (error: unknown) => error);
      assert.ok(e instanceof TransportError, `expected a TransportError, got ${String(e)}`);
      assert.doesNotMatch(e.message, /\n/);
      return e;
    };
    const refused = await fail({ ...target, port: 1 });
    assert.equal(refused.kind, 'unreachable');
    assert.match(refused.message, /cannot reach the host \(.*Connection refused\).*Remote Login/);

    const keys = tempDir('ssh-keys');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'stranger')]);
    const denied = await fail({ ...target, identityFile: join(keys, 'stranger') });
    assert.equal(denied.kind, 'auth');
    assert.match(denied.message, /refused the key .*ssh-copy-id 127\.0\.0\.1/);

    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'other_host')]);
    const otherKey = execFileSync('cat', [join(keys, 'other_host.pub')], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ');
    writeFileSync(join(keys, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
    const changed = await fail({ ...target, options: [`UserKnownHostsFile=${join(keys, 'known_hosts')}`] });
    assert.equal(changed.kind, 'host-key');
    assert.match(changed.message, /host key changed .*ssh-keygen -R '\[127\.0\.0\.1\]:\d+'/);

    writeFileSync(join(keys, 'empty_known_hosts'), '');
    const unknown = await fail({ ...target, options: [`UserKnownHostsFile=${join(keys, 'empty_known_hosts')}`] });
    assert.equal(unknown.kind, 'host-key');
    assert.match(unknown.message, /not trusted yet.*StrictHostKeyChecking=accept-new/);
  });

  test('sudo that needs a password fails with one line naming the command and dextbench provision', async () => {
    const dir = tempDir('ssh-sudo');
    writeFileSync(join(dir, 'sudo'), '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n', { mode: 0o755 });
    const withFakeSudo = hostExec(target, { pathPrefix: [dir] });
    await assert.rejects(withFakeSudo.run(['sudo', '-n', 'systemextensionsctl', 'developer', 'on']), (error: unknown) => {
      assert.ok(error instanceof ExecError);
      assert.match(error.message, /sudo needs a password for systemextensionsctl on this host: run `dextbench provision`/);
      return true;
    });
  });
});
