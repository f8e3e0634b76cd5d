// Turns each scenario file of the run into one Playwright test per rig project.
import { readFileSync } from 'node:fs';
import { compileFunction } from 'node:vm';
import { basename } from 'node:path';
import type { RigDefinition } from '../rig/types.ts';
import { extensionsOnRig, loadRig, loadScenario } from '../scenario/index.ts';
import { stepRegistry as stepSchemas } from '../steps/index.ts';
import { classified, classifyFailure, withFailureClass } from './failure-class.ts';
import { test } from './fixtures.ts';
import { scenarioLogScope } from './log-targets.ts';
import { readRunConfig, rigTag } from './run-config.ts';
import { atScenarioLine, runStep, type ScenarioRun } from './step-runner.ts';

// The scenario's own timeout is kept by the step runner, which names the step that ran out of
// time; Playwright's test timeout is set past it, only for what runs between steps.
const PLAYWRIGHT_TIMEOUT_MARGIN_MS = 30_000;
const run = readRunConfig();
const rigs = run.rigFiles.map((f) => loadRig(f, { vars: run.vars }));
// Titles and tags are read once for all rigs; each test loads its scenario again with its own
// rig's variables.
const anyRigVars = Object.assign({}, ...rigs.map((r) => r.vars)) as Record<string, string>;

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
  // With several rigs, a scenario runs on the ones `dextbench run` chose for it (each project
  // greps its rig's tag, see playwright.config.ts).
  if (rigs.length > 1) tags.push(...(run.runsOn[file] ?? rigs.map((r) => r.name)).map(rigTag));

  // A quarantined scenario runs as any other; the report says whose it is and until when.
  const quarantined = run.quarantined?.[title];
  const annotation = quarantined ? [{ type: 'dextbench.quarantined', description: quarantined }] : [];
  testAt(file, nameLine, title, { tag: tags, annotation }, async ({ rig, scene }, testInfo) => {
    const load = (rigs?: RigDefinition[]) => {
      try {
        return loadScenario(file, { steps: stepSchemas, vars: run.vars, rigVars: rig.definition.vars, ...(rigs ? { rigs } : {}) });
      } catch (error) {
        // A bad scenario (or a role this rig lacks, configuration too): its issues are already
        // file:line:col lines, so no stack.
        const e = withFailureClass(new Error((error as Error).message), classifyFailure(error));
        e.stack = e.message;
        throw classified(e);
      }
    };
    // A role this rig lacks fails, naming the role and the rig's roles: a typo never passes.
    const scenario = load([rig.definition]);
    testInfo.setTimeout(scenario.timeoutMs + PLAYWRIGHT_TIMEOUT_MARGIN_MS);
    await scene.followLog(scenarioLogScope(scenario, rig.definition));

    const context: ScenarioRun = {
      scenario, rig, scene, rootDir: run.rootDir,
      extensions: extensionsOnRig(rig.definition.extensions, scenario.uses.extensions),
    };
    scene.ranScenario({ scenario, extensions: context.extensions });
    // Registered first, so they run after anything steps register, and in the order written.
    // Cleanup is not held to the scenario's timeout: it must run also after that ran out.
    for (const step of [...scenario.cleanup].reverse()) {
      scene.cleanup.push(step.kind, () => runStep(step, 'cleanup', context), step.location);
    }
    const steps: ScenarioRun = { ...context, deadline: performance.now() + scenario.timeoutMs };

    let failure: Error | undefined;
    try {
      for (const step of scenario.setup) await runStep(step, 'setup', steps);
      for (const step of scenario.steps) await runStep(step, 'steps', steps);
    } catch (error) {
      failure = error as Error;
    }

    const expected = scenario.expectFailure;
    if (!expected) {
      if (failure) throw classified(failure);
      return;
    }
    const describeExpected = 'regex' in expected ? String(expected.regex) : JSON.stringify(expected.text);
    const lastStep = scenario.steps.at(-1) ?? scenario.setup.at(-1)!;
    if (!failure) {
      throw classified(withFailureClass(atScenarioLine(`expected the scenario to fail with ${describeExpected}, but every step passed`, lastStep), 'product'));
    }
    const matched = 'regex' in expected ? expected.regex.test(failure.message) : failure.message.includes(expected.text);
    if (!matched) {
      const e = withFailureClass(new Error(`failed, but not with the expected message ${describeExpected}: ${failure.message}`), classifyFailure(failure));
      e.stack = failure.stack?.replace(failure.message, e.message);
      throw classified(e);
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
