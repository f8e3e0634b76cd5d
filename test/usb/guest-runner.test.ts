// runInGuest's own promises (test/support/qemu/guest.ts): the script's exit code and both output
// streams come back, and every wait has a deadline after which qemu is gone and the error shows
// what the guest printed last.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { GuestError, guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/misbehave.ts';

/** qemu processes this test process started and that still run. */
function ourQemus(): string[] {
  const ps = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes('qemu'));
}

describe('runInGuest', { skip }, () => {
  test('returns the script\'s exit code, stdout and stderr, arguments intact', async () => {
    const run = await runInGuest({ script: SCRIPT, args: ['exit', '3', 'two  spaces', '$HOME'], timeoutMs: 60_000 });
    assert.equal(run.exitCode, 3);
    assert.equal(run.stdout, 'stdout of exit 3 two  spaces $HOME\n');
    assert.equal(run.stderr, 'stderr of exit 3 two  spaces $HOME\n');
    assert.throws(() => guestReport(run, SCRIPT), (error: Error) => error instanceof GuestError
      && /test\/usb\/guest\/misbehave\.ts exited 3\n {2}stderr, last lines:\n {4}stderr of exit 3/.test(error.message));
  });

  test('a script past its deadline: qemu is killed and the error shows the script\'s last output', async () => {
    await assert.rejects(runInGuest({ script: SCRIPT, args: ['hang'], timeoutMs: 10_000 }), (error: Error) => {
      assert.ok(error instanceof GuestError, String(error));
      assert.match(error.message, /^guest script test\/usb\/guest\/misbehave\.ts timed out after 10s; qemu killed\n/);
      assert.match(error.message, /script stdout, last lines:\n {4}still here, about to hang\n/);
      assert.match(error.message, /guest console, last lines:\n(.*\n)* {4}dextbench-guest: ready\n/);
      return true;
    });
    assert.deepEqual(ourQemus(), []);
  });

  test('a boot past its deadline: qemu is killed and the error says so', async () => {
    await assert.rejects(runInGuest({ script: SCRIPT, args: ['exit', '0'], timeoutMs: 60_000, bootTimeoutMs: 500 }),
      /^GuestError: guest boot \(qemu start to init ready\) timed out after 500ms; qemu killed\n {2}guest console, last lines:\n/);
    assert.deepEqual(ourQemus(), []);
  });
});

test('guestReport: the last stdout line as JSON, or one error naming the script', () => {
  const run = (exitCode: number, stdout: string): GuestResult => ({ exitCode, stdout, stderr: 'Error: boom\n    at x.ts:1:1\n', console: '', bootMs: 0, scriptMs: 0, totalMs: 0 });
  assert.deepEqual(guestReport(run(0, 'chatter\n{"a":1}\n'), 's.ts'), { a: 1 });
  assert.throws(() => guestReport(run(0, 'chatter\n'), 's.ts'), /^GuestError: s\.ts exited 0 without a JSON line last on stdout\n {2}stdout, last lines:\n {4}chatter$/);
  assert.throws(() => guestReport(run(1, ''), 's.ts'), /^GuestError: s\.ts exited 1\n {2}stderr, last lines:\n {4}Error: boom\n {4} {4}at x\.ts:1:1\n {2}stdout, last lines:\n {4}\(nothing\)$/);
});
