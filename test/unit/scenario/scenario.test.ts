import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeferredStepArgs, interpolateResults, loadScenario, type Scenario } from '../../../harness/scenario/index.ts';
import { testSteps } from './registry.ts';
import { fixture, issueLines } from './support.ts';

const load = (name: string, options: { vars?: Record<string, string>; env?: NodeJS.ProcessEnv; rigVars?: Record<string, string> } = {}): Scenario =>
  loadScenario(fixture(`scenarios/${name}`), { steps: testSteps, env: {}, ...options });

test('YAML syntax error: one issue at the parser\'s position', () => {
  assert.deepEqual(issueLines(() => load('syntax-error.yaml')), [
    'scenarios/syntax-error.yaml:4:3: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
});

test('duplicate key: reported at the second occurrence', () => {
  assert.deepEqual(issueLines(() => load('duplicate-key.yaml')), [
    'scenarios/duplicate-key.yaml:4:1: duplicate key "name": a key may appear only once in a map',
  ]);
});

test('typos: exactly one issue per problem, each with its fix', () => {
  assert.deepEqual(issueLines(() => load('typos.yaml')), [
    'scenarios/typos.yaml:3:1: scenario: unknown key "stesp"; did you mean \'steps\'?',
    'scenarios/typos.yaml:6:5: steps[0]: unknown step kind "plgu"; did you mean \'plug\'?',
    'scenarios/typos.yaml:7:11: steps[1].wait: expected a duration like 500ms, 2s or 1m, got "5 sec"',
    'scenarios/typos.yaml:8:49: steps[2].expect.matched: unknown key "userClas"; did you mean \'userClass\'?',
  ]);
});

test('missing required key: reported at the map that lacks it', () => {
  assert.deepEqual(issueLines(() => load('missing-name.yaml')), [
    'scenarios/missing-name.yaml:2:1: scenario: missing required key "name"',
  ]);
});

test('wrong types: the value\'s position, what was expected and what was found', () => {
  assert.deepEqual(issueLines(() => load('wrong-types.yaml')), [
    'scenarios/wrong-types.yaml:2:7: tags: expected a list, got "hotplug"',
    'scenarios/wrong-types.yaml:3:10: timeout: expected a duration like 500ms, 2s or 1m, got 30',
    'scenarios/wrong-types.yaml:7:9: steps[0].as: expected a name of letters, digits and _ (not starting with a digit), got "first-wait"',
  ]);
});

test('step shapes: two kinds, no kind, not a map, misspelt common key, bad args', () => {
  assert.deepEqual(issueLines(() => load('step-shapes.yaml')), [
    'scenarios/step-shapes.yaml:4:5: steps[0]: a step has exactly one kind key, this one has 2 (plug, unplug); split it into one step per kind',
    'scenarios/step-shapes.yaml:5:5: steps[1]: a step needs one kind key: plug, unplug, wait, expect.matched, measure, note',
    'scenarios/step-shapes.yaml:6:5: steps[2]: a step is a map with one kind key like "- plug: echo", got "plug"; write "- plug: <arguments>"',
    'scenarios/step-shapes.yaml:8:5: steps[3]: unknown key "tiemout" beside wait; did you mean \'timeout\'?',
    'scenarios/step-shapes.yaml:9:31: steps[4].expect.matched.device: expected a string, got 42; put it in quotes to keep it as text',
  ]);
});

test('unknown variable and unknown or later results: at the scalar that uses them', () => {
  assert.deepEqual(issueLines(() => load('unknown-var.yaml')), [
    'scenarios/unknown-var.yaml:4:26: unknown variable ${NOPE_DEXT}: pass --var NOPE_DEXT=… or set it in the rig\'s vars',
    'scenarios/unknown-var.yaml:6:11: unknown result ${missing.field}: no step before this one has as: missing',
    'scenarios/unknown-var.yaml:7:11: unknown result ${later.value}: no step before this one has as: later',
  ]);
  // The same file loads once the variable is set (the result references are still wrong).
  const lines = issueLines(() => load('unknown-var.yaml', { vars: { NOPE_DEXT: '/x.dext' } }));
  assert.equal(lines.length, 2);
});

test('variable precedence: --var > environment > rig vars > scenario vars', () => {
  const s = load('vars.yaml', {
    vars: { A: 'var' },
    env: { A: 'env', B: 'env' },
    rigVars: { A: 'rig', B: 'rig', C: 'rig' },
  });
  assert.equal(s.steps[0]!.args, 'var-env-rig-scenario');
  assert.deepEqual(s.vars, { A: 'var', B: 'env', C: 'rig', D: 'scenario', HERE: fixture('scenarios/build/local.dext'), PORT: '8080' });
});

test('relative paths: scenario vars and extension dext/app resolve against the scenario file', () => {
  const s = load('vars.yaml');
  assert.deepEqual(s.uses.extensions, {
    local: { bundle: 'com.example.local', dext: fixture('scenarios/build/local.dext') },
    relative: { bundle: 'com.example.host', app: fixture('build/Host.app'), version: '1.0.0/1' },
  });
  // A rig var that is already absolute passes through untouched.
  const fromRig = load('vars.yaml', { rigVars: { HERE: '/opt/x.dext' } });
  assert.equal(fromRig.uses.extensions.local!.dext, '/opt/x.dext');
});

test('$${ escapes a literal ${ ; whole-value variables are substituted', () => {
  const s = load('vars.yaml');
  assert.ok(s.steps[1]!.args instanceof DeferredStepArgs, 'a literal ${ is kept for run time, escaped');
  assert.equal(interpolateResults(s.steps[1]!.args, new Map()), 'literal ${A} and 8080');
});

test('${result.field} references are kept at load and resolved by interpolateResults at run time', () => {
  const s = load('results.yaml');
  const [measure, note, again] = s.steps;
  assert.ok(measure!.args instanceof DeferredStepArgs);
  assert.deepEqual(JSON.parse(JSON.stringify(measure!.args)), { name: 'plug_to_match', value: '${matched.waitedMs}' });
  const results = new Map<string, unknown>([['matched', { waitedMs: 412, pid: 1234n, server: { name: 'EchoDriver' } }]]);
  // A whole-value reference keeps the result's type, and the step's schema then runs on it.
  assert.deepEqual(interpolateResults(measure!.args, results), { name: 'plug_to_match', value: 412 });
  assert.equal(interpolateResults(note!.args, results), 'pid 1234 in ${braces}');
  assert.equal(interpolateResults(s.cleanup[0]!.args, results), 'EchoDriver');
  // Steps without references are plain, already parsed, and pass through unchanged.
  assert.deepEqual(again!.args, { device: 'echo', within: 2000 });
  assert.equal(interpolateResults(again!.args, results), again!.args);
  assert.equal(again!.title, 'matched again');
  assert.equal(again!.timeoutMs, 10_000);
  assert.equal(s.setup[0]!.as, 'matched');
  assert.deepEqual(s.setup[0]!.location, { file: fixture('scenarios/results.yaml'), line: 3, column: 5 });
});

test('interpolateResults: clear errors for an unknown result, a missing field, and args invalid after substitution', () => {
  const s = load('results.yaml');
  assert.throws(() => interpolateResults(s.steps[0]!.args, new Map()),
    { message: 'unknown result ${matched.waitedMs}: no step has stored a result as "matched" yet' });
  assert.throws(() => interpolateResults(s.steps[0]!.args, new Map([['matched', { pid: 1 }]])),
    { message: 'result ${matched.waitedMs}: matched has no "waitedMs" (it has: pid)' });
  assert.throws(() => interpolateResults(s.steps[0]!.args, new Map([['matched', { waitedMs: 'soon' }]])),
    { message: 'measure: invalid arguments after substituting results: value: expected a number' });
  assert.deepEqual(interpolateResults({ list: ['${r.items.1}', 'x'] }, new Map([['r', { items: ['a', 'b'] }]])), { list: ['b', 'x'] });
});

test('expectFailure: /regex/flags becomes a RegExp, other text a substring', () => {
  const s = load('expect-failure.yaml');
  assert.deepEqual(s.expectFailure, { regex: /waiting for user approval.*Driver Extensions/i });
  assert.deepEqual(s.tags, ['approval', 'driverkit']);
  assert.equal(s.timeoutMs, 30_000);
  assert.deepEqual(load('expect-failure-text.yaml').expectFailure, { text: 'is waiting for user approval' });
  assert.equal(load('expect-failure-text.yaml').timeoutMs, 120_000, 'default scenario timeout is 2m');
  assert.deepEqual(issueLines(() => load('bad-regex.yaml')), [
    'scenarios/bad-regex.yaml:2:27: expectFailure.message: invalid regular expression /(unclosed/: unterminated group',
  ]);
});

test('beside a result reference, the rest of the step is still checked at load', () => {
  assert.deepEqual(issueLines(() => load('results-typo.yaml')), [
    'scenarios/results-typo.yaml:5:55: steps[1].measure: unknown key "unit"; allowed keys: name, value',
    'scenarios/results-typo.yaml:7:11: unclosed ${ in "unclosed ${matched.pid": write ${NAME}, or $${ for a literal ${',
  ]);
});

test('an unterminated quote is a syntax error', () => {
  assert.deepEqual(issueLines(() => load('unterminated.yaml')), [
    'scenarios/unterminated.yaml:4:1: YAML syntax error: a quoted value is never closed (missing closing ")',
  ]);
});
