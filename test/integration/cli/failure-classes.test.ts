// Every failed scenario carries its class (infrastructure | configuration | product | harness) in the
// list output (its error's first line), the JSON report (a dextbench.class annotation) and JUnit
// (a property); a passing one has none. Through the real CLI on the simulated Mac.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FAILURE_CLASS_FIELD } from '../../../harness/engine/failure-class.ts';
import { dextbench, readJsonReport, repoRoot, type CliResult } from '../../support/cli.ts';

const projects = join(repoRoot, 'test/fixtures/projects');

/** Each test's class as the three reports give it, by scenario name. */
function classesIn(run: CliResult) {
  const json = new Map(readJsonReport(run.cwd).map((t) => [
    t.title.split(' › ').at(-1)!,
    t.annotations.filter((a) => a.type === FAILURE_CLASS_FIELD).map((a) => a.description),
  ]));
  const junit = new Map(readFileSync(join(run.cwd, 'dextbench-report/junit.xml'), 'utf8').split('<testcase ').slice(1).map((testcase) => [
    /^name="\[[^\]]*\] ([^"]*)"/.exec(testcase)![1]!, // `[rig] title`
    [...testcase.matchAll(/<property name="dextbench\.class" value="([^"]*)">/g)].map((m) => m[1]),
  ]));
  return { json, junit };
}

function assertClass(run: CliResult, scenario: string, failureClass: string, firstLine: RegExp): void {
  const { json, junit } = classesIn(run);
  assert.deepEqual(json.get(scenario), [failureClass], `JSON report: ${scenario}`);
  assert.deepEqual(junit.get(scenario), [failureClass], `JUnit: ${scenario}`);
  const errorLine = new RegExp(`^ {4}Error: \\[${failureClass}\\] ${firstLine.source}`, 'm');
  assert.match(run.stdout, errorLine, `list output: ${scenario}`);
}

test('product, configuration and infrastructure (the Mac needs approval) failures each show their class; a pass has none', async () => {
  const r = await dextbench(['run', '--reporter', 'list,json,junit', join(projects, 'classes')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assertClass(r, 'an expect that fails is a product failure', 'product',
    /echo \(1d6b:0104 serial ECHO0001, hub1 port 2\) was not matched by NotTheEchoDriver within 300ms/);
  assertClass(r, 'a script without an entry point is a configuration failure', 'configuration',
    /\S*classes\/scripts\/no-entry\.mjs exports no default or run function/);
  assertClass(r, 'a Mac that needs approval is an infrastructure failure', 'infrastructure',
    /com\.example\.echo\.driver\.beta 1\.0\.0\/1 is waiting for user approval/);
  const { json, junit } = classesIn(r);
  assert.deepEqual(json.get('a passing scenario has no class'), []);
  assert.deepEqual(junit.get('a passing scenario has no class'), []);
  assert.equal(json.size, 4, 'every scenario ran');
  // The class is on the timeline's end too, for what reads the timeline (the repro bundle, the report).
  const [failed] = readJsonReport(r.cwd).filter((t) => t.title.endsWith('an expect that fails is a product failure'));
  const timeline = failed!.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!;
  const end = Buffer.from(timeline.body!, 'base64').toString('utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
  assert.deepEqual(end, { ...end, type: 'scenario-end', status: 'failed', class: 'product' });
});

test('a rig whose activator is not installed, and a rig whose hub tool is missing (failing in the rig fixture): infrastructure', async () => {
  const scenario = 'activating the echo driver';
  const noActivator = await dextbench(['run', '--reporter', 'list,json,junit', '--rig', join(projects, 'classes-rigs/sim-no-activator.yaml'), join(projects, 'classes-rigs/activates.yaml')]);
  assert.equal(noActivator.code, 1, noActivator.stdout + noActivator.stderr);
  assertClass(noActivator, scenario, 'infrastructure', /dextbench-activator-not-installed is not installed on simulated Mac "sim-no-activator"/);

  const deadHub = await dextbench(['run', '--reporter', 'list,json,junit', '--rig', join(projects, 'classes-rigs/sim-dead-hub.yaml'), join(projects, 'classes-rigs/activates.yaml')]);
  assert.equal(deadHub.code, 1, deadHub.stdout + deadHub.stderr);
  assertClass(deadHub, scenario, 'infrastructure', /rig "sim-dead-hub": safe state failed: echo \(hub1 port 2\): .*uhubctl is not installed/);
  assert.doesNotMatch(deadHub.stdout, /harness\/(rig|engine)\//, 'an infrastructure failure is one line, without harness frames');
});
