// How a run reports what went wrong: a role the rig lacks, a failing cleanup step, a scenario
// timeout; and what the unified log puts on the timeline. Through the real CLI on the simulated Mac.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachmentText, dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';

const projects = join(repoRoot, 'test/fixtures/projects');
const events = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });

test('a device role the rig lacks fails the run before any rig is touched, naming the role and the rig\'s roles; validate says so at the line', async () => {
  const run = await dextbench(['run', join(projects, 'roles/misspelt-role.yaml')]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /^\S*misspelt-role\.yaml:5:13: uses\.devices\[0\]: rig sim \(\S*rigs\/sim\.yaml\) has no device "echp"; its devices: echo; did you mean 'echo'\?$/m);
  assert.equal(run.stdout, '', 'no scenario started');
  assert.equal(existsSync(join(run.cwd, '.dextbench')), false, 'no simulated Mac started');

  const validate = await dextbench(['validate', join(projects, 'roles')]);
  assert.equal(validate.code, 1, validate.stdout + validate.stderr);
  const lines = validate.stderr.trim().split('\n');
  assert.ok(lines.some((l) => /misspelt-role\.yaml:5:13: uses\.devices\[0\]: no rig has a device "echp" \(.*sim: echo.*\); did you mean 'echo'\?$/.test(l)), validate.stderr);
  assert.ok(lines.some((l) => /undeclared-device\.yaml:7:11: steps\[1\]\.plug: device "toaster" is not declared in uses\.devices \(uses\.devices declares echo\); add toaster to uses\.devices$/.test(l)), validate.stderr);
  // Against one rig given by --rig, the message names that rig and its file.
  const one = await dextbench(['validate', '--rig', join(repoRoot, 'rigs/sim.yaml'), join(projects, 'roles/misspelt-role.yaml')]);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /misspelt-role\.yaml:5:13: uses\.devices\[0\]: rig sim \(\S*rigs\/sim\.yaml\) has no device "echp"; its devices: echo/);
});

test('a failing cleanup step and a scenario timeout: each at its YAML line, with artifacts in test-results/ and an honest timeline', async () => {
  const r = await dextbench(['run', '--reporter', 'list,json,junit', join(projects, 'cleanup-fails'), join(projects, 'timeout')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Error: \[product\] cleanup failed: run \(\S*cleanup-fails\.yaml:10\): sh -c 'echo hub port stuck >&2; exit 3' exited 3, expected 0: hub port stuck/);
  assert.match(r.stdout, /at \S*cleanup-fails\.yaml:10:5/);
  assert.match(r.stdout, /Error: \[product\] scenario timeout of 1s exceeded while step wait at \S*timeout\.yaml:8 was running/);
  assert.match(r.stdout, /at \S*timeout\.yaml:8:5/);
  assert.doesNotMatch(r.stdout, /harness\/engine\//, 'no harness frames');
  assert.doesNotMatch(r.stdout, /Test timeout of/);
  const junit = readFileSync(join(r.cwd, 'dextbench-report/junit.xml'), 'utf8');
  assert.match(junit, /message="\[product\] scenario timeout of 1s exceeded while step wait at \S*timeout\.yaml:8 was running"/);

  const tests = readJsonReport(r.cwd);
  for (const [file, last] of [['cleanup-fails.yaml', 'run'], ['timeout.yaml', 'unplug']] as const) {
    const t = tests.find((x) => x.file.endsWith(file))!;
    assert.equal(t.status, 'unexpected', file);
    const attachments = new Map(t.results[0]!.attachments.map((a) => [a.name, attachmentText(a)]));
    const artifacts = ['timeline.jsonl', 'unified-log.ndjson', 'systemextensionsctl-list.txt', 'ioreg-usb.txt', 'unified-log.txt'];
    for (const name of artifacts) assert.ok(attachments.has(name), `${file}: ${name} attached`);
    const timeline = events(attachments.get('timeline.jsonl')!);
    assert.deepEqual(timeline.at(-1), { ...timeline.at(-1), type: 'scenario-end', status: 'failed' }, `${file}: ${JSON.stringify(timeline.at(-1))}`);
    assert.ok(timeline.some((e) => e.type === 'safe-state'), `${file}: the rig was left safe`);
    const steps = timeline.filter((e) => e.type === 'step' && e.status !== 'started').map((e) => `${e.phase}:${e.kind}:${e.status}`);
    assert.equal(steps.at(-1)?.split(':')[1], last, `${file}: ${steps.join(' ')}`);
    // The per-test folder in test-results/ holds the same files as the report.
    const folder = readdirSync(join(r.cwd, 'test-results'), { withFileTypes: true })
      .find((d) => d.isDirectory() && readFileSync(join(r.cwd, 'test-results', d.name, 'timeline.jsonl'), 'utf8') === attachments.get('timeline.jsonl'))?.name;
    assert.ok(folder, `${file}: its folder in test-results/`);
    for (const name of artifacts) assert.ok(existsSync(join(r.cwd, 'test-results', folder, name)), `${file}: test-results/${folder}/${name}`);
  }
  const timedOut = events(attachmentText(tests.find((x) => x.file.endsWith('timeout.yaml'))!.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!));
  assert.deepEqual(timedOut.filter((e) => e.type === 'step' && e.status !== 'started').map((e) => `${e.phase}:${e.kind}:${e.status}`),
    ['steps:plug:passed', 'steps:wait:timedOut', 'cleanup:unplug:passed'], 'the running step is closed on the timeline, and cleanup ran');
});

test('the timeline carries the scenario\'s extension\'s lines, not another bundle\'s; the full stream is kept as an artifact', async () => {
  const r = await dextbench(['run', '--reporter', 'list,json', '--rig', join(projects, 'rigs/sim-beta-approved.yaml'), join(projects, 'log-scope')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [t] = readJsonReport(r.cwd);
  const attachments = new Map(t!.results[0]!.attachments.map((a) => [a.name, attachmentText(a)]));
  const logLines = events(attachments.get('timeline.jsonl')!).filter((e) => e.type === 'log');
  const beta = 'com.example.echo.driver.beta';
  assert.ok(logLines.some((e) => e.sender === 'com.example.echo.driver.dext'), 'the echo dext\'s own line is on the timeline');
  assert.ok(logLines.some((e) => e.process === 'sysextd' && String(e.message).endsWith('identifier com.example.echo.driver')), 'its activation lines too');
  assert.deepEqual(logLines.filter((e) => String(e.message).includes(beta) || String(e.sender).startsWith(beta)), [], 'no line about the beta bundle');

  const full = attachments.get('unified-log.ndjson')!.trim().split('\n').map((l) => JSON.parse(l) as { eventMessage: string; processImagePath: string });
  const messages = full.map((e) => e.eventMessage);
  assert.ok(messages.includes(`client activation request for ${beta}`), 'the beta\'s sysextd lines are in the full stream');
  assert.ok(messages.some((m) => m.startsWith(`DK: IOUserServer(${beta}-`)), 'and its kernel exit line');
  assert.ok(messages.some((m) => m.startsWith('EchoDriver::Start:')), 'and the echo dext\'s own line');
  assert.ok(full.length > logLines.length, 'the full stream holds more than the timeline');
});
