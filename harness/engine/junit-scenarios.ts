// A Playwright reporter listed right after the JUnit reporter (reporters.ts): Playwright ends its
// reporters one after the other, so when this one ends junit.xml is written, and it names its suites,
// testcases' classnames and their `file`s after the scenario files (junit-xml.ts says how and why).
// The scenario of each testcase comes from the test itself: its location is the scenario file
// (scenario.spec.ts declares it there).
import { readFileSync, writeFileSync } from 'node:fs';
import type { FullConfig, Reporter, Suite } from '@playwright/test/reporter';
import { junitScenarioFile, parseJunit, serializeJunit, suitesPerScenario } from './junit-xml.ts';

export interface JunitScenariosOptions { outputFile: string }

export default class JunitScenarios implements Reporter {
  private rootDir = '';
  private suite: Suite | undefined;

  constructor(private readonly options: JunitScenariosOptions) {}

  printsToStdio(): boolean {
    return false;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    this.rootDir = config.rootDir;
    this.suite = suite;
  }

  onEnd(): void {
    if (!this.suite) return;
    const scenarios = new Map<string, string>();
    for (const test of this.suite.allTests()) {
      const rig = test.parent.project()?.name ?? '';
      // The testcase's name as the JUnit reporter writes it with includeProjectInTestName.
      const name = `[${rig}] ${test.titlePath().slice(3).join(' › ')}`;
      scenarios.set(testcaseKey(rig, name), junitScenarioFile(this.rootDir, test.location.file));
    }
    let xml: string;
    try {
      xml = readFileSync(this.options.outputFile, 'utf8');
    } catch {
      return; // No report written (the run failed before its tests); nothing to name.
    }
    const doc = parseJunit(xml, this.options.outputFile);
    suitesPerScenario(doc, (rig, name) => scenarios.get(testcaseKey(rig, name)));
    writeFileSync(this.options.outputFile, serializeJunit(doc));
  }
}

function testcaseKey(rig: string, name: string): string {
  return `${rig}\u0000${name}`;
}
