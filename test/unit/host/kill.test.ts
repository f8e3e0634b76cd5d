import assert from 'node:assert/strict';
import { test } from 'node:test';
import { killProcess } from '../../../harness/host/tools/kill.ts';
import { FakeExec } from './fake-exec.ts';

test('kill argv, with sudo -n on privileged rigs; signal names normalised', async () => {
  const exec = new FakeExec(() => ({}));
  await killProcess(exec, 1234, 'KILL', { sudo: false });
  await killProcess(exec, 1234, 'SIGKILL', { sudo: true });
  await killProcess(exec, 77, '-TERM', { sudo: false });
  assert.deepEqual(exec.argvs(), [['kill', '-KILL', '1234'], ['sudo', '-n', 'kill', '-KILL', '1234'], ['kill', '-TERM', '77']]);
});

test('kill failures: one line with the tool\'s words and what to do', async () => {
  const denied = new FakeExec(() => ({ stderr: 'kill: 1234: Operation not permitted\n', exitCode: 1 }));
  await assert.rejects(killProcess(denied, 1234, 'KILL', { sudo: false }),
    { message: 'kill -KILL 1234 on fake host failed: kill: 1234: Operation not permitted (set privileged: { sudo: true } in the rig to signal dext processes)' });
  const password = new FakeExec(() => ({ stderr: 'sudo: a password is required\n', exitCode: 1 }));
  await assert.rejects(killProcess(password, 1234, 'KILL', { sudo: true }), /a password is required \(the rig is privileged: give its user passwordless sudo for kill\)$/);
  await assert.rejects(killProcess(denied, 0, 'KILL', { sudo: false }), /not a process id: 0/);
  await assert.rejects(killProcess(denied, 5, 'KILL; rm', { sudo: false }), /not a signal name/);
});
