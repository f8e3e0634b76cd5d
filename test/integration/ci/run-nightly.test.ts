// ci/run-nightly.sh for real (bash, `npx dextbench` through the project's node_modules/.bin) on
// simulated Macs, in a scratch copy of a small project, with the history in a scratch folder: the
// rig check runs before the run, the run lands in the history, report.html and the repro bundles
// are collected, and the exit codes: 0 green, 1 product, 2 called wrongly, 3 infrastructure only (a
// rig in maintenance; failures left only on the rigs of a class after retries on another of its rigs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const script = join(repoRoot, 'ci/run-nightly.sh');
const SIM = `sip: disabled
developerMode: false
approvedExtensions: { DXTBNCH001: [com.example.echo.driver] }`;
const TOP = `health: ${join(repoRoot, 'scenarios/health/echo-rig.yaml')}\nclass: nightly-sim`;
const BETA = `ECHO_BETA_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriverBeta.dext')}`;

/** A project with dextbench installed as npm would (node_modules/.bin/dextbench) and these fixture scenarios. */
function project(scenarios: string[]): { cwd: string; history: string } {
  const cwd = scratchDir('dextbench-nightly-');
  mkdirSync(join(cwd, 'node_modules/.bin'), { recursive: true });
  symlinkSync(repoRoot, join(cwd, 'node_modules/dextbench'));
  symlinkSync('../dextbench/harness/cli/bin.js', join(cwd, 'node_modules/.bin/dextbench'));
  mkdirSync(join(cwd, 'scenarios'));
  for (const s of scenarios) copyFileSync(join(repoRoot, 'test/fixtures/projects', s), join(cwd, 'scenarios', s.split('/').at(-1)!));
  writeFileSync(join(cwd, 'scenarios/passes.yaml'), 'name: needs no device\nsteps:\n  - wait: 10ms\n');
  return { cwd, history: join(scratchDir('dextbench-nightly-history-'), 'store') };
}

function nightly(cwd: string, history: string, args: string[]): Promise<{ code: number | null; out: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { cwd, env: { ...process.env, CI: '', DEXTBENCH_HISTORY: history } });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; stderr += c; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`run-nightly.sh did not finish in 300 s\n${out}`)); }, 300_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, stderr }); });
  });
}

async function historyRuns(cwd: string, history: string): Promise<{ scenarios: { scenario: string; rig: string; runs: number; passRate: number }[] }> {
  const r = await dextbench(['history', '--json'], { cwd, env: { DEXTBENCH_HISTORY: history } });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('one rig: the check first, then the run; green exits 0, a product failure 1 with its repro bundle collected, 0 once it is quarantined; every night in the history and report.html', async () => {
  const { cwd, history } = project(['failing/wrong-user-class.yaml']);
  const rig = simRigFile(cwd, 'nightly-one', { sim: SIM, top: TOP });
  const green = await nightly(cwd, history, [rig, '--', 'scenarios/passes.yaml']);
  assert.equal(green.code, 0, green.out);
  const checkAt = green.out.search(/^rig nightly-one: good, set by dextbench rig check /m);
  const runAt = green.out.indexOf('needs no device');
  assert.ok(checkAt >= 0 && runAt > checkAt, `the rig check's line comes before the run's\n${green.out}`);
  assert.match(green.out, /^nightly: none: 1 scenario runs$/m);
  assert.ok(existsSync(join(cwd, 'nightly-artifacts/report.html')) && existsSync(join(cwd, 'report.html')), 'report.html written and kept');
  assert.ok(existsSync(join(cwd, 'nightly-artifacts/junit.xml')), 'junit kept');

  const red = await nightly(cwd, history, [rig, '--', '--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`]);
  assert.equal(red.code, 1, red.out);
  assert.match(red.out, /^nightly: product: 1 scenario failed \(product\), first scenarios\/wrong-user-class\.yaml on rig nightly-one: /m);
  const bundles = readdirSync(join(cwd, 'nightly-artifacts/repro'));
  assert.equal(bundles.length, 1, bundles.join(', '));
  assert.match(bundles[0]!, /expects-a-user-class/);
  const bundle = join(cwd, 'nightly-artifacts/repro', bundles[0]!, 'repro');
  assert.ok(existsSync(join(bundle, 'manifest.json')) && existsSync(join(bundle, 'scenario.yaml')), 'the bundle is whole');
  assert.match(red.out, new RegExp(`^nightly: repro bundle kept: npx dextbench repro nightly-artifacts/repro/${bundles[0]}/repro \\[--hold\\]$`, 'm'));

  // Quarantined in the same history, the failure still runs and is reported but no longer fails the night.
  const quarantine = await dextbench(['history', 'quarantine', 'expects a user class the echo driver does not have', '--owner', 'alice', '--until', `${new Date().getFullYear() + 1}-12-31`], { cwd, env: { DEXTBENCH_HISTORY: history } });
  assert.equal(quarantine.code, 0, quarantine.stderr);
  const forgiven = await nightly(cwd, history, [rig, '--', '--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`]);
  assert.equal(forgiven.code, 0, forgiven.out);
  assert.match(forgiven.out, /^nightly: none: 2 scenario runs, 1 failure quarantined or passed on an infrastructure retry$/m);
  assert.equal(readdirSync(join(cwd, 'nightly-artifacts/repro')).length, 1, 'its repro bundle is still kept');

  const h = await historyRuns(cwd, history);
  const passes = h.scenarios.find((s) => s.scenario === 'needs no device');
  assert.deepEqual([passes?.rig, passes?.runs, passes?.passRate], ['nightly-one', 3, 1], JSON.stringify(h));
  const failing = h.scenarios.find((s) => s.scenario === 'expects a user class the echo driver does not have');
  assert.deepEqual([failing?.runs, failing?.passRate], [2, 0]);
});

test('a rig in maintenance: not checked, nothing runs, exit 3 and its one line', async () => {
  const { cwd, history } = project([]);
  const rig = simRigFile(cwd, 'nightly-kept', { sim: SIM, top: TOP });
  const set = await dextbench(['rig', 'state', 'maintenance', '--why', 're-cabling the hub', '--rig', rig], { cwd });
  assert.equal(set.code, 0, set.stderr);
  const r = await nightly(cwd, history, [rig]);
  assert.equal(r.code, 3, r.out);
  assert.match(r.stderr, /^dextbench: rig "nightly-kept" is in maintenance \(set by dextbench rig state, \S+, at \S+\): re-cabling the hub; to put it back in service: dextbench rig state good --why "…" --rig nightly-kept\.yaml$/m);
  assert.match(r.stderr, /^nightly: infrastructure: no rig is usable \(\S*nightly-kept\.yaml\); nothing ran$/m);
  assert.doesNotMatch(r.out, /Running \d+ test|health check/, 'neither the check nor the run ran');
});

test('three rigs of one class: the one in maintenance is left out, an infrastructure failure is retried on another rig of the class, and failures left only on the rigs exit 3', async () => {
  const { cwd, history } = project(['classes/needs-approval.yaml']);
  const rigs = ['farm-a', 'farm-b', 'farm-c'].map((name) => simRigFile(cwd, name, { sim: SIM, top: TOP }));
  const set = await dextbench(['rig', 'state', 'maintenance', '--why', 'new hub', '--rig', rigs[2]!], { cwd });
  assert.equal(set.code, 0, set.stderr);
  const r = await nightly(cwd, history, [...rigs, '--', '--var', BETA]);
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, /^dextbench: rig "farm-c" is in maintenance /m);
  assert.match(r.out, /^nightly: running without \S*farm-c\.yaml \(out of service, see above\)$/m);
  assert.match(r.out, /^dextbench: infrastructure retry 1\/2: scenarios\/needs-approval\.yaml on rig farm-b \(failed on rig farm-a: /m);
  assert.match(r.out, /^nightly: infrastructure: \d scenarios? failed on the rig only \(no retry passed\), first scenarios\/needs-approval\.yaml /m);
  assert.doesNotMatch(r.out, /\[farm-c\]/, 'nothing ran on the rig in maintenance');
  const h = await historyRuns(cwd, history);
  assert.ok(h.scenarios.some((s) => s.scenario === 'needs no device' && s.rig === 'farm-a' && s.passRate === 1), JSON.stringify(h));
});

test('called wrongly: exit 2 with one line, before last night\'s reports are deleted or anything runs', async () => {
  const { cwd, history } = project([]);
  const rig = simRigFile(cwd, 'nightly-args', { sim: SIM, top: TOP });
  writeFileSync(join(cwd, 'report.html'), 'last night');
  const cases: [string[], RegExp][] = [
    [[], /^usage: ci\/run-nightly\.sh rigs\/<rig>\.yaml /m],
    [['--infra-retries', '1', rig], /^usage: ci\/run-nightly\.sh /m],
    [[join(cwd, 'nowhere.yaml')], /^nightly: no rig file \S*nowhere\.yaml$/m],
    [[rig, '--', 'scenarios', '--rig', rig], /^nightly: name rigs before --, not with --rig after it: each is validated and checked before the run$/m],
    [[rig, '--', '--output=elsewhere'], /^nightly: no --output: the script collects dextbench-report\/ and test-results\/ \(NIGHTLY_ARTIFACTS says where they go\)$/m],
  ];
  for (const [args, line] of cases) {
    const r = await nightly(cwd, history, args);
    assert.equal(r.code, 2, `${args.join(' ')}\n${r.out}`);
    assert.match(r.stderr, line);
    assert.doesNotMatch(r.out, /OK \(|Running \d+ test/, 'neither validate nor the run ran');
  }
  assert.ok(existsSync(join(cwd, 'report.html')), 'last night\'s report.html is still there');
});

test('a rig that fails its check is set bad and left out: the others run, and a green night still exits 3 so the operators hear of it', async () => {
  const { cwd, history } = project([]);
  const good = simRigFile(cwd, 'night-good', { sim: SIM, top: TOP });
  // A port whose device never enumerates (a dead port or cable, as the check sees it).
  const dead = simRigFile(cwd, 'night-dead', { sim: `${SIM}\ntiming: { enumerateMs: 600000 }`, top: TOP });
  const r = await nightly(cwd, history, [good, dead, '--', 'scenarios/passes.yaml']);
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, /^rig night-dead: bad, set by dextbench rig check /m);
  assert.match(r.out, /^nightly: running without \S*night-dead\.yaml \(out of service, see above\)$/m);
  assert.match(r.out, /^nightly: none: 1 scenario runs$/m);
  assert.match(r.stderr, /^nightly: infrastructure: the scenarios passed, but \S*night-dead\.yaml did not run \(out of service\)$/m);
  assert.doesNotMatch(r.out, /\[night-dead\] › scenarios/, 'nothing ran on the bad rig');
  const status = await dextbench(['rig', 'status', '--rig', dead], { cwd });
  assert.match(status.stdout, /^ {2}health: bad, set by dextbench rig check /m);
});
