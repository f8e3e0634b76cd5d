// One rig is one Mac: two runs, the hands-on commands, a killed run and an interrupted one all
// reach the same simulated Mac through its lease, as they would on hardware. Each test runs the
// real CLI in a scratch project of its own.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { tempDir } from '../../support/temp.ts';

const project = join(repoRoot, 'test/fixtures/projects/one-mac');
const shortLeaseRig = join(project, 'rigs/sim-short-lease.yaml');

interface Running { child: ChildProcess; out: () => string; done: Promise<number | null> }

/** `dextbench …` as a terminal starts it: a process group of its own, which a Ctrl-C or kill -9 hits whole. */
function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CI: '', DEXTBENCH_HISTORY: 'off', ...env }, detached: true });
  let out = '';
  child.stdout!.on('data', (c) => { out += c; });
  child.stderr!.on('data', (c) => { out += c; });
  const done = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, out: () => out, done };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const leaseFile = (cwd: string, rig: string) => join(cwd, '.dextbench/sim', rig, 'fs/Users/Shared/dextbench/leases', `${rig}.lease`, 'owner.json');
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('two runs on one rig at once: the second waits for the first, both pass, neither unplugs the other\'s device; each has its own --output', async () => {
  const cwd = scratchDir();
  const first = start(['run', '--output', 'out-a', '--reporter', 'list,json', '--var', 'HOLD=4s', join(project, 'hold-echo.yaml')], cwd);
  await until('the first run holds the rig', () => existsSync(leaseFile(cwd, 'sim')));
  const second = start(['run', '--output', 'out-b', '--reporter', 'list,json', '--var', 'HOLD=1s', join(project, 'hold-echo.yaml')], cwd);
  const [a, b] = await Promise.all([first.done, second.done]);
  assert.equal(a, 0, first.out());
  assert.equal(b, 0, second.out());
  assert.match(second.out(), /dextbench: rig sim is reserved by dextbench run \(\S+@\S+, pid \d+\) since \S+; waiting up to 30m/);
  for (const dir of ['out-a', 'out-b']) {
    const report = JSON.parse(readFileSync(join(cwd, dir, 'results.json'), 'utf8'));
    assert.equal(report.stats.expected, 1, dir);
    assert.ok(existsSync(join(cwd, dir, 'test-results')), `${dir}/test-results`);
  }
  assert.equal(existsSync(join(cwd, 'dextbench-report')), false, 'no run wrote the default report folder');
});

test('a run killed with SIGKILL: the next run waits, takes over once the lease\'s TTL has passed, and passes', async () => {
  const cwd = scratchDir();
  const killed = start(['run', '--rig', shortLeaseRig, '--var', 'HOLD=60s', join(project, 'hold-echo.yaml')], cwd);
  await until('the run holds the rig', () => existsSync(leaseFile(cwd, 'sim-short-lease')));
  const holder = JSON.parse(readFileSync(leaseFile(cwd, 'sim-short-lease'), 'utf8'));
  process.kill(-killed.child.pid!, 'SIGKILL');
  await killed.done;
  const next = await dextbench(['run', '--rig', shortLeaseRig, '--var', 'HOLD=0s', join(project, 'hold-echo.yaml')], { cwd });
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.match(next.stdout, /rig sim-short-lease is reserved by dextbench run \(/);
  assert.match(next.stdout, new RegExp(`rig sim-short-lease: took over the expired reservation of dextbench run \\(\\S+, pid ${holder.pid}\\)`));
  assert.match(next.stdout, /1 passed/);
});

test('Ctrl-C during a scenario: cleanup runs on a Mac that outlives the runner, the rig is left safe, no temp folder is left, nothing runs on', async () => {
  const cwd = scratchDir();
  const tmp = tempDir('dextbench-ctrlc-tmp-');
  const run = start(['run', '--reporter', 'list', join(project, 'activate-and-wait.yaml')], cwd, { TMPDIR: tmp });
  await until('the scenario reached its wait step', () => {
    const state = join(cwd, '.dextbench/sim/sim/state.json');
    return existsSync(state) && /"activated enabled"/.test(readFileSync(state, 'utf8')) && /"hub1":\[false,true/.test(readFileSync(state, 'utf8'));
  });
  // While the run holds the rig, hands-on control is refused and status says who holds it.
  const plug = await dextbench(['rig', 'unplug', 'echo'], { cwd });
  assert.equal(plug.code, 1);
  assert.match(plug.stderr.trim(), /^dextbench: rig "sim" is reserved by dextbench run \(\S+, pid \d+\) since \S+, renewed \d+m?s ago; it expires 2m after its last renewal if that holder is gone$/);
  const status = await dextbench(['rig', 'status'], { cwd });
  assert.match(status.stdout, /^ {2}reserved by dextbench run \(/m);
  assert.match(status.stdout, /port 2 {2}on {3}echo {2}enumerated as "Loopback"/);

  const daemon = JSON.parse(readFileSync(join(cwd, '.dextbench/sim/sim/daemon.json'), 'utf8')) as { pid: number };
  process.kill(-run.child.pid!, 'SIGINT');
  const code = await run.done;
  const output = run.out();
  assert.equal(code, 130, output);
  assert.doesNotMatch(output, /not reachable|SimLaunchError|cleanup failed|\n\s+at /, output);
  // The cleanup reached the Mac: the extension is gone, the device unplugged.
  const list = await dextbench(['sysext', 'list', '--json'], { cwd });
  assert.deepEqual(JSON.parse(list.stdout).extensions.filter((e: { active: boolean }) => e.active), [], list.stdout);
  const after = await dextbench(['rig', 'status'], { cwd });
  assert.match(after.stdout, /not reserved/);
  assert.match(after.stdout, /port 2 {2}off {2}echo {2}not enumerated/);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith('dextbench')), []);
  await until('the simulated Mac stops once nobody uses it', () => !alive(daemon.pid), 15_000);
});

test('a damaged simulated-Mac state: the run says how to reset it in one line; rig reset does, and the next run passes', async () => {
  const cwd = scratchDir();
  mkdirSync(join(cwd, '.dextbench/sim/sim'), { recursive: true });
  writeFileSync(join(cwd, '.dextbench/sim/sim/state.json'), JSON.stringify({ format: 1, extensions: 7 }));
  const broken = await dextbench(['run', '--var', 'HOLD=0s', join(project, 'hold-echo.yaml')], { cwd });
  assert.equal(broken.code, 1);
  assert.match(broken.stdout + broken.stderr, /the simulated Mac of rig "sim" \(\S+rigs\/sim\.yaml\) cannot start: its saved state \S+state\.json is damaged \(sip: [^)]+\); run `dextbench rig reset --rig \S+rigs\/sim\.yaml` to start it afresh/);
  assert.doesNotMatch(broken.stdout + broken.stderr, /\n\s+at |rows\.map/);
  const reset = await dextbench(['rig', 'reset'], { cwd });
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /^rig sim: simulated Mac reset \(\S+ removed\); it starts afresh on next use$/m);
  const again = await dextbench(['run', '--var', 'HOLD=0s', join(project, 'hold-echo.yaml')], { cwd });
  assert.equal(again.code, 0, again.stdout + again.stderr);
});

test('a rig whose hub location is not a uhubctl location: validate and run name the rig file\'s line, and nothing starts', async () => {
  const cwd = scratchDir();
  const rig = join(cwd, 'bad-location.yaml');
  writeFileSync(rig, readFileSync(join(repoRoot, 'rigs/sim.yaml'), 'utf8').replace('location: "1-1"', 'location: "9-9-9"').replace('../devices/', `${repoRoot}/devices/`).replaceAll('../dext-fixtures/', `${repoRoot}/dext-fixtures/`));
  const line = readFileSync(rig, 'utf8').split('\n').findIndex((l) => l.includes('9-9-9')) + 1;
  const expected = new RegExp(`^bad-location\\.yaml:${line}:\\d+: hubs\\[0\\]\\.location: expected a uhubctl location: bus-port\\[\\.port…\\] like 1-1 or 2-1\\.4, got "9-9-9"$`, 'm');
  const validate = await dextbench(['validate', rig], { cwd });
  assert.equal(validate.code, 1);
  assert.match(validate.stderr, expected);
  const run = await dextbench(['run', '--rig', rig, join(project, 'hold-echo.yaml')], { cwd });
  assert.equal(run.code, 1);
  assert.match(run.stderr, expected);
  assert.equal(existsSync(join(cwd, '.dextbench')), false);
});
