import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { readRunResults } from '../../../harness/engine/run-results.ts';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { allSteps, readHtmlReport } from '../../support/html-report.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

// A project of its own (a copy: the simulated Mac keeps its state in the project's .dextbench):
// the reports must show its scenario as `scenarios/…`, the path from where the user ran, and each
// step at its YAML line, not at the engine's code that runs it.
const project = realpathSync(scratchDir('dextbench-project-'));
cpSync(join(repoRoot, 'test/fixtures/projects/report-locations'), project, { recursive: true });
const scenario = 'scenarios/driverkit/located.yaml';
const scenarioFile = join(project, scenario);
const yamlLines = readFileSync(scenarioFile, 'utf8').split('\n');
/** Where the YAML step `- <kind>:` is: its line, and the column of its mapping. */
const at = (kind: string) => {
  const index = yamlLines.findIndex((l) => l.trimStart().startsWith(`- ${kind}:`));
  assert.ok(index >= 0, kind);
  return { file: scenario, line: index + 1, column: yamlLines[index]!.indexOf('-') + 3 };
};
const ran = ['sysext.developer', 'sysext.activate', 'plug', 'wait', 'expect.matched'];
const cleanup = 'sysext.deactivate';
const nameLine = yamlLines.findIndex((l) => l.startsWith('name:')) + 1;
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

test('HTML, JSON, JUnit and list reports: the scenario path is relative to the project, each step is at its YAML line', async () => {
  const output = scratchDir();
  const r = await dextbench(['run', '--reporter', 'list,html,junit,json', '--output', output, 'scenarios'], { cwd: project });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const failing = at('expect.matched');

  // list
  assert.match(r.stdout, new RegExp(`\\[sim\\] › ${escape(scenario)}:${nameLine}:1 › every step reported at its own line`));
  assert.doesNotMatch(r.stdout, /\.\.\/scenarios|step-runner\.ts/);
  assert.match(r.stdout, new RegExp(`${escape(scenarioFile)}:${failing.line}:${failing.column}`), 'the failure points at its YAML step');

  // JSON: the spec's file; its steps have no location field (Playwright 1.65 writes none), their titles name the line.
  const resultsFile = join(output, 'results.json');
  const json = JSON.parse(readFileSync(resultsFile, 'utf8'));
  assert.deepEqual(json.suites.map((s: { file: string }) => s.file), [scenario]);
  const spec = json.suites[0].specs[0];
  assert.equal(spec.file, scenario);
  assert.equal(json.config.rootDir, project);
  const result = spec.tests[0].results[0];
  assert.deepEqual(result.steps.map((s: { title: string }) => s.title.replace(/^(\S+).* — (.*)$/, '$1 $2')), ran.map((k) => `${k} ${scenario}:${at(k).line}`));
  assert.deepEqual(result.errors[0].location, { ...failing, file: scenarioFile });
  assert.deepEqual(result.errorLocation, { ...failing, file: scenarioFile });
  assert.doesNotMatch(readFileSync(resultsFile, 'utf8'), /step-runner\.ts/);
  // dextbench reads it back (infrastructure retries, health checks) with the scenario's absolute path.
  const [read] = readRunResults(resultsFile, project)!;
  assert.equal(read!.file, scenarioFile);
  assert.match(read!.failure!, new RegExp(`^${escape(scenario)}:${failing.line}: `));

  // HTML: the file as the report lists it, and every YAML step (cleanup too, nested under the
  // scene's teardown) at its line and column, with its YAML as the snippet.
  const html = readHtmlReport(join(output, 'html/index.html'));
  assert.deepEqual(html.files.map((f) => f.fileName), [scenario]);
  assert.deepEqual(html.files[0]!.tests.map((t) => t.location), [{ file: scenario, line: nameLine, column: 1 }]);
  const steps = allSteps(html.tests[0]!.results[0]!.steps);
  const yamlSteps = steps.filter((s) => s.title.includes(` — ${scenario}:`));
  assert.deepEqual(yamlSteps.map((s) => `${s.title.split(' ')[0]} ${JSON.stringify(s.location)}`), [...ran, cleanup].map((k) => `${k} ${JSON.stringify(at(k))}`));
  assert.ok(!steps.some((s) => s.location?.file.includes('step-runner')), JSON.stringify(steps.map((s) => s.location)));
  assert.ok(!steps.some((s) => s.location?.file.startsWith('../scenarios')));
  for (const step of yamlSteps) {
    const source = yamlLines[step.location!.line - 1]!;
    assert.ok(stripAnsi(step.snippet ?? '').includes(source), `${step.title}: snippet ${step.snippet}`);
  }
  assert.match(yamlSteps.find((s) => s.title.startsWith('expect.matched'))!.error ?? '', /not matched by NotTheEchoDriver/);
  const htmlError = html.tests[0]!.results[0]!.errors.map((e) => stripAnsi(typeof e === 'string' ? e : e.message ?? '')).join('\n');
  assert.match(htmlError, new RegExp(`${escape(scenarioFile)}:${failing.line}:${failing.column}`));

  // JUnit: the failure's header names the scenario from the project; the suite's name and the
  // testcase's file are the scenario's path (not the engine's one spec file), its classname the
  // dotted path without .yaml (Jenkins: package scenarios.driverkit, class located), the rig in the
  // testcase's name.
  const junit = readFileSync(join(output, 'junit.xml'), 'utf8');
  assert.match(junit, new RegExp(`\\[sim\\] › ${escape(scenario)}:${nameLine}:1 ›`));
  assert.doesNotMatch(junit, /\.\.\/scenarios|step-runner\.ts|scenario\.spec\.ts/);
  assert.deepEqual(junitSuites(junit), [
    { name: scenario, hostname: 'sim', counts: '1 tests, 0 failures, 1 errors, 0 skipped', testcases: [{ classname: 'scenarios.driverkit.located', file: scenario, name: '[sim] every step reported at its own line', failed: true }] },
  ]);
});

test('JUnit with two rigs: a testsuite per rig and scenario file, classname the dotted path, file the path, the rig in the testcase name', async () => {
  const rigsDir = join(project, 'rigs');
  mkdirSync(rigsDir, { recursive: true });
  const rigs = ['bench-a', 'bench-b'].map((name) => simRigFile(rigsDir, name, { sim: 'sip: disabled\ndeveloperMode: false\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }' }));
  // Dots in the file's name must not move Jenkins' package/class split at the classname's last dot.
  const passing = 'scenarios/driverkit/plugs.v2.yaml';
  writeFileSync(join(project, passing), 'name: the echo device plugs\nuses: { devices: [echo] }\nsteps:\n  - plug: echo\n');
  const output = scratchDir();
  const echoDext = `ECHO_DEXT=${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}`;
  const r = await dextbench(['run', '--reporter', 'junit', '--output', output, '--var', echoDext, ...rigs.flatMap((f) => ['--rig', f]), 'scenarios'], { cwd: project });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const junit = readFileSync(join(output, 'junit.xml'), 'utf8');
  assert.doesNotMatch(junit, /scenario\.spec\.ts|classname="\.\.\//);
  const suites = junitSuites(junit);
  const expected = ['bench-a', 'bench-b'].flatMap((rig) => [
    { name: scenario, hostname: rig, counts: '1 tests, 0 failures, 1 errors, 0 skipped', testcases: [{ classname: 'scenarios.driverkit.located', file: scenario, name: `[${rig}] every step reported at its own line`, failed: true }] },
    { name: passing, hostname: rig, counts: '1 tests, 0 failures, 0 errors, 0 skipped', testcases: [{ classname: 'scenarios.driverkit.plugs_v2', file: passing, name: `[${rig}] the echo device plugs`, failed: false }] },
  ]);
  const order = (s: { name: string | null; hostname: string | null }) => `${s.hostname} ${s.name}`;
  assert.deepEqual(suites.sort((a, b) => order(a).localeCompare(order(b))), expected.sort((a, b) => order(a).localeCompare(order(b))));
  // CI systems key a test on classname + name: the two rigs' runs of a scenario stay two tests.
  const ids = suites.flatMap((s) => s.testcases.map((t) => `${t.classname} ${t.name}`));
  assert.equal(new Set(ids).size, 4);
  assert.match(junit, /^<testsuites [^>]*\btests="4" failures="0" skipped="0" errors="2"/);
});

/** Each <testsuite>: its name, rig, counts and testcases (classname, file, name, whether it has an error or failure). */
function junitSuites(xml: string) {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return Array.from(doc.getElementsByTagName('testsuite')).map((suite) => ({
    name: suite.getAttribute('name'),
    hostname: suite.getAttribute('hostname'),
    counts: `${suite.getAttribute('tests')} tests, ${suite.getAttribute('failures')} failures, ${suite.getAttribute('errors')} errors, ${suite.getAttribute('skipped')} skipped`,
    testcases: Array.from(suite.getElementsByTagName('testcase')).map((t) => ({
      classname: t.getAttribute('classname'), file: t.getAttribute('file'), name: t.getAttribute('name'),
      failed: t.getElementsByTagName('error').length + t.getElementsByTagName('failure').length > 0,
    })),
  }));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
