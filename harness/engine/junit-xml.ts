// Playwright's JUnit report rewritten through an XML DOM (never by pattern over its text): every
// scenario runs through one spec file, so Playwright names each <testsuite> and <testcase classname>
// after that spec (harness/engine/scenario.spec.ts, node_modules/dextbench/… in a user's project).
// CI systems (Jenkins, GitLab, Buildkite) group and track tests by classname and name, so here each
// rig's suite is split into one suite per scenario file, named by its path from the project; each
// testcase gets that path as `file` (GitLab reads it; Jenkins ignores attributes it does not know)
// and a classname made from it as pytest makes one from a test module (junitClassname says how).
// The rig is in the testcase's name (`[rig] title`, Playwright's includeProjectInTestName), because
// those systems key a test on classname + name and ignore properties: with the rig only as a
// property, a scenario passing on one rig and failing on another would be one test, flaky, and its
// history would mix the rigs.
import { relative, sep } from 'node:path';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';

export type JunitDocument = Document;

export function parseJunit(xml: string, file: string): JunitDocument {
  let problem: string | undefined;
  let doc: Document | undefined;
  try {
    doc = new DOMParser({ onError: (level, message) => {
      // Strict: an error xmldom would recover from is still a report nobody should trust.
      if (level === 'warning') return;
      problem ??= message.split('\n')[0];
      throw new Error(message);
    } }).parseFromString(xml, 'text/xml');
  } catch {
    // Said below, once, in the problem's own words.
  }
  if (problem || !doc) throw new Error(`${file}: not a JUnit XML report (${problem ?? 'unreadable'})`);
  if (doc.documentElement?.tagName !== 'testsuites') throw new Error(`${file}: not a JUnit XML report (no <testsuites> root)`);
  return doc;
}

export function serializeJunit(doc: JunitDocument): string {
  return new XMLSerializer().serializeToString(doc);
}

/** The direct children of `parent` named `tag`. */
export function childElements(parent: Element, tag: string): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE && (node as Element).tagName === tag) out.push(node as Element);
  }
  return out;
}

/** Each testcase's scenario file by its suite's rig (`hostname`) and its name; undefined leaves it where it is. */
export type ScenarioOfTestcase = (rig: string, name: string) => string | undefined;

/**
 * A scenario file's path as the report gives it (suite name, testcase `file`): from the project's
 * root, `/`-separated on every OS. retry-merge.ts finds a retried testcase by it.
 */
export function junitScenarioFile(rootDir: string, scenarioFile: string): string {
  return relative(rootDir, scenarioFile).split(sep).join('/');
}

/**
 * A testcase's classname for its scenario file (its `/`-separated path from the project): the path
 * without its .yaml/.yml extension, folders and file joined by dots, as pytest writes
 * `tests.test_foo` for tests/test_foo.py. Jenkins' JUnit plugin splits a classname at its LAST dot
 * into package and class, so scenarios/driverkit/echo.yaml shows as class `echo` in package
 * `scenarios.driverkit` (with the path itself, every scenario was class `yaml`). A dot inside a
 * folder or file name (echo.v2.yaml; `..` of a scenario outside the project) would move that split,
 * so it becomes `_` here, in the classname only; the testcase's `file` attribute keeps the real path.
 */
export function junitClassname(scenarioFile: string): string {
  return scenarioFile.replace(/\.ya?ml$/, '').split('/').map((part) => part.replaceAll('.', '_')).join('.');
}

/**
 * Splits each rig's <testsuite> into one per scenario file (in the order their testcases come),
 * named by the file; each of its testcases gets the file as `file` and junitClassname(file) as its
 * classname; counts follow the testcases. A testcase whose scenario is unknown stays as Playwright
 * wrote it, in a suite of its own suite's name.
 *
 * The suite keeps the scenario's path as its name (not the dotted classname): Jenkins builds its
 * package / class / test tree from each testcase's classname alone (a suite's name stands in only
 * for a testcase without one) and, in current versions, merges suites of one name, so the path
 * costs Jenkins nothing and stays the file a reader looks for wherever a suite's name is shown.
 */
export function suitesPerScenario(doc: JunitDocument, scenarioOf: ScenarioOfTestcase): void {
  const root = doc.documentElement!;
  for (const suite of childElements(root, 'testsuite')) {
    const rig = suite.getAttribute('hostname') ?? '';
    const bySuiteName = new Map<string, Element[]>();
    for (const testcase of childElements(suite, 'testcase')) {
      const scenario = scenarioOf(rig, testcase.getAttribute('name') ?? '');
      if (scenario !== undefined) {
        testcase.setAttribute('classname', junitClassname(scenario));
        testcase.setAttribute('file', scenario);
      }
      const suiteName = scenario ?? suite.getAttribute('name') ?? '';
      bySuiteName.set(suiteName, [...(bySuiteName.get(suiteName) ?? []), testcase]);
    }
    for (const [suiteName, testcases] of bySuiteName) {
      const split = doc.createElement('testsuite');
      for (const attribute of Array.from(suite.attributes)) split.setAttribute(attribute.name, attribute.value);
      split.setAttribute('name', suiteName);
      for (const testcase of testcases) {
        split.appendChild(doc.createTextNode('\n'));
        split.appendChild(testcase);
      }
      split.appendChild(doc.createTextNode('\n'));
      root.insertBefore(split, suite);
      root.insertBefore(doc.createTextNode('\n'), suite);
      recountSuite(split);
    }
    const after = suite.nextSibling;
    if (after?.nodeType === after?.TEXT_NODE && !after?.nodeValue?.trim()) root.removeChild(after!);
    root.removeChild(suite);
  }
  recountRoot(doc);
}

/** A suite's tests, failures, errors, skipped and time, from its testcases. */
export function recountSuite(suite: Element): void {
  const testcases = childElements(suite, 'testcase');
  const count = (tag: string) => testcases.filter((t) => childElements(t, tag).length > 0).length;
  suite.setAttribute('tests', String(testcases.length));
  suite.setAttribute('failures', String(count('failure')));
  suite.setAttribute('errors', String(count('error')));
  suite.setAttribute('skipped', String(count('skipped')));
  const time = testcases.reduce((sum, t) => sum + (Number(t.getAttribute('time')) || 0), 0);
  if (suite.hasAttribute('time')) suite.setAttribute('time', String(Math.round(time * 1000) / 1000));
}

/** The root's counts as the sum of its suites' (its time, the run's wall time, stays). */
export function recountRoot(doc: JunitDocument): void {
  const root = doc.documentElement!;
  const suites = childElements(root, 'testsuite');
  for (const name of ['tests', 'failures', 'errors', 'skipped']) {
    root.setAttribute(name, String(suites.reduce((sum, s) => sum + (Number(s.getAttribute(name)) || 0), 0)));
  }
}

/** Adds `<property name value>` to the testcase's <properties> (made when it has none), as Playwright writes one. */
export function addProperty(testcase: Element, name: string, value: string): void {
  const doc = testcase.ownerDocument!;
  let properties = childElements(testcase, 'properties')[0];
  if (!properties) {
    properties = doc.createElement('properties');
    properties.appendChild(doc.createTextNode('\n'));
    testcase.insertBefore(properties, testcase.firstChild);
    testcase.insertBefore(doc.createTextNode('\n'), properties);
  }
  const property = doc.createElement('property');
  property.setAttribute('name', name);
  property.setAttribute('value', value);
  property.appendChild(doc.createTextNode('\n'));
  properties.appendChild(property);
  properties.appendChild(doc.createTextNode('\n'));
}
