// Turns each scenario file of the run into one Playwright test per rig project.
import { readFileSync } from 'node:fs';
import { compileFunction } from 'node:vm';
import { basename } from 'node:path';
import { loadRig, loadScenario, type Scenario } from '../scenario/index.ts';
import { stepRegistry as stepSchemas } from '../steps/index.ts';
import { test } from './fixtures.ts';
import { readRunConfig } from './run-config.ts';
import { atScenarioLine, runStep, type ScenarioRun } from './step-runner.ts';

const run = readRunConfig();
// Titles and tags are read once for all rigs; each test loads its scenario again with its own
// rig's variables.
const anyRigVars = Object.assign({}, ...run.rigFiles.map((f) => loadRig(f, { vars: run.vars }).vars)) as Record<string, string>;

for (const file of run.scenarioFiles) {
  let title = basename(file);
  let tags: string[] = [];
  // Reported as the test's location: the scenario's `name:` line.
  const nameLine = readFileSync(file, 'utf8').split('\n').findIndex((l) => /^name\s*:/.test(l)) + 1 || 1;
  try {
    const meta = loadScenario(file, { steps: stepSchemas, vars: run.vars, rigVars: anyRigVars });
    title = meta.name;
    tags = meta.tags.map((t) => `@${t}`);
  } catch {
    // Reported by the test itself, with the rig's variables.
  }

  testAt(file, nameLine, title, { tag: tags }, async ({ rig, scene }, testInfo) => {
    let scenario: Scenario;
    try {
      scenario = loadScenario(file, { steps: stepSchemas, vars: run.vars, rigVars: rig.definition.vars });
    } catch (error) {
      const e = new Error((error as Error).message);
      e.stack = e.message;
      throw e;
    }
    const missing = scenario.uses.devices.filter((role) => !rig.devices.has(role));
    test.skip(missing.length > 0, `rig ${rig.definition.name} has no device ${missing.join(', ')}`);
    testInfo.setTimeout(scenario.timeoutMs);

    const context: ScenarioRun = {
      scenario, rig, scene, rootDir: run.rootDir,
      extensions: { ...rig.definition.extensions, ...scenario.uses.extensions },
    };
    // Registered first, so they run after anything steps register, and in the order written.
    for (const step of [...scenario.cleanup].reverse()) {
      scene.cleanup.push(`cleanup ${step.kind}`, () => runStep(step, 'cleanup', context));
    }

    let failure: Error | undefined;
    try {
      for (const step of scenario.setup) await runStep(step, 'setup', context);
      for (const step of scenario.steps) await runStep(step, 'steps', context);
    } catch (error) {
      failure = error as Error;
    }

    const expected = scenario.expectFailure;
    if (!expected) {
      if (failure) throw failure;
      return;
    }
    const describeExpected = 'regex' in expected ? String(expected.regex) : JSON.stringify(expected.text);
    const lastStep = scenario.steps.at(-1) ?? scenario.setup.at(-1)!;
    if (!failure) {
      throw atScenarioLine(`expected the scenario to fail with ${describeExpected}, but every step passed`, lastStep);
    }
    const matched = 'regex' in expected ? expected.regex.test(failure.message) : failure.message.includes(expected.text);
    if (!matched) {
      const e = new Error(`failed, but not with the expected message ${describeExpected}: ${failure.message}`);
      e.stack = failure.stack?.replace(failure.message, e.message);
      throw e;
    }
    testInfo.annotations.push({ type: 'expected failure', description: failure.message });
    scene.timeline.record({ type: 'expected-failure', message: failure.message });
  });
}

/**
 * Declares the test so that its reported location is the scenario file (its `name:` line), not
 * this spec: Playwright takes a test's location from the caller's stack frame, and a function
 * compiled with a filename and line offset reports its frames there.
 */
function testAt(file: string, line: number, ...args: Parameters<typeof test>): void {
  const declare = compileFunction('test(...args);', ['test', 'args'], { filename: file, lineOffset: line - 1 });
  declare(test, args);
}
