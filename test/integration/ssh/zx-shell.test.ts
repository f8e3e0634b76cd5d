// hostShell over ssh (a real OpenSSH server on 127.0.0.1, npm run sim:sshd): zx's `$` on a host
// reached through the ssh Exec. Interpolated values reach the remote process byte-exact, the remote
// keeps its own environment, and a timeout or kill() stops the remote command, not only ssh.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { hostExec, type SshExec } from '../../../harness/host/ssh.ts';
import { hostShell } from '../../../harness/host/zx.ts';
import { pollUntil } from '../../../harness/common/time.ts';
import { lane, NEEDS, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const skip = lane('zx host shell over ssh (OpenSSH server on 127.0.0.1)', [...SSH_LANE, NEEDS.bash, NEEDS.ps]);

const everyByte = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
const nasty = [`it's a "file" with $HOME and \`backticks\`; rm -rf / # *glob* ~ $(id) \\`, '', '-n', 'new\nline', everyByte, 'x'.repeat(32 * 1024)];

let sleeps = 0;
/** A sleep no other process runs: the remote is this machine, so ps finds a leftover by its argument. */
const uniqueSleep = (): string => `28.${process.pid}${++sleeps}`;

async function gone(seconds: string): Promise<void> {
  await pollUntil(async () => {
    const ps = await new LocalExec().run(['ps', '-eo', 'args']);
    const left = ps.stdout.split('\n').filter((l) => l.includes(`sleep ${seconds}`));
    return { value: left.length === 0 ? true : undefined, seen: left };
  }, { timeoutMs: 5000, describe: (left) => `the remote sleep ${seconds} still runs: ${JSON.stringify(left)}` });
}

describe('hostShell over ssh', { skip }, () => {
  let exec: SshExec;
  before(async () => {
    const sshd = await startSimSshd();
    exec = hostExec({ ssh: '127.0.0.1', port: sshd.port, identityFile: sshd.identityFile, options: [`UserKnownHostsFile=${sshd.knownHosts}`, 'SetEnv=SHLVL=1'] }) as SshExec;
  });
  after(async () => { await exec?.close(); });

  test('interpolated values reach the remote process byte-exact, one argument each', async () => {
    const $ = hostShell(exec);
    const out = await $`printf '%s\\0' ${nasty}`;
    assert.deepEqual(out.stdout.split('\0').slice(0, -1), nasty);
  });

  test('the remote keeps its own environment; env given to $ is added on the remote', async () => {
    const $ = hostShell(exec);
    const remotePath = (await exec.run(['/bin/bash', '-c', 'printf %s "$PATH"'])).stdout;
    const out = await $({ env: { ...process.env, ADDED: 'a b$c' } })`printf '%s|%s' "$PATH" "$ADDED"`;
    assert.equal(out.stdout, `${remotePath}|a b$c`);
  });

  test('a timeout and kill() stop the remote command', async () => {
    const $ = hostShell(exec);
    const [a, b] = [uniqueSleep(), uniqueSleep()];
    const timedOut = await $({ nothrow: true, timeout: '500ms' })`sleep ${a}`;
    assert.equal(timedOut.ok, false);
    await gone(a);
    const killed = $`sleep ${b}`.nothrow();
    setTimeout(() => void killed.kill('SIGTERM'), 300);
    assert.equal((await killed).ok, false);
    await gone(b);
  });
});
