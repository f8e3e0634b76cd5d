// ci/failure-kind.mjs on what real runs on simulated Macs leave in dextbench-report/: a scenario that
// failed on infrastructure on one rig and passed on dextbench's infrastructure retry on another of its
// class (the fixture of health.test.ts: a rig whose channel bridge is missing) is forgiven; a product
// failure beside it is not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const failureKind = join(repoRoot, 'ci/failure-kind.mjs');
const SIM = 'sip: disabled\ndeveloperMode: false\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }';
const TOP = `health: ${join(repoRoot, 'scenarios/health/echo-rig.yaml')}\nclass: echo-sim`;
const ping = join(repoRoot, 'scenarios/driverkit/echo-channel-ping-info.yaml');
const echoDext = ['--var', `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`];
// Fails with class product on any rig: its measurement is above its max.
const productFailure = join(repoRoot, 'test/fixtures/projects/report/fails.yaml');

function kind(cwd: string, runExit: number | null): { code: number | null; line: string } {
  const r = spawnSync(process.execPath, [failureKind, 'dextbench-report', String(runExit)], { cwd, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.stderr, '');
  return { code: r.status, line: r.stdout.trim() };
}

test('a run whose only failure passed on the infrastructure retry on another rig is none (exit 0); with a product failure besides, product (exit 1)', async () => {
  const cwd = scratchDir();
  const a = simRigFile(cwd, 'k-a', { sim: SIM, top: `${TOP}\nbridge: { command: [dextbench-bridge-gone] }` });
  const b = simRigFile(cwd, 'k-b', { sim: SIM, top: TOP });
  const racked = async () => {
    for (const file of [a, b]) {
      const set = await dextbench(['rig', 'state', 'good', '--why', 'racked', '--rig', file], { cwd });
      assert.equal(set.code, 0, set.stderr);
    }
  };
  await racked();
  const run = await dextbench(['run', '--rig', a, '--rig', b, '--reporter', 'list,json', ...echoDext, ping], { cwd });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^dextbench: infrastructure retry 1\/2: \S*echo-channel-ping-info\.yaml on rig k-b \(failed on rig k-a: /m);
  assert.match(run.stdout, /passed on rig k-b on infrastructure retry 1 /);
  // results.json's documented shape once the retry is merged: flaky, with the annotation naming the rig.
  const [onA] = readJsonReport(cwd).filter((t) => t.projectName === 'k-a');
  assert.equal(onA!.status, 'flaky');
  assert.match(onA!.annotations.find((n) => n.type === 'dextbench.infra-retry')?.description ?? '', /^failed on rig k-a on infrastructure; passed on rig k-b /);

  assert.deepEqual(kind(cwd, run.code), { code: 0, line: 'none: 2 scenario runs, 1 failure quarantined or passed on an infrastructure retry' });

  // The recheck set k-a bad; put it back so the same infrastructure failure happens again, now beside a product failure.
  await racked();
  const red = await dextbench(['run', '--rig', a, '--rig', b, '--reporter', 'list,json', ...echoDext, ping, productFailure], { cwd });
  assert.equal(red.code, 1, red.stdout + red.stderr);
  assert.match(red.stdout, /passed on rig k-b on infrastructure retry 1 /);
  const product = kind(cwd, red.code);
  assert.equal(product.code, 1, product.line);
  assert.match(product.line, /^product: 2 scenarios failed \(product\), first \S*report\/fails\.yaml on rig k-a: \[product\] load = 20 MB\/s, above max 10 MB\/s$/);
});
