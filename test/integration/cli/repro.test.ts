// A failed scenario's repro bundle, `dextbench repro` and --hold, through the real CLI on simulated
// Macs (test/fixtures/projects/repro): what the bundle holds, a rerun that fails the same way with
// the same inputs, the lines a different rig gets, repeats, and a rig held as the failure left it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { attachmentText, bin, dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';

const project = join(repoRoot, 'test/fixtures/projects/repro');
const rig = join(project, 'rigs/sim-repro.yaml');
const rigV11 = join(project, 'rigs/sim-repro-v11.yaml');
const wrongClass = join(project, 'wrong-class.yaml');
const BUNDLE = /^ {4}npx dextbench repro (test-results\/\S+\/repro)$/m;

/** Runs the failing scenario (USER_CLASS given only here, by --var) and returns the bundle it left. */
async function failedRun(cwd: string, extra: string[] = []): Promise<{ bundle: string; stdout: string }> {
  const run = await dextbench(['run', '--rig', rig, '--reporter', 'list,json', '--var', 'USER_CLASS=StillNotEchoDriver', ...extra, wrongClass], { cwd });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const command = BUNDLE.exec(run.stdout);
  assert.ok(command, `the list output prints the repro command:\n${run.stdout}`);
  return { bundle: command[1]!, stdout: run.stdout };
}

const sha256OfInfoPlistBundle = (dext: string) => {
  const bytes = readFileSync(join(dext, 'Info.plist'));
  return createHash('sha256').update(`Info.plist\0${bytes.length}\0`).update(bytes).digest('hex');
};

test('a failing scenario leaves a repro bundle beside its report: resolved files, inputs, manifest, timeline, artifacts; the reports attach it', async () => {
  const cwd = scratchDir();
  const { bundle } = await failedRun(cwd);
  const dir = join(cwd, bundle);
  for (const f of ['scenario.yaml', 'rig.yaml', 'inputs.json', 'manifest.json', 'timeline.jsonl', 'error.txt', 'systemextensionsctl-list.txt', 'ioreg-usb.txt', 'unified-log.txt']) {
    assert.ok(existsSync(join(dir, f)), `${f} in the bundle`);
  }
  const scenario = readFileSync(join(dir, 'scenario.yaml'), 'utf8');
  assert.match(scenario, /userClass: "StillNotEchoDriver"/);
  assert.doesNotMatch(scenario, /\$\{/);
  const rigYaml = readFileSync(join(dir, 'rig.yaml'), 'utf8');
  assert.match(rigYaml, new RegExp(`dext: "${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}"`));
  assert.match(rigYaml, new RegExp(`profile: ${join(repoRoot, 'devices/echo.yaml')}`));
  assert.doesNotMatch(rigYaml, /\$\{|\.\.\//);

  const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8'));
  assert.deepEqual(inputs.vars, { USER_CLASS: 'StillNotEchoDriver' });
  assert.deepEqual(inputs.scenario.vars, { USER_CLASS: 'StillNotEchoDriver' });
  assert.deepEqual(inputs.seeds.map((s: { kind: string; seed: string; at: string }) => [s.kind, s.seed, s.at.endsWith('wrong-class.yaml:17')]), [['io', '4242', true]]);
  assert.equal(inputs.playwright.project, 'sim-repro');
  assert.match(inputs.errors[0], /was not matched by StillNotEchoDriver within 300ms/);

  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.macos, { productVersion: '15.5', buildVersion: '24F74' });
  const dext = join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext');
  assert.deepEqual(manifest.extensions, [{ name: 'echo-driver', bundle: 'com.example.echo.driver', build: dext, version: '1.0.0/1', sha256: sha256OfInfoPlistBundle(dext) }]);
  assert.deepEqual(manifest.hubs, [{ id: 'hub1', describe: 'uhubctl 1-1' }]);
  assert.deepEqual(manifest.devices, [{ role: 'echo', hub: 'hub1', port: 2, vendorId: '0x1d6b', productId: '0x0104', serial: 'ECHO0001' }]);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  assert.deepEqual(manifest.dextbench, { version: pkg.version, commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).toString().trim() });

  const timeline = readFileSync(join(dir, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(timeline.some((e) => e.type === 'step' && e.status === 'failed' && /wrong-class\.yaml:18$/.test(e.at)), 'the failed step on the timeline');
  assert.ok(timeline.some((e) => e.type === 'step' && e.phase === 'cleanup'), 'cleanup ran (no --hold)');
  assert.match(readFileSync(join(dir, 'systemextensionsctl-list.txt'), 'utf8'), /com\.example\.echo\.driver \(1\.0\.0\/1\)/);

  const [reported] = readJsonReport(cwd);
  const names = reported!.results[0]!.attachments.map((a) => a.name);
  for (const n of ['repro/scenario.yaml', 'repro/rig.yaml', 'repro/manifest.json', 'repro/inputs.json', 'repro']) assert.ok(names.includes(n), `report attaches ${n}: ${names}`);
  const command = reported!.results[0]!.attachments.find((a) => a.name === 'repro')!;
  assert.equal(attachmentText(command), `npx dextbench repro ${bundle}`);
  assert.deepEqual(JSON.parse(attachmentText(reported!.results[0]!.attachments.find((a) => a.name === 'repro/manifest.json')!)), manifest);
});

/** A project of its own at `root`: the failing scenario, its rig, the echo profile and the 1.0.0 build inside it. */
function selfContainedProject(root: string): string {
  mkdirSync(join(root, 'rigs'), { recursive: true });
  cpSync(wrongClass, join(root, 'wrong-class.yaml'));
  cpSync(join(repoRoot, 'devices/echo.yaml'), join(root, 'devices/echo.yaml'));
  cpSync(join(repoRoot, 'devices/echo.proto'), join(root, 'devices/echo.proto'));
  cpSync(join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext'), join(root, 'builds/EchoDriver-1.0.0.dext'), { recursive: true });
  writeFileSync(join(root, 'rigs/sim-repro.yaml'), readFileSync(rig, 'utf8')
    .replace('../../../../../devices/', '../devices/').replace('../../../../../dext-fixtures/echo/sim/', '../builds/'));
  return root;
}

const allFiles = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));

test('a bundle names project files relative to the project: repro in another checkout at another path resolves them there, and says which file it expected when one is missing', async () => {
  const ci = selfContainedProject(join(scratchDir('dextbench-ci-'), 'runner/work/proj'));
  const run = await dextbench(['run', '--rig', 'rigs/sim-repro.yaml', '--reporter', 'list', '--var', 'USER_CLASS=StillNotEchoDriver', 'wrong-class.yaml'], { cwd: ci });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const bundle = join(ci, BUNDLE.exec(run.stdout)![1]!);
  for (const f of ['scenario.yaml', 'rig.yaml', 'inputs.json', 'manifest.json']) {
    assert.doesNotMatch(readFileSync(join(bundle, f), 'utf8'), new RegExp(ci), `${f} names nothing by the CI machine's path`);
  }
  const inputs = JSON.parse(readFileSync(join(bundle, 'inputs.json'), 'utf8'));
  assert.deepEqual([inputs.scenario.file, inputs.rig.file, inputs.rig.vars.ECHO_BUILD], ['wrong-class.yaml', 'rigs/sim-repro.yaml', './builds/EchoDriver-1.0.0.dext']);
  assert.match(readFileSync(join(bundle, 'rig.yaml'), 'utf8'), /echo-driver: \{ dext: "\.\/builds\/EchoDriver-1\.0\.0\.dext", bundle: com\.example\.echo\.driver \}/);
  assert.match(readFileSync(join(bundle, 'rig.yaml'), 'utf8'), /profile: \.\/devices\/echo\.yaml/);
  assert.equal(JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).extensions[0].build, 'builds/EchoDriver-1.0.0.dext');

  // A developer's checkout elsewhere; the CI's is gone. The bundle is downloaded into it.
  const dev = selfContainedProject(join(scratchDir('dextbench-dev-'), 'Users/me/src/proj'));
  cpSync(bundle, join(dev, 'downloads/repro'), { recursive: true });
  rmSync(ci, { recursive: true, force: true });
  const repro = await dextbench(['repro', 'downloads/repro'], { cwd: dev });
  assert.equal(repro.code, 1, repro.stdout + repro.stderr);
  assert.match(repro.stdout, /^dextbench: reproducing "expects a user class the echo driver does not have" \(failed on rig sim-repro\) on \.dextbench\/repro\/\w+\/sim-repro\.yaml$/m);
  assert.match(repro.stdout, /^dextbench: the rig matches the bundle's manifest/m, 'the same build, found in this checkout');
  assert.match(repro.stdout, /\[sim-repro\] .*was not matched by StillNotEchoDriver within 300ms/s);
  const workRig = allFiles(join(dev, '.dextbench/repro')).find((f) => f.endsWith('sim-repro.yaml'))!;
  assert.match(readFileSync(workRig, 'utf8'), new RegExp(`dext: "${join(dev, 'builds/EchoDriver-1.0.0.dext')}"`));

  rmSync(join(dev, 'wrong-class.yaml'));
  const noScenario = await dextbench(['repro', 'downloads/repro'], { cwd: dev });
  assert.equal(noScenario.code, 2, noScenario.stdout + noScenario.stderr);
  assert.equal(noScenario.stderr.trim(), `dextbench: downloads/repro: the scenario it ran, wrong-class.yaml, is not in this checkout (expected ${join(dev, 'wrong-class.yaml')}): run dextbench repro from the root of the project the bundle came from, at a commit that has it`);
  cpSync(wrongClass, join(dev, 'wrong-class.yaml'));
  rmSync(join(dev, 'rigs/sim-repro.yaml'));
  const noRig = await dextbench(['repro', 'downloads/repro'], { cwd: dev });
  assert.equal(noRig.code, 2, noRig.stdout + noRig.stderr);
  assert.equal(noRig.stderr.trim(), `dextbench: downloads/repro: the rig file it ran, rigs/sim-repro.yaml, is not in this checkout (expected ${join(dev, 'rigs/sim-repro.yaml')}): run dextbench repro from the root of the project the bundle came from, at a commit that has it, or name a rig with --rig`);
});

test('a passing scenario leaves no bundle', async () => {
  const cwd = scratchDir();
  const run = await dextbench(['run', '--rig', rig, join(project, 'passes.yaml')], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /dextbench repro/);
  assert.equal(existsSync(join(cwd, 'test-results/scenario-the-echo-device-enumerates-sim-repro/repro')), false);
});

test('repro reruns the bundle on its own rig with the same inputs and fails the same way; the rig matches the manifest; the first report stays', async () => {
  const cwd = scratchDir();
  const { bundle } = await failedRun(cwd);
  // No --var this time: the bundle carries USER_CLASS expanded.
  const repro = await dextbench(['repro', bundle], { cwd });
  assert.equal(repro.code, 1, repro.stdout + repro.stderr);
  assert.match(repro.stdout, /^dextbench: reproducing "expects a user class the echo driver does not have" \(failed on rig sim-repro\) on \.dextbench\/repro\/\w+\/sim-repro\.yaml$/m);
  assert.match(repro.stdout, /^dextbench: the rig matches the bundle's manifest \(macOS build, extension builds, devices\)$/m);
  assert.doesNotMatch(repro.stdout, /differs from the bundle/);
  assert.match(repro.stdout, /\[sim-repro\] .*was not matched by StillNotEchoDriver within 300ms/s);
  assert.match(repro.stdout, /^ {4}npx dextbench repro dextbench-repro\/test-results\/\S+\/repro$/m, 'the rerun leaves a bundle of its own');
  assert.ok(existsSync(join(cwd, bundle, 'manifest.json')), 'the original bundle is still there');
});

test('repro on a rig with another macOS build and another dext build says so, one line each', async () => {
  const cwd = scratchDir();
  const { bundle } = await failedRun(cwd);
  const repro = await dextbench(['repro', bundle, '--rig', rigV11], { cwd });
  assert.equal(repro.code, 1, repro.stdout + repro.stderr);
  const lines = repro.stdout.split('\n').filter((l) => l.startsWith('dextbench: differs from the bundle: '));
  const v10 = join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext');
  const v11 = join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.1.0.dext');
  assert.deepEqual(lines, [
    'dextbench: differs from the bundle: macOS build: the bundle has 15.5 (24F74), rig sim-repro-v11 has 15.6 (24G84)',
    `dextbench: differs from the bundle: extension com.example.echo.driver: the bundle has 1.0.0/1 sha256 ${sha256OfInfoPlistBundle(v10).slice(0, 12)} (${v10}), rig sim-repro-v11 has 1.1.0/2 sha256 ${sha256OfInfoPlistBundle(v11).slice(0, 12)} (${v11})`,
  ]);
  assert.match(repro.stdout, /\[sim-repro-v11\]/);
});

test('--repeat-until-fail N: a scenario that passes on the rig runs N times; one that fails stops at its first failure', async () => {
  const cwd = scratchDir();
  const run = await dextbench(['run', '--rig', rig, join(project, 'expects-v11.yaml')], { cwd });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const bundle = BUNDLE.exec(run.stdout)![1]!;
  const green = await dextbench(['repro', bundle, '--rig', rigV11, '--repeat-until-fail', '3'], { cwd });
  assert.equal(green.code, 0, green.stdout + green.stderr);
  assert.equal(green.stdout.match(/✓ +\d+ \[sim-repro-v11\]/g)?.length, 3, green.stdout);
  assert.match(green.stdout, /^ {2}3 passed/m);

  const red = await dextbench(['repro', bundle, '--repeat-until-fail', '3'], { cwd });
  assert.equal(red.code, 1, red.stdout + red.stderr);
  assert.match(red.stdout, /^ {2}1 failed$/m);
  assert.match(red.stdout, /^ {2}2 did not run$/m);

  const bad = await dextbench(['repro', bundle, '--repeat-until-fail', '0'], { cwd });
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'dextbench: --repeat-until-fail expects a whole number of runs, 1 or more, got "0"');
});

test('repro of a folder that is not a bundle is one line', async () => {
  const cwd = scratchDir();
  const r = await dextbench(['repro', project], { cwd });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `dextbench: ${project}: not a repro bundle: it has no manifest.json`);
});

test('--hold: the failure\'s rig stays as it was (no cleanup), the run\'s other scenarios on it skip, a second run is refused naming the hold, rig plug works under it, rig release frees it', async () => {
  const cwd = scratchDir();
  // --repeat-each 2: the second run of the scenario comes after the hold, on the held rig.
  const { bundle, stdout } = await failedRun(cwd, ['--hold', '--hold-for', '10m', '--repeat-each', '2']);
  assert.match(stdout, /^ {2}1 failed$/m);
  assert.match(stdout, /^ {2}1 skipped$/m);
  const until = /^dextbench: rig sim-repro is held until (\S+) as the failure of "expects a user class the echo driver does not have" left it \(its cleanup did not run\)$/m.exec(stdout);
  assert.ok(until, stdout);
  const untilMs = Date.parse(until[1]!);
  assert.ok(Math.abs(untilMs - (Date.now() + 10 * 60_000)) < 60_000, `held for 10m: ${until[1]}`);
  // The rig as the user would type it from where they ran (relative to the run's directory).
  const rigArg = `--rig ${relative(cwd, rig).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  for (const command of [`rig status ${rigArg}`, `sysext list ${rigArg}`, `rig plug\\|unplug\\|cycle echo ${rigArg}`, `repro ${bundle}`, `rig release ${rigArg}`]) {
    assert.match(stdout, new RegExp(`^ {2}npx dextbench ${command}`, 'm'), command);
  }
  assert.match(stdout, /not on a terminal, so not waiting/);

  // No cleanup ran: the extension is still active, the device still plugged and matched.
  const list = await dextbench(['sysext', 'list', '--json', '--rig', rig], { cwd });
  assert.deepEqual(JSON.parse(list.stdout).extensions.filter((e: { active: boolean }) => e.active).map((e: { bundleId: string }) => e.bundleId), ['com.example.echo.driver']);
  const status = await dextbench(['rig', 'status', '--rig', rig], { cwd });
  assert.match(status.stdout, /^ {2}reserved by dextbench run \(\S+, pid \d+\) since \S+, holding it as the failure of "expects a user class the echo driver does not have" left it until \S+$/m);
  assert.match(status.stdout, /port 2 {2}on {3}echo {2}enumerated as "Loopback", matched EchoDriver/);
  const timeline = readFileSync(join(cwd, bundle, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(timeline.some((e) => e.type === 'hold' && e.until === until[1]), 'the hold on the timeline');
  assert.ok(!timeline.some((e) => e.phase === 'cleanup' || e.type === 'safe-state'), 'no cleanup step, no safe state');
  assert.equal(JSON.parse(readFileSync(join(cwd, bundle, 'inputs.json'), 'utf8')).held.until, until[1]);

  const second = await dextbench(['run', '--rig', rig, join(project, 'passes.yaml')], { cwd });
  assert.equal(second.code, 1);
  assert.match(second.stdout + second.stderr, /rig "sim-repro" is held by dextbench run \(\S+, pid \d+\) since \S+, holding it as the failure of "expects a user class the echo driver does not have" left it until \S+; `dextbench rig release` frees it earlier/);
  assert.doesNotMatch(second.stdout, /passed/);

  const unplug = await dextbench(['rig', 'unplug', 'echo', '--rig', rig], { cwd });
  assert.equal(unplug.code, 0, unplug.stdout + unplug.stderr);
  assert.match(unplug.stdout, /^rig sim-repro: acting under the hold of dextbench run /m);
  assert.match(unplug.stdout, /^echo: unplugged \(hub1 port 2 off\)$/m);

  const release = await dextbench(['rig', 'release', '--rig', rig], { cwd });
  assert.equal(release.code, 0, release.stdout + release.stderr);
  assert.match(release.stdout, /^rig sim-repro: released the hold of dextbench run .* until \S+; device ports are off \(the scenario's cleanup did not run: extensions it activated stay\)$/m);
  const after = await dextbench(['rig', 'status', '--rig', rig], { cwd });
  assert.match(after.stdout, /^ {2}not reserved$/m);
  const again = await dextbench(['rig', 'release', '--rig', rig], { cwd });
  assert.match(again.stdout, /^rig sim-repro: not held$/m);
  const next = await dextbench(['run', '--rig', rig, join(project, 'passes.yaml')], { cwd });
  assert.equal(next.code, 0, next.stdout + next.stderr);
});

/** The run's stream processes still alive: the sim's shims (its bin/, under the run's folder) running `eslogger` or `log stream`. */
function streamProcesses(cwd: string): { pid: number; argv: string[] }[] {
  const shims = join(cwd, '.dextbench/sim/');
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      if (!readlinkSync(`/proc/${pid}/exe`).startsWith(shims)) return [];
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const streams = argv.includes('eslogger') || (argv.some((a) => a.endsWith('log')) && argv.includes('stream'));
      return streams ? [{ pid: Number(pid), argv }] : [];
    } catch {
      return []; // gone meanwhile, or not ours to read
    }
  });
}

test('--hold: the held scenario\'s eslogger and log streams end at the hold (no stream of the run outlives it), while the rig stays held', async () => {
  const cwd = scratchDir();
  const run = await dextbench(['run', '--hold', '--hold-for', '5m', '--reporter', 'list', join(repoRoot, 'test/fixtures/projects/hold-streams')], { cwd });
  try {
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^dextbench: rig sim is held until \S+ as the failure of "fails while eslogger watches" left it/m);
    // A moment for a process that would outlive the run's worker to show itself.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(streamProcesses(cwd), [], 'no eslogger or log stream of the run remains');
    const timeline = readFileSync(join(cwd, BUNDLE.exec(run.stdout)![1]!, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(timeline.filter((e) => e.type === 'eslogger' || e.type === 'hold').map((e) => e.phase ?? e.type), ['started', 'hold', 'stopped'],
      'eslogger ran, and was stopped at the hold');
    const status = await dextbench(['rig', 'status'], { cwd });
    assert.match(status.stdout, /holding it as the failure of "fails while eslogger watches" left it until/, 'the hold lasts');
  } finally {
    for (const { pid } of streamProcesses(cwd)) process.kill(pid, 'SIGKILL');
    const release = await dextbench(['rig', 'release'], { cwd });
    assert.match(release.stdout, /^rig sim: released the hold of dextbench run /m, release.stdout + release.stderr);
  }
});

test('repro --hold --hold-for 2s: the hold runs out by itself and the next run takes the rig over', async () => {
  const cwd = scratchDir();
  const { bundle } = await failedRun(cwd);
  const repro = await dextbench(['repro', bundle, '--hold', '--hold-for', '2s'], { cwd });
  assert.equal(repro.code, 1, repro.stdout + repro.stderr);
  assert.match(repro.stdout, /^dextbench: rig sim-repro is held until \S+ as the failure of/m);
  await new Promise((r) => setTimeout(r, 3_000));
  const next = await dextbench(['run', '--rig', rig, join(project, 'passes.yaml')], { cwd });
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.match(next.stdout, /rig sim-repro: took over the expired reservation of dextbench run \(\S+, pid \d+\) since \S+, holding it as the failure of "expects a user class the echo driver does not have" left it until \S+/);
});

test('--hold on a terminal waits and Ctrl-C releases the hold', async () => {
  const cwd = scratchDir();
  // `script` gives the run a pseudo-terminal, as a person's shell would; ^C is typed into it.
  // `exec`: script runs the command through $SHELL, or /bin/sh when unset (as under CI), and
  // Debian's dash forks rather than execs it, then dies of the ^C itself; script would report the
  // shell's 130, not the run's exit code.
  const command = ['exec', ...[process.execPath, bin, 'run', '--hold', '--rig', rig, '--reporter', 'line', '--var', 'USER_CLASS=X', wrongClass].map((a) => `'${a}'`)].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, CI: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  const deadline = Date.now() + 90_000;
  while (!/Ctrl-C releases the hold/.test(out)) {
    assert.ok(Date.now() < deadline, `the run waits on its terminal:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const status = await dextbench(['rig', 'status', '--rig', rig], { cwd });
  assert.match(status.stdout, /holding it as the failure of/);
  child.stdin.write('\x03');
  const code = await Promise.race([done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
  assert.equal(code, 1, out);
  assert.match(out, /rig sim-repro: released the hold of dextbench run /);
  const after = await dextbench(['rig', 'status', '--rig', rig], { cwd });
  assert.match(after.stdout, /^ {2}not reserved$/m);
});
