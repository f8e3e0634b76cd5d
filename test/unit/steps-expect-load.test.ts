// Channel expectations as the scenario loader hands them to the steps: 64-bit literals exact,
// bad bounds and regexes reported at their YAML line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIssue } from '../../harness/scenario/index.ts';
import { scenarioFromYaml } from '../../harness/scenario/scenario.ts';
import { parseYamlSource } from '../../harness/scenario/yaml.ts';
import { stepRegistry } from '../../harness/steps/index.ts';
import { subsetMismatches } from '../../harness/steps/support/match.ts';

function load(steps: string) {
  const source = `name: expectations\nvars: { BIG: 9007199254740993 }\nuses: { devices: [echo] }\nsteps:\n${steps}`;
  const { yaml, issues } = parseYamlSource('/x/inline.yaml', source);
  assert.deepEqual(issues, []);
  const result = scenarioFromYaml(yaml!, { steps: stepRegistry, env: {} });
  return { scenario: result.scenario, issues: result.issues.map((i) => formatIssue(i, '/x')) };
}

test('an integer past 2^53 in an expect arrives exact, so max: 2^53 fails 2^53+1', () => {
  const { scenario, issues } = load([
    '  - call: { device: echo, method: GetInfo, expect: { instanceId: { max: 9007199254740992 }, processStartTimeNs: 0x20000000000001 } }',
  ].join('\n'));
  assert.deepEqual(issues, []);
  const expect = (scenario!.steps[0]!.args as { expect: Record<string, unknown> }).expect;
  assert.deepEqual(expect, { instanceId: { max: 9007199254740992n }, processStartTimeNs: 9007199254740993n });
  assert.deepEqual(subsetMismatches({ instanceId: 9007199254740993n, processStartTimeNs: 9007199254740993n }, expect),
    ['instanceId = 9007199254740993, above max 9007199254740992']);
  assert.equal(scenario!.vars['BIG'], '9007199254740993');
});

test('a bound that is not a number and a broken regex are load errors at their line', () => {
  const { issues } = load([
    '  - call: { device: echo, method: GetInfo, expect: { instanceId: { min: "1.5" } } }',
    '  - expect.event: { device: echo, kind: log, match: { text: "/[/" } }',
  ].join('\n'));
  assert.deepEqual(issues, [
    'inline.yaml:5:73: steps[0].call.expect.instanceId.min: expected a number, or an integer as text for values past 2^53 ("9007199254740993", "0x20000000000001"), got "1.5"',
    'inline.yaml:6:61: steps[1].expect.event.match.text: invalid regular expression /[/: unterminated character class',
  ]);
});
