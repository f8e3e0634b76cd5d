// Every `npx dextbench …` command in the workflows of ci/ is one the CLI accepts: each is taken from
// the workflow's steps (parsed with the yaml package), its words split by bash as the runner would,
// its rig files swapped for a simulated Mac, and run for real in a scratch project in the
// workflow's order; a misspelled command or flag fails (ours refuse unknown options, and `run`
// hands the rest to Playwright, which does too). Steps that call ci/run-nightly.sh run it instead
// (its commands are tested in run-nightly.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const workflows = readdirSync(join(repoRoot, 'ci')).filter((f) => f.endsWith('.yml'));
const SIM = `sip: disabled
developerMode: false
approvedExtensions: { DXTBNCH001: [com.example.echo.driver] }`;

/** The `npx dextbench` commands of a workflow's steps, in order, as argv after `dextbench`. */
function dextbenchCommands(file: string): string[][] {
  const doc = parse(readFileSync(join(repoRoot, 'ci', file), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
  const out: string[][] = [];
  for (const job of Object.values(doc.jobs)) {
    for (const step of job.steps) {
      // Line continuations joined; each command runs up to the shell's next operator.
      const script = (step.run ?? '').replace(/\\\n/g, ' ').replace(/\$\{\{[^}]*\}\}/g, '0');
      for (const m of script.matchAll(/npx dextbench ([^;&|\n)]*)/g)) {
        const words = spawnSync('bash', ['-c', `printf '%s\\0' ${m[1]!.replace(/\s2>.*$/, '')}`], { encoding: 'utf8', env: { ...process.env, PWD: '/nightly' } });
        assert.equal(words.status, 0, words.stderr);
        out.push(words.stdout.split('\0').slice(0, -1));
      }
    }
  }
  return out;
}

test('the workflows name rigs that validate', async () => {
  const rigs = readdirSync(join(repoRoot, 'ci/rigs')).map((f) => join(repoRoot, 'ci/rigs', f));
  const r = await dextbench(['validate', ...rigs.flatMap((f) => ['--rig', f]), ...rigs], { cwd: repoRoot });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const file of workflows) {
    const text = readFileSync(join(repoRoot, 'ci', file), 'utf8');
    for (const [, rig] of text.matchAll(/(ci\/rigs\/[\w-]+\.yaml)/g)) assert.ok(rigs.includes(join(repoRoot, rig!)), `${file} names ${rig}, which ci/rigs lacks`);
  }
});

for (const file of workflows) {
  test(`ci/${file}: every npx dextbench command is accepted`, async () => {
    const commands = dextbenchCommands(file);
    if (file === 'nightly-macos.yml') {
      assert.deepEqual(commands.map((c) => c.slice(0, c[0] === 'rig' ? 2 : 1).join(' ')), ['validate', 'rig check', 'run', 'report'], 'the nightly runs the rig check before the run');
    }
    const cwd = scratchDir('dextbench-workflow-');
    const rig = simRigFile(cwd, 'wf-sim', { sim: SIM, top: `health: ${join(repoRoot, 'scenarios/health/echo-rig.yaml')}` });
    writeFileSync(join(cwd, 'passes.yaml'), 'name: needs no device\nsteps:\n  - wait: 10ms\n');
    for (const argv of commands) {
      const swapped = argv.map((a) => (/\.ya?ml$/.test(a) && a.includes('rigs/') ? rig : a));
      // The rig's own scenarios folder is the operator's; here one scenario stands in.
      const args = swapped[0] === 'run' ? [...swapped, join(cwd, 'passes.yaml')] : swapped;
      const r = await dextbench(args, { cwd, env: { DEXTBENCH_HISTORY: join(cwd, 'history') } });
      assert.equal(r.code, 0, `npx dextbench ${argv.join(' ')} (as ${args.join(' ')}):\n${r.stdout}\n${r.stderr}`);
    }
  });
}
