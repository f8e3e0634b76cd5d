// The commands in the workflows of ci/ are ones that work. Each is taken from the workflow's steps
// (parsed with the yaml package), its words split by bash as the runner would.
// - `npx dextbench …`: its rig files swapped for a simulated Mac, run for real in a scratch project
//   in the workflow's order; a misspelled command or flag fails (ours refuse unknown options, and
//   `run` hands the rest to Playwright, which does too).
// - `ci/run-nightly.sh …` (whose own steps run for real in run-nightly.test.ts): the rig files it
//   names exist and validate together, as the script validates them; nothing before `--` is an
//   option, and nothing after it is one the script refuses (--rig, --output); and `dextbench run`
//   accepts what follows `--`, checked by listing the run on those very rigs (--list runs no global
//   setup, so no Mac is reached).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const workflows = readdirSync(join(repoRoot, 'ci')).filter((f) => f.endsWith('.yml'));
const SIM = `sip: disabled
developerMode: false
approvedExtensions: { DXTBNCH001: [com.example.echo.driver] }`;
const PASSES = 'name: needs no device\nsteps:\n  - wait: 10ms\n';

/** The commands of a workflow's steps that start with `command`, in order, as argv after it. */
function commandsOf(file: string, command: RegExp): string[][] {
  const doc = parse(readFileSync(join(repoRoot, 'ci', file), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
  const out: string[][] = [];
  for (const job of Object.values(doc.jobs)) {
    for (const step of job.steps) {
      // Line continuations joined; each command runs up to the shell's next operator.
      const script = (step.run ?? '').replace(/\\\n/g, ' ').replace(/\$\{\{[^}]*\}\}/g, '0');
      for (const m of script.matchAll(new RegExp(`(?:^|[\\s(;&|])${command.source} ([^;&|\\n)]*)`, 'gm'))) {
        const words = spawnSync('bash', ['-c', `printf '%s\\0' ${m[1]!.replace(/\s2>.*$/, '')}`], { encoding: 'utf8', env: { ...process.env, PWD: '/nightly' } });
        assert.equal(words.status, 0, words.stderr);
        out.push(words.stdout.split('\0').slice(0, -1));
      }
    }
  }
  return out;
}
const dextbenchCommands = (file: string) => commandsOf(file, /npx dextbench/);
const nightlyScriptRuns = (file: string) => commandsOf(file, /(?:bash )?(?:\.\/)?ci\/run-nightly\.sh/);

/** The --var options among a run's arguments, which the script also hands to validate and rig check. */
function varOptions(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--var') out.push('--var', args[++i] ?? '');
    else if (args[i]!.startsWith('--var=')) out.push(args[i]!);
  }
  return out;
}

test('every workflow runs dextbench, with npx dextbench or through ci/run-nightly.sh', () => {
  for (const file of workflows) {
    assert.ok(dextbenchCommands(file).length + nightlyScriptRuns(file).length > 0, `ci/${file} has no npx dextbench and no ci/run-nightly.sh command`);
  }
});

test('the workflows name rigs that validate', async () => {
  const rigs = readdirSync(join(repoRoot, 'ci/rigs')).map((f) => join(repoRoot, 'ci/rigs', f));
  const r = await dextbench(['validate', ...rigs.flatMap((f) => ['--rig', f]), ...rigs], { cwd: repoRoot });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const file of workflows) {
    const text = readFileSync(join(repoRoot, 'ci', file), 'utf8');
    for (const [, rig] of text.matchAll(/(ci\/rigs\/[\w-]+\.yaml)/g)) assert.ok(rigs.includes(join(repoRoot, rig!)), `${file} names ${rig}, which ci/rigs lacks`);
  }
});

for (const file of workflows.filter((f) => dextbenchCommands(f).length)) {
  test(`ci/${file}: every npx dextbench command is accepted`, async () => {
    const commands = dextbenchCommands(file);
    if (file === 'nightly-macos.yml') {
      assert.deepEqual(commands.map((c) => c.slice(0, c[0] === 'rig' ? 2 : 1).join(' ')), ['validate', 'rig check', 'run', 'report'], 'the nightly runs the rig check before the run');
    }
    const cwd = scratchDir('dextbench-workflow-');
    const rig = simRigFile(cwd, 'wf-sim', { sim: SIM, top: `health: ${join(repoRoot, 'scenarios/health/echo-rig.yaml')}` });
    writeFileSync(join(cwd, 'passes.yaml'), PASSES);
    for (const argv of commands) {
      const swapped = argv.map((a) => (/\.ya?ml$/.test(a) && a.includes('rigs/') ? rig : a));
      // The rig's own scenarios folder is the operator's; here one scenario stands in.
      const args = swapped[0] === 'run' ? [...swapped, join(cwd, 'passes.yaml')] : swapped;
      const r = await dextbench(args, { cwd, env: { DEXTBENCH_HISTORY: join(cwd, 'history') } });
      assert.equal(r.code, 0, `npx dextbench ${argv.join(' ')} (as ${args.join(' ')}):\n${r.stdout}\n${r.stderr}`);
    }
  });
}

for (const file of workflows.filter((f) => nightlyScriptRuns(f).length)) {
  test(`ci/${file}: every ci/run-nightly.sh names rig files that exist and validate, and passes only arguments it and dextbench run take`, async () => {
    const scratch = scratchDir('dextbench-workflow-nightly-');
    writeFileSync(join(scratch, 'passes.yaml'), PASSES);
    for (const argv of nightlyScriptRuns(file)) {
      const shown = `ci/run-nightly.sh ${argv.join(' ')}`;
      const cut = argv.indexOf('--');
      const rigs = cut < 0 ? argv : argv.slice(0, cut);
      const runArgs = cut < 0 ? [] : argv.slice(cut + 1);
      assert.ok(rigs.length > 0, `${shown}: names no rig`);
      for (const rig of rigs) {
        assert.ok(!rig.startsWith('-'), `${shown}: ${rig} before --, where the script takes rig files only (it exits 2); dextbench run's options go after --`);
        // The workflow runs at the repository's root, where ci/ is copied.
        assert.ok(existsSync(join(repoRoot, rig)), `${shown}: there is no rig file ${rig}`);
      }
      const refused = runArgs.find((a) => /^--(rig|output)(=|$)/.test(a));
      assert.equal(refused, undefined, `${shown}: ${refused} after --, which the script refuses (exit 2): rigs go before --, and it collects dextbench-report/ itself`);
      const rigOptions = rigs.flatMap((r) => ['--rig', r]);
      const valid = await dextbench(['validate', ...rigOptions, ...varOptions(runArgs), ...rigs], { cwd: repoRoot });
      assert.equal(valid.code, 0, `${shown}: its rig files do not validate:\n${valid.stdout}\n${valid.stderr}`);
      // A stand-in scenario, listed on each of the rigs.
      const listing = ['run', ...rigOptions, ...runArgs, join(scratch, 'passes.yaml'), '--list', '--output', join(scratch, 'listed')];
      const listed = await dextbench(listing, { cwd: repoRoot });
      assert.equal(listed.code, 0, `${shown}: dextbench run does not take what follows -- (as dextbench ${listing.join(' ')}):\n${listed.stdout}\n${listed.stderr}`);
      for (const rig of rigs) assert.match(listed.stdout, new RegExp(`\\[${parse(readFileSync(join(repoRoot, rig), 'utf8')).name}\\] › `), `${shown}: the run lists nothing on ${rig}`);
    }
  });
}
