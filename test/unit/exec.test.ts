import assert from 'node:assert/strict';
import { test } from 'node:test';
import { $, ExecError, formatArgv, LocalExec, shellQuote } from '../../harness/host/exec.ts';
import { lane, NEEDS } from '../support/lane.ts';

const nasty = [`it's a "file" with $HOME and \`backticks\``, 'rm -rf / # *glob*', '', 'new\nline', 'tab\there', 'ünïcødé ✓', '-n'];

test('argv reaches the command byte-exact (no shell in between)', async () => {
  const exec = new LocalExec();
  const result = await exec.run(['printf', '%s\\0', ...nasty]);
  assert.deepEqual(result.stdout.split('\0').slice(0, -1), nasty);
});

test('stdin, env and exit codes', async () => {
  const exec = new LocalExec({ env: { DEXTBENCH_TEST_VAR: 'from-exec' } });
  const cat = await exec.run(['cat'], { stdin: 'piped\n' });
  assert.equal(cat.stdout, 'piped\n');
  const env = await exec.run(['sh', '-c', 'printf %s "$DEXTBENCH_TEST_VAR"']);
  assert.equal(env.stdout, 'from-exec');
  const failed = await exec.run(['sh', '-c', 'echo oops >&2; exit 7'], { nothrow: true });
  assert.equal(failed.exitCode, 7);
  assert.equal(failed.ok, false);
  await assert.rejects(exec.run(['sh', '-c', 'echo oops >&2; exit 7']), (e: unknown) =>
    e instanceof ExecError && e.message === "sh -c 'echo oops >&2; exit 7' exited with 7: oops");
});

test('a missing command is exit 127 with a one-line message, not a crash', async () => {
  const result = await new LocalExec().run(['dextbench-no-such-tool', 'x'], { nothrow: true });
  assert.equal(result.exitCode, 127);
  assert.equal(result.stderr, 'dextbench-no-such-tool: command not found');
});

test('a timeout kills the whole process tree', { skip: lane('process tree check', [NEEDS.bash, NEEDS.ps]) }, async () => {
  const exec = new LocalExec();
  const marker = `dextbench-timeout-${process.pid}`;
  const result = await exec.run(['bash', '-c', `sleep 30 & sleep 30 & wait # ${marker}`], { timeoutMs: 300, nothrow: true });
  assert.equal(result.timedOut, true);
  assert.ok(result.durationMs < 5000);
  await new Promise((r) => setTimeout(r, 100));
  const ps = await exec.run(['ps', '-eo', 'args']);
  assert.ok(!ps.stdout.includes(marker), 'children of the timed-out command are gone');
});

test('onLine streams lines as they come; observers see every command', async () => {
  const exec = new LocalExec();
  const records: string[][] = [];
  const off = exec.onRecord((r) => records.push(r.argv));
  const lines: string[] = [];
  await $(exec, ['sh', '-c', 'echo one; echo two >&2; printf three']).lines((l, s) => lines.push(`${s}:${l}`));
  off();
  await exec.run(['true']);
  assert.deepEqual(lines.sort(), ['stderr:two', 'stdout:one', 'stdout:three']);
  assert.deepEqual(records, [['sh', '-c', 'echo one; echo two >&2; printf three']]);
});

test('fluent modifiers: timeout and nothrow', async () => {
  const exec = new LocalExec();
  const r = await $(exec, ['sleep', '5']).timeout(200).nothrow();
  assert.equal(r.timedOut, true);
  assert.equal(r.ok, false);
});

test('PATH prefix puts shims first', async () => {
  const { mkdtempSync, writeFileSync, chmodSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'dextbench-shim-'));
  writeFileSync(join(dir, 'sw_vers'), '#!/bin/sh\necho shimmed "$@"\n');
  chmodSync(join(dir, 'sw_vers'), 0o755);
  const r = await new LocalExec({ pathPrefix: [dir] }).run(['sw_vers', '-productVersion']);
  assert.equal(r.stdout, 'shimmed -productVersion\n');
});

test('formatArgv quotes for a POSIX shell', () => {
  assert.equal(formatArgv(['ioreg', '-a', '-c', 'IOUSBHostDevice']), 'ioreg -a -c IOUSBHostDevice');
  assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  assert.equal(shellQuote(''), `''`);
});
