// The `script:` step through the real CLI on the simulated Mac: what a script gets and returns, a
// throw at the script's own line, a failed command on the Mac, a script past its deadline (its
// command on the Mac is stopped), a missing export, and a missing file at its YAML position.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';
import { lane, NEEDS } from '../../support/lane.ts';

const projects = join(repoRoot, 'test/fixtures/projects');
const skip = lane('script step (ps)', [NEEDS.ps]);

test('script steps: result, a throw at its line, a failed command, a deadline that stops the command, a missing export', { skip }, async () => {
  // The timed-out script sleeps this long: a number no other process is likely to sleep.
  const seconds = `29.${process.pid}`;
  const r = await dextbench(['run', '--reporter', 'list,json', '--var', `SLEEP_SECONDS=${seconds}`, join(projects, 'script')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const tests = readJsonReport(r.cwd);
  const outcome = (file: string) => {
    const t = tests.find((x) => x.file.endsWith(file));
    assert.ok(t, `${file} ran`);
    return { status: t.status, error: t.results[0]!.errors[0]?.message?.split('\n')[0] ?? '' };
  };
  assert.deepEqual(outcome('passes.yaml'), { status: 'expected', error: '' });
  const at = (script: string, failureClass = 'product') => `Error: \\[${failureClass}\\] \\S*test/fixtures/projects/script/scripts/${script.replace('.', '\\.')}`;
  assert.match(outcome('throws.yaml').error, new RegExp(`^${at('throws.mjs')}:4: the firmware did not answer$`));
  assert.match(outcome('command-fails.yaml').error, new RegExp(`^${at('command-fails.mjs')}:4: a command on the Mac exited with 3: no such register$`));
  assert.match(outcome('exports-nothing.yaml').error, new RegExp(`^${at('exports-nothing.mjs', 'configuration')} exports no default or run function \\(write export default async function`));
  assert.match(outcome('times-out.yaml').error, new RegExp(`^${at('slow.mjs')} did not finish within 500ms; its commands on the Mac were stopped$`));
  // Each failure is reported at the script step's YAML line.
  assert.match(r.stdout, /at \S*script\/throws\.yaml:3:5/);
  const ps = await new LocalExec().run(['ps', '-eo', 'args']);
  assert.deepEqual(ps.stdout.split('\n').filter((l) => l.includes(`sleep ${seconds}`)), [], 'the timed-out script\'s sleep was stopped');
});

test('a script file that is not there is a validation error at its key, for validate and for run', async () => {
  const expected = /^\S*script-missing\/missing\.yaml:3:21: steps\[0\]\.script\.file: file "scripts\/nope\.mjs" not found \(looked for \S*\/script-missing\/scripts\/nope\.mjs\)$/;
  const validate = await dextbench(['validate', join(projects, 'script-missing')]);
  assert.equal(validate.code, 1);
  assert.match(validate.stderr.trim(), expected);
  const run = await dextbench(['run', join(projects, 'script-missing')]);
  assert.equal(run.code, 1);
  assert.match(run.stderr.trim(), expected);
  assert.equal(run.stdout, '', 'no scenario started');
});
