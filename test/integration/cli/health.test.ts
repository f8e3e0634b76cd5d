// Rig health through the real CLI on simulated Macs: `rig check` runs the rig's health scenario and
// sets good or bad (bad saying the failing step's line), a run refuses a bad or maintenance rig with
// one line, `rig state` sets it by hand, and a run checks an unknown rig first. Each test works in a
// scratch project of its own, with its own simulated Macs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';
import { readHtmlReport, readHtmlReportStats } from '../../support/html-report.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const healthScenario = join(repoRoot, 'scenarios/health/echo-rig.yaml');
const plugLine = readFileSync(healthScenario, 'utf8').split('\n').findIndex((l) => /^\s+- plug: echo$/.test(l)) + 1;
const SIM = `sip: disabled
developerMode: false
approvedExtensions: { DXTBNCH001: [com.example.echo.driver] }`;
const TOP = `health: ${healthScenario}\nclass: echo-sim`;

/** A rig of class echo-sim naming the shipped health check; `broken`: its echo device never enumerates on its port. */
function rig(cwd: string, name: string, broken = false): string {
  return simRigFile(cwd, name, { sim: broken ? `${SIM}\ntiming: { enumerateMs: 600000 }` : SIM, top: TOP });
}

/** A scenario that needs no device: it runs whenever the rig is admitted. */
function noDeviceScenario(cwd: string): string {
  const file = join(cwd, 'no-device.yaml');
  writeFileSync(file, 'name: needs no device\nsteps:\n  - wait: 10ms\n');
  return file;
}

const healthFile = (cwd: string, name: string) => join(cwd, '.dextbench/sim', name, 'fs/Users/Shared/dextbench/leases', `${name}.health`);
const readRecord = (cwd: string, name: string) => JSON.parse(readFileSync(healthFile(cwd, name), 'utf8'));

test('rig check on a working rig: the health scenario runs holding the lease and sets good; rig status shows it', async () => {
  const cwd = scratchDir();
  const file = rig(cwd, 'h-good');
  const check = await dextbench(['rig', 'check', '--rig', file], { cwd });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /✓ .*echo-rig\.yaml.* › echo rig health check/);
  assert.match(check.stdout, /^rig h-good: good, set by dextbench rig check \(\S+@\S+\) at \S+: health check \S*echo-rig\.yaml passed \(check run check-h-good-\S+\)$/m);
  const record = readRecord(cwd, 'h-good');
  assert.equal(record.state, 'good');
  assert.equal(record.setBy, 'dextbench rig check');
  assert.ok(existsSync(join(cwd, '.dextbench/health/h-good', record.runId, 'results.json')), 'the check keeps its report under its run id');
  const status = await dextbench(['rig', 'status', '--rig', file], { cwd });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^ {2}not reserved\n {2}health: good, set by dextbench rig check /m);
  // A good rig runs without another check.
  const run = await dextbench(['run', '--rig', file, noDeviceScenario(cwd)], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /health check/);
  assert.equal(readRecord(cwd, 'h-good').runId, record.runId);
});

test('a rig whose hub port does not bring the device up: check sets bad with the failing step\'s line, the next run refuses in one line; maintenance, then good by hand', async () => {
  const cwd = scratchDir();
  const file = rig(cwd, 'h-broken', true);
  const scenario = noDeviceScenario(cwd);
  const check = await dextbench(['rig', 'check', '--rig', file], { cwd });
  assert.equal(check.code, 1, check.stdout + check.stderr);
  const record = readRecord(cwd, 'h-broken');
  assert.equal(record.state, 'bad');
  assert.match(record.why, new RegExp(`echo-rig\\.yaml:${plugLine}: .*echo .*did not enumerate within`));
  assert.match(check.stdout, new RegExp(`^rig h-broken: bad, set by dextbench rig check .*echo-rig\\.yaml:${plugLine}: `, 'm'));

  const refused = await dextbench(['run', '--rig', file, scenario], { cwd });
  assert.equal(refused.code, 1);
  const out = refused.stdout + refused.stderr;
  const line = out.split('\n').find((l) => l.includes('rig "h-broken" is bad'));
  assert.ok(line, out);
  assert.equal(line, `Error: rig "h-broken" is bad (set by dextbench rig check, ${record.user}@${record.host}, at ${record.at}): ${record.why}; ` +
    'once it is fixed: dextbench rig check --rig h-broken.yaml (or dextbench rig state good --why "…" --rig h-broken.yaml)');
  assert.doesNotMatch(out, /needs no device|passed/, 'nothing ran');

  const maintenance = await dextbench(['rig', 'state', 'maintenance', '--why', 'swapping the hub', '--rig', file], { cwd });
  assert.equal(maintenance.code, 0, maintenance.stderr);
  assert.match(maintenance.stdout, /^rig h-broken: maintenance, set by dextbench rig state \(\S+\) at \S+: swapping the hub$/m);
  const inMaintenance = await dextbench(['run', '--rig', file, scenario], { cwd });
  assert.equal(inMaintenance.code, 1);
  assert.match(inMaintenance.stdout + inMaintenance.stderr,
    /^Error: rig "h-broken" is in maintenance \(set by dextbench rig state, \S+, at \S+\): swapping the hub; to put it back in service: dextbench rig state good --why "…" --rig h-broken\.yaml$/m);

  const good = await dextbench(['rig', 'state', 'good', '--why', 'hub swapped', '--rig', file], { cwd });
  assert.equal(good.code, 0, good.stderr);
  const run = await dextbench(['run', '--rig', file, scenario], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /1 passed/);
  assert.deepEqual([readRecord(cwd, 'h-broken').state, readRecord(cwd, 'h-broken').why], ['good', 'hub swapped']);
});

test('a run on a rig never checked runs its health check first, holding the lease, then the scenarios', async () => {
  const cwd = scratchDir();
  const file = rig(cwd, 'h-unknown');
  const run = await dextbench(['run', '--rig', file, noDeviceScenario(cwd)], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /dextbench: rig h-unknown's health is unknown \(never checked\): running its health check \S*echo-rig\.yaml/);
  assert.match(run.stdout, /dextbench: rig h-unknown: health check passed; the rig is good/);
  assert.ok(run.stdout.indexOf('health check passed') < run.stdout.indexOf('needs no device'), 'the check ran before the scenario');
  const record = readRecord(cwd, 'h-unknown');
  assert.deepEqual([record.state, record.setBy], ['good', 'dextbench run']);
});

test('rig state takes good or maintenance with a reason; rig check needs a rig that names a check', async () => {
  const cwd = scratchDir();
  const bad = await dextbench(['rig', 'state', 'bad', '--why', 'x'], { cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /rig state sets good or maintenance by hand \(bad comes from a failed dextbench rig check\), got "bad"/);
  const noWhy = await dextbench(['rig', 'state', 'maintenance'], { cwd });
  assert.equal(noWhy.code, 2);
  assert.match(noWhy.stderr, /needs --why "…"/);
  const plain = simRigFile(cwd, 'h-plain', { sim: SIM });
  const noCheck = await dextbench(['rig', 'check', '--rig', plain], { cwd });
  assert.equal(noCheck.code, 2);
  assert.match(noCheck.stderr, /rig "h-plain" names no health check; add health: <scenario file> to /);
});

test('two rigs of one class, an infrastructure failure on one: that rig is checked again (bad) and the scenario passes on the other; a product failure is never retried', async () => {
  const cwd = scratchDir();
  // Rig i-a's channel bridge is missing: every call step there fails on infrastructure.
  const a = simRigFile(cwd, 'i-a', { sim: SIM, top: `${TOP}\nbridge: { command: [dextbench-bridge-gone] }` });
  const b = rig(cwd, 'i-b');
  for (const file of [a, b]) {
    const set = await dextbench(['rig', 'state', 'good', '--why', 'racked', '--rig', file], { cwd });
    assert.equal(set.code, 0, set.stderr);
  }
  const ping = join(repoRoot, 'scenarios/driverkit/echo-channel-ping-info.yaml');
  const callLine = readFileSync(healthScenario, 'utf8').split('\n').findIndex((l) => /^\s+- call: /.test(l)) + 1;
  const echoDext = ['--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`];
  const run = await dextbench(['run', '--rig', a, '--rig', b, '--reporter', 'list,junit,json,html', ...echoDext, ping], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /dextbench: rig i-a had an infrastructure failure: running its health check \S*echo-rig\.yaml/);
  assert.match(run.stdout, /^dextbench: infrastructure retry 1\/2: \S*echo-channel-ping-info\.yaml on rig i-b \(failed on rig i-a: \S*echo-channel-ping-info\.yaml:15: \[infrastructure\] bridge command not found: dextbench-bridge-gone/m);
  assert.match(run.stdout, /^dextbench: \S*echo-channel-ping-info\.yaml passed on rig i-b on infrastructure retry 1 \(reports in dextbench-report\/infra-retry-1\)$/m);
  const record = readRecord(cwd, 'i-a');
  assert.deepEqual([record.state, record.setBy], ['bad', 'dextbench run']);
  assert.match(record.why, new RegExp(`echo-rig\\.yaml:${callLine}: \\[infrastructure\\] bridge command not found`));
  assert.equal(readRecord(cwd, 'i-b').state, 'good');
  const retried = JSON.parse(readFileSync(join(cwd, 'dextbench-report/infra-retry-1/results.json'), 'utf8'));
  assert.deepEqual([retried.stats.expected, retried.stats.unexpected], [1, 0]);
  // The run's own reports say how it ended: the failure on i-a passed on its retry on i-b.
  const passedOn = 'failed on rig i-a on infrastructure; passed on rig i-b on infrastructure retry 1 (reports in infra-retry-1/)';
  const main = JSON.parse(readFileSync(join(cwd, 'dextbench-report/results.json'), 'utf8'));
  assert.deepEqual([main.stats.unexpected, main.stats.flaky], [0, 1]);
  const [onA] = readJsonReport(cwd).filter((t) => t.projectName === 'i-a');
  assert.equal(onA!.status, 'flaky');
  assert.deepEqual(onA!.results.map((r) => r.status), ['failed', 'passed']);
  // The passing attempt says where it ran, so the history files it under i-b, not i-a.
  assert.deepEqual(onA!.results.map((r) => r.annotations?.find((n) => n.type === 'dextbench.ran-on')?.description), [undefined, 'i-b']);
  assert.deepEqual(onA!.annotations.filter((n) => n.type === 'dextbench.infra-retry').map((n) => n.description), [passedOn]);
  const junit = readFileSync(join(cwd, 'dextbench-report/junit.xml'), 'utf8');
  assert.match(junit, /^<testsuites [^>]*\berrors="0"/);
  assert.doesNotMatch(junit, /<error\b|<failure\b/);
  assert.ok(junit.includes(`<property name="dextbench.infra-retry" value="${passedOn}">`), junit.slice(0, 2000));
  // The run's HTML report too: the scenario once per rig of the run; on i-a flaky: its failed
  // attempt there and the retry's passing one (with its steps), annotated; no blob left behind.
  const html = readHtmlReport(join(cwd, 'dextbench-report/html/index.html'));
  assert.deepEqual(html.tests.map((t) => [t.projectName, t.outcome]).sort(), [['i-a', 'flaky'], ['i-b', 'expected']]);
  const inHtml = html.tests.find((t) => t.projectName === 'i-a');
  assert.deepEqual(inHtml!.results.map((r) => [r.retry, r.status]), [[0, 'failed'], [1, 'passed']]);
  assert.ok(inHtml!.results[1]!.steps.some((s) => s.title.startsWith('call ')), 'the retry\'s steps');
  assert.deepEqual(inHtml!.annotations.filter((n) => n.type === 'dextbench.infra-retry').map((n) => n.description), [passedOn]);
  assert.deepEqual(readHtmlReportStats(join(cwd, 'dextbench-report/html/index.html')), { total: 2, expected: 1, unexpected: 0, flaky: 1, skipped: 0, ok: false }); // flaky is not ok, as with Playwright's own retries
  assert.ok(!existsSync(join(cwd, 'dextbench-report/.html-blob')) && !existsSync(join(cwd, 'dextbench-report/infra-retry-1/.html-blob')), 'blobs removed');

  // A product failure (a key the echo dext's Ping does not answer) fails the run and is not retried.
  const product = join(cwd, 'ping-wrong-key.yaml');
  writeFileSync(product, readFileSync(ping, 'utf8').replace('name: the echo dext answers', 'name: wrong key, the echo dext answers')
    .replace('  - call: { device: echo, method: Ping }', '  - call: { device: echo, method: Ping, expect: { noSuchKey: 1 } }'));
  const second = await dextbench(['run', '--rig', b, ...echoDext, product], { cwd });
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.match(second.stdout, /\[product\]/);
  assert.doesNotMatch(second.stdout, /infrastructure retry|running its health check/);
});

test('a health check cancelled with Ctrl-C sets the rig bad, saying it was cancelled', async () => {
  const cwd = scratchDir();
  const file = rig(cwd, 'h-cancel', true);
  const { code, out } = await interruptDuringCheck(cwd, ['rig', 'check', '--rig', file]);
  assert.equal(code, 1, out);
  const record = readRecord(cwd, 'h-cancel');
  assert.equal(record.state, 'bad');
  assert.match(record.why, /^health check \S*echo-rig\.yaml was cancelled/);
  assert.match(out, /^rig h-cancel: bad, set by dextbench rig check .*was cancelled/m);
});

test('an infrastructure failure held with --hold: the held rig gets no health check and no retry, its health stays, one line says so', async () => {
  const cwd = scratchDir();
  const a = simRigFile(cwd, 'held-a', { sim: SIM, top: `${TOP}\nbridge: { command: [dextbench-bridge-gone] }` });
  const set = await dextbench(['rig', 'state', 'good', '--why', 'racked', '--rig', a], { cwd });
  assert.equal(set.code, 0, set.stderr);
  const before = readRecord(cwd, 'held-a');
  const ping = join(repoRoot, 'scenarios/driverkit/echo-channel-ping-info.yaml');
  const echoDext = ['--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`];
  const run = await dextbench(['run', '--hold', '--hold-for', '10m', '--rig', a, ...echoDext, ping], { cwd });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /\[infrastructure\] bridge command not found/);
  assert.match(run.stdout, /^dextbench: rig held-a is held by dextbench run \(\S+, pid \d+\) since \S+, holding it as the failure of "[^"]+" left it until \S+: no health check and no retry runs on it while it is held$/m);
  assert.doesNotMatch(run.stdout, /running its health check|infrastructure retry \d/);
  assert.deepEqual(readRecord(cwd, 'held-a'), before, 'the held rig\'s health stays as it was');
  const release = await dextbench(['rig', 'release', '--rig', a], { cwd });
  assert.equal(release.code, 0, release.stdout + release.stderr);
});

test('several rigs, one in maintenance: its scenarios run on the good rig of its class (one line); a bad rig with no other of its class refuses only its scenarios', async () => {
  const cwd = scratchDir();
  const a = rig(cwd, 'm-a');
  const b = rig(cwd, 'm-b');
  const lone = simRigFile(cwd, 'm-lone', { sim: SIM });
  for (const [file, state] of [[a, 'maintenance'], [b, 'good'], [lone, 'maintenance']] as const) {
    const set = await dextbench(['rig', 'state', state, '--why', state === 'good' ? 'racked' : 'swapping the hub', '--rig', file], { cwd });
    assert.equal(set.code, 0, set.stderr);
  }
  const scenario = noDeviceScenario(cwd);
  const moved = await dextbench(['run', '--rig', a, '--rig', b, scenario], { cwd });
  assert.equal(moved.code, 0, moved.stdout + moved.stderr);
  const record = readRecord(cwd, 'm-a');
  assert.match(moved.stdout, new RegExp(`^dextbench: rig "m-a" is in maintenance \\(set by dextbench rig state, \\S+, at ${record.at.replace(/\./g, '\\.')}\\): swapping the hub: its scenarios run on rig m-b \\(class echo-sim\\)$`, 'm'));
  assert.match(moved.stdout, /✓ .*\[m-b\] .*needs no device/);
  assert.doesNotMatch(moved.stdout, /\[m-a\]/);
  assert.match(moved.stdout, /1 passed/);

  // m-lone names no class: the scenario's run there is refused, in one line; it still runs on m-b, and the run fails.
  const refused = await dextbench(['run', '--rig', lone, '--rig', b, scenario], { cwd });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const line = refused.stderr.split('\n').filter((l) => l.includes('does not run'));
  assert.equal(line.length, 1, refused.stderr);
  assert.match(line[0]!, /^dextbench: no-device\.yaml does not run: rig "m-lone" is in maintenance \(set by .*\): swapping the hub; to put it back in service: dextbench rig state good --why "…" --rig m-lone\.yaml; and the run has no other good rig \(the rig names no class:\)$/);
  assert.match(refused.stdout, /✓ .*\[m-b\] .*needs no device/);
  assert.doesNotMatch(refused.stdout, /\[m-lone\]/);
});

test('the run holds each rig\'s lease across the run, the recheck and the retry: one holder, the dextbench process, from first to last', async () => {
  const cwd = scratchDir();
  const a = simRigFile(cwd, 'l-a', { sim: SIM, top: `${TOP}\nbridge: { command: [dextbench-bridge-gone] }` });
  const b = rig(cwd, 'l-b');
  for (const file of [a, b]) {
    const set = await dextbench(['rig', 'state', 'good', '--why', 'racked', '--rig', file], { cwd });
    assert.equal(set.code, 0, set.stderr);
  }
  const ping = join(repoRoot, 'scenarios/driverkit/echo-channel-ping-info.yaml');
  const child = spawn(process.execPath, [bin, 'run', '--rig', a, '--rig', b, '--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`, ping],
    { cwd, env: { ...process.env, CI: '', DEXTBENCH_HISTORY: 'off' } });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Every holder each rig's lease had while the run went on, sampled often enough to see the recheck's.
  const holders = new Map<string, Set<string>>([['l-a', new Set()], ['l-b', new Set()]]);
  let finished = false;
  void done.then(() => { finished = true; });
  while (!finished) {
    for (const [name, seen] of holders) {
      const owner = join(cwd, '.dextbench/sim', name, 'fs/Users/Shared/dextbench/leases', `${name}.lease`, 'owner.json');
      try {
        const { pid, token } = JSON.parse(readFileSync(owner, 'utf8'));
        seen.add(`${pid} ${token}`);
      } catch { /* not reserved now, or being rewritten */ }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await done, 0, out);
  assert.match(out, /running its health check/);
  assert.match(out, /passed on rig l-b on infrastructure retry 1/);
  for (const [name, seen] of holders) {
    assert.deepEqual([...seen].map((h) => h.split(' ')[0]), [String(child.pid)], `rig ${name} had one holder, the dextbench process: ${[...seen].join(', ')}`);
  }
});

test('a run stopped by --max-failures (repro --repeat-until-fail): its infrastructure failure rechecks the rig but is not retried elsewhere', async () => {
  const cwd = scratchDir();
  // x-a's hub port powers the echo device but it never enumerates: a plug there fails on infrastructure.
  const a = simRigFile(cwd, 'x-a', { sim: `${SIM}\ntiming: { enumerateMs: 600000 }`, top: 'class: echo-sim' });
  const b = simRigFile(cwd, 'x-b', { sim: SIM, top: 'class: echo-sim' });
  for (const file of [a, b]) {
    const set = await dextbench(['rig', 'state', 'good', '--why', 'racked', '--rig', file], { cwd });
    assert.equal(set.code, 0, set.stderr);
  }
  const plug = join(cwd, 'plug.yaml');
  writeFileSync(plug, 'name: plugs echo\nuses:\n  devices: [echo]\nsteps:\n  - plug: { device: echo, within: 300ms }\n');
  const run = await dextbench(['run', '--rig', a, '--rig', b, '--max-failures', '1', '--workers', '1', plug], { cwd });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /\[infrastructure\] echo .*did not enumerate within 300ms/);
  assert.match(run.stdout, /^dextbench: the run stopped early after 1 maximum allowed failures: its infrastructure failures are not retried \(their rigs are still checked\)$/m);
  assert.doesNotMatch(run.stdout, /infrastructure retry \d/);
  assert.equal(readRecord(cwd, 'x-a').state, 'unknown', 'a real infrastructure failure still rechecks its rig');
  assert.equal(readRecord(cwd, 'x-b').state, 'good');
});

test('Ctrl-C during the health check a run starts with: the check is cancelled (bad) and the run stops there (130), nothing runs', async () => {
  const cwd = scratchDir();
  const file = rig(cwd, 'c-a', true);
  const { code, out } = await interruptDuringCheck(cwd, ['run', '--rig', file, noDeviceScenario(cwd)]);
  assert.equal(code, 130, out);
  assert.equal(readRecord(cwd, 'c-a').state, 'bad');
  assert.doesNotMatch(out, /needs no device|Error: rig "c-a"/);
});

/**
 * Starts the CLI as a terminal would (a process group of its own, which Ctrl-C hits whole) and
 * sends SIGINT while the health check sits in its plug step, waiting for a device that never
 * enumerates.
 */
async function interruptDuringCheck(cwd: string, argv: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bin, ...argv], { cwd, env: { ...process.env, CI: '', DEXTBENCH_HISTORY: 'off' }, detached: true });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/Running 1 test/.test(out)) {
    assert.ok(Date.now() < deadline, `the check did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 3000));
  process.kill(-child.pid!, 'SIGINT');
  return { code: await done, out };
}
