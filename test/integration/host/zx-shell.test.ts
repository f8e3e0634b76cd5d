// hostShell: zx's `$` running on a host through its Exec. Values interpolated into a command reach
// the host's process byte-exact, deadlines and kill() stop the command on the host (its whole tree),
// the host keeps its own environment, and nothing is echoed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessOutput } from 'zx/core';
import { LocalExec, type Exec } from '../../../harness/host/exec.ts';
import { hostShell } from '../../../harness/host/zx.ts';
import { lane, NEEDS } from '../../support/lane.ts';

const skip = lane('zx host shell', [NEEDS.bash, NEEDS.ps]);

const everyByte = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
const nasty = [
  `it's a "file" with $HOME and \`backticks\`; rm -rf / # *glob* ~ $(id) \\ \\n`,
  '', '-n', '--', 'new\nline', '\ttab', 'ünïcødé ✓', everyByte, 'x'.repeat(32 * 1024),
];

/** Every command the Exec ran, so a test can see what reached the host. */
function recording(exec: Exec): { exec: Exec; argvs: string[][] } {
  const argvs: string[][] = [];
  exec.onRecord((r) => argvs.push(r.argv));
  return { exec, argvs };
}

/** A sleep no other process is likely to run: its argument is how a test finds a leftover with ps. */
let sleeps = 0;
const uniqueSleep = (): string => `29.${process.pid}${++sleeps}`;

async function leftover(seconds: string): Promise<string[]> {
  const ps = await new LocalExec().run(['ps', '-eo', 'args']);
  return ps.stdout.split('\n').filter((l) => l.includes(`sleep ${seconds}`));
}

test('interpolated values reach the host process byte-exact, one argument each (arrays too)', { skip }, async () => {
  const { exec, argvs } = recording(new LocalExec());
  const $ = hostShell(exec);
  const out = await $`printf '%s\\0' ${nasty[0]} ${nasty.slice(1)}`;
  assert.deepEqual(out.stdout.split('\0').slice(0, -1), nasty);
  // It went through the Exec, as one bash -c script.
  assert.equal(argvs.length, 1);
  assert.deepEqual(argvs[0]!.slice(0, 2), ['/bin/bash', '-c']);
  assert.match(argvs[0]![2]!, /^set -euo pipefail;printf /);
});

test('exit codes, nothrow and a thrown ProcessOutput; stderr is captured, never echoed', { skip }, async () => {
  const $ = hostShell(new LocalExec());
  const echoed: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => { echoed.push(String(chunk)); return true; }) as typeof process.stderr.write;
  let failed: unknown;
  try {
    const soft = await $({ nothrow: true })`echo oops >&2; exit 7`;
    assert.equal(soft.exitCode, 7);
    assert.equal(soft.stderr, 'oops\n');
    failed = await $`false; echo not reached`.then(() => undefined, (e: unknown) => e);
  } finally {
    process.stderr.write = write;
  }
  assert.ok(failed instanceof ProcessOutput);
  assert.equal(failed.exitCode, 1, 'set -e stops at the first failing command');
  assert.equal(failed.stdout, '');
  assert.deepEqual(echoed, []);
});

test('the host keeps its environment; env and cwd given to $ apply on the host', { skip }, async () => {
  const $ = hostShell(new LocalExec({ pathPrefix: ['/dextbench-host-bin'], env: { HOST_ONLY: 'host' } }));
  const plain = await $`printf '%s|%s' "$PATH" "$HOST_ONLY"`;
  assert.match(plain.stdout, /^\/dextbench-host-bin:.*\|host$/);
  // A whole environment (zx's usual `{...process.env, X}`) adds X and keeps the host's PATH.
  const added = await $({ env: { ...process.env, ADDED: 'a b$c' } })`printf '%s|%s' "$PATH" "$ADDED"`;
  assert.match(added.stdout, /^\/dextbench-host-bin:.*\|a b\$c$/);
  const cwd = await $({ cwd: '/tmp' })`pwd`;
  assert.equal(cwd.stdout, '/tmp\n');
  const missing = await $({ cwd: '/no/such/dir', nothrow: true })`echo ran`;
  assert.notEqual(missing.exitCode, 0);
  assert.equal(missing.stdout, '');
});

test('a timeout kills the command on the host with its whole tree', { skip }, async () => {
  const $ = hostShell(new LocalExec());
  const [a, b, c] = [uniqueSleep(), uniqueSleep(), uniqueSleep()];
  const started = performance.now();
  const out = await $({ nothrow: true, timeout: '300ms' })`sleep ${a} & sleep ${b} & wait`;
  assert.equal(out.signal, 'SIGTERM');
  assert.ok(performance.now() - started < 5000);
  assert.deepEqual([...await leftover(a), ...await leftover(b)], []);
  const method = await $`sleep ${c}`.timeout('200ms').nothrow();
  assert.equal(method.signal, 'SIGTERM');
  assert.deepEqual(await leftover(c), []);
});

test('kill() and the shell\'s abort signal stop host commands; an aborted shell starts none', { skip }, async () => {
  const controller = new AbortController();
  const $ = hostShell(new LocalExec(), { signal: controller.signal });
  const [a, b] = [uniqueSleep(), uniqueSleep()];
  const killed = $`sleep ${a}`.nothrow();
  setTimeout(() => void killed.kill('SIGKILL'), 100);
  assert.equal((await killed).signal, 'SIGKILL');
  const aborted = $`sleep ${b} & wait`.nothrow();
  setTimeout(() => controller.abort(new Error('step timed out')), 100);
  assert.equal((await aborted).signal, 'SIGTERM');
  assert.deepEqual([...await leftover(a), ...await leftover(b)], []);
  const refused = await $`echo never`.nothrow();
  assert.equal(refused.ok, false);
  assert.equal(refused.stdout, '');
  assert.match(refused.message, /aborted/);
});

test('lines stream as they come', { skip }, async () => {
  const $ = hostShell(new LocalExec());
  const lines: string[] = [];
  for await (const line of $`for i in 1 2 3; do echo "line $i"; done`) lines.push(line);
  assert.deepEqual(lines, ['line 1', 'line 2', 'line 3']);
});
