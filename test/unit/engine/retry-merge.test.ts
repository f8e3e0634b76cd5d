// junit.xml as Playwright 1.65 writes it for a dextbench run (every scenario in one suite per rig,
// classed by the engine's one spec file), split per scenario file (junit-xml.ts: classname the dotted
// path, `file` the path) and rewritten for an infrastructure retry that passed (retry-merge.ts),
// through an XML DOM.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { junitClassname, junitScenarioFile, parseJunit, serializeJunit, suitesPerScenario } from '../../../harness/engine/junit-xml.ts';
import { describeInfraRetry, passedInJunit } from '../../../harness/engine/retry-merge.ts';

const SPEC = '../node_modules/dextbench/harness/engine/scenario.spec.ts';
// A title with XML's special characters: escaped in attributes, and a pattern over the text would trip on them.
const TRICKY = 'echo <"fast"> & \'slow\'';
const ESCAPED = 'echo &lt;&quot;fast&quot;&gt; &amp; &apos;slow&apos;';
const playwrightJunit = `<testsuites id="" name="" tests="3" failures="0" skipped="0" errors="2" time="9.5">
<testsuite name="${SPEC}" timestamp="2026-12-02T10:00:00.000Z" hostname="rig-a" tests="2" failures="0" skipped="0" time="3.25" errors="1">
<testcase name="[rig-a] ${ESCAPED}" classname="${SPEC}" time="1.25">
<properties>
<property name="dextbench.class" value="infrastructure">
</property>
</properties>
<error message="[infrastructure] bridge command not found" type="Error">
<![CDATA[  [rig-a] › scenarios/a.yaml:1:1 › ${TRICKY} ]]&gt; & <stack>]]>
</error>
</testcase>
<testcase name="[rig-a] plugs" classname="${SPEC}" time="2">
</testcase>
</testsuite>
<testsuite name="${SPEC}" timestamp="2026-12-02T10:00:00.000Z" hostname="rig-b" tests="1" failures="0" skipped="0" time="4" errors="1">
<testcase name="[rig-b] ${ESCAPED}" classname="${SPEC}" time="4">
<error message="[product] no echo" type="Error">
<![CDATA[product failure]]>
</error>
</testcase>
</testsuite>
</testsuites>`;

// A: nested folders; B: a .yml whose folder and file names hold dots (Jenkins would split at them).
const A = 'scenarios/driverkit/echo-install-match.yaml';
const B = 'scenarios/ne.v2/plugs.fast.yml';
const scenarioOf = (_rig: string, name: string) => name.endsWith(TRICKY) ? A : name.endsWith('plugs') ? B : undefined;

function split(xml: string): string {
  const doc = parseJunit(xml, 'junit.xml');
  suitesPerScenario(doc, scenarioOf);
  return serializeJunit(doc);
}

function summary(xml: string) {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const root = doc.documentElement!;
  const counts = (e: Element) => ['tests', 'failures', 'errors', 'skipped'].map((n) => e.getAttribute(n)).join('/');
  return {
    root: counts(root),
    suites: Array.from(doc.getElementsByTagName('testsuite')).map((s) => ({
      name: s.getAttribute('name'), rig: s.getAttribute('hostname'), counts: counts(s), time: s.getAttribute('time'),
      testcases: Array.from(s.getElementsByTagName('testcase')).map((t) => ({
        name: t.getAttribute('name'), classname: t.getAttribute('classname'), file: t.getAttribute('file'),
        errors: t.getElementsByTagName('error').length,
        properties: Array.from(t.getElementsByTagName('property')).map((p) => `${p.getAttribute('name')}=${p.getAttribute('value')}`),
      })),
    })),
  };
}

test('each rig\'s suite becomes one per scenario file, named by its path; classname the dotted path, file the path; counts and times from its testcases', () => {
  const out = split(playwrightJunit);
  assert.deepEqual(summary(out), {
    root: '3/0/2/0',
    suites: [
      { name: A, rig: 'rig-a', counts: '1/0/1/0', time: '1.25', testcases: [{ name: `[rig-a] ${TRICKY}`, classname: 'scenarios.driverkit.echo-install-match', file: A, errors: 1, properties: ['dextbench.class=infrastructure'] }] },
      { name: B, rig: 'rig-a', counts: '1/0/0/0', time: '2', testcases: [{ name: '[rig-a] plugs', classname: 'scenarios.ne_v2.plugs_fast', file: B, errors: 0, properties: [] }] },
      { name: A, rig: 'rig-b', counts: '1/0/1/0', time: '4', testcases: [{ name: `[rig-b] ${TRICKY}`, classname: 'scenarios.driverkit.echo-install-match', file: A, errors: 1, properties: [] }] },
    ],
  });
  assert.ok(!out.includes('scenario.spec.ts'));
  // The failure's text survives as it was (Playwright writes a `]]>` in it as `]]&gt;`).
  assert.equal(new DOMParser().parseFromString(out, 'text/xml').getElementsByTagName('error')[0]!.textContent?.trim(), `  [rig-a] › scenarios/a.yaml:1:1 › ${TRICKY} ]]&gt; & <stack>`.trim());
});

test('a retry that passed: only its rig\'s testcase of that scenario (found by its file) loses its error and gains the property; counts follow', () => {
  const retry = { file: `/p/${A}`, from: 'rig-a', to: 'rig-c', attempt: 1 };
  // As mergeInfraRetries names the retried scenario: the same path the reporter wrote as `file`.
  const scenario = junitScenarioFile('/p', retry.file);
  assert.equal(scenario, A);
  const out = passedInJunit(split(playwrightJunit), 'junit.xml', [{ rig: 'rig-a', scenario, retry }]);
  const { root, suites } = summary(out);
  assert.equal(root, '3/0/1/0');
  assert.deepEqual(suites.map((s) => [s.rig, s.name, s.counts]), [['rig-a', A, '1/0/0/0'], ['rig-a', B, '1/0/0/0'], ['rig-b', A, '1/0/1/0']]);
  assert.deepEqual(suites[0]!.testcases[0]!.properties, ['dextbench.class=infrastructure', `dextbench.infra-retry=${describeInfraRetry(retry)}`]);
  assert.equal(suites[0]!.testcases[0]!.errors, 0);
  assert.equal(suites[2]!.testcases[0]!.errors, 1, 'the other rig\'s failure stays');
  // A testcase with no properties gets them, as Playwright writes them.
  const onB = passedInJunit(split(playwrightJunit), 'junit.xml', [{ rig: 'rig-b', scenario, retry: { ...retry, from: 'rig-b' } }]);
  assert.match(onB, /<testcase name="\[rig-b\][^>]*>\n<properties>\n<property name="dextbench\.infra-retry" value="[^"]*">\n<\/property>\n<\/properties>/);
  assert.equal(summary(onB).root, '3/0/1/0');
});

test('classname: the path without .yaml/.yml, folders joined by dots, a dot inside a name as _', () => {
  assert.equal(junitClassname('scenarios/driverkit/echo-install-match.yaml'), 'scenarios.driverkit.echo-install-match');
  assert.equal(junitClassname('scenarios/es/exec-guard.yml'), 'scenarios.es.exec-guard');
  assert.equal(junitClassname('echo.yaml'), 'echo');
  assert.equal(junitClassname('scenarios/v1.2/echo.fast.yaml'), 'scenarios.v1_2.echo_fast');
  assert.equal(junitClassname('../shared/echo.yaml'), '__.shared.echo');
  assert.equal(junitScenarioFile('/p', '/p/scenarios/driverkit/echo.yaml'), 'scenarios/driverkit/echo.yaml');
});

test('a testcase whose scenario is unknown stays as Playwright wrote it: its classname, no file', () => {
  const doc = parseJunit(playwrightJunit, 'junit.xml');
  suitesPerScenario(doc, (rig, name) => rig === 'rig-a' ? scenarioOf(rig, name) : undefined);
  const onB = summary(serializeJunit(doc)).suites.filter((s) => s.rig === 'rig-b');
  assert.deepEqual(onB.map((s) => [s.name, s.testcases.map((t) => [t.classname, t.file])]), [[SPEC, [[SPEC, null]]]]);
});

test('a junit.xml that is not XML is one line naming the file', () => {
  assert.throws(() => parseJunit('<testsuites><testsuite>', '/r/junit.xml'), /^Error: \/r\/junit\.xml: not a JUnit XML report \(/);
  assert.throws(() => parseJunit('<html></html>', '/r/junit.xml'), /no <testsuites> root/);
});
