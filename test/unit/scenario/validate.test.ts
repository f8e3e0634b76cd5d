import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectDocumentKind, formatIssue, scenarioJsonSchema, rigJsonSchema, deviceJsonSchema, validateFiles } from '../../../harness/scenario/index.ts';
import { testSteps } from './registry.ts';
import { fixture, fixtures } from './support.ts';

test('detectDocumentKind: by folder, else by keys', () => {
  assert.equal(detectDocumentKind('/p/rigs/x.yaml', {}), 'rig');
  assert.equal(detectDocumentKind('/p/devices/x.yaml', { steps: [] }), 'device');
  assert.equal(detectDocumentKind('/p/scenarios/es/x.yaml', {}), 'scenario');
  assert.equal(detectDocumentKind('/p/other/x.yaml', { name: 'a', usb: {} }), 'device');
  assert.equal(detectDocumentKind('/p/other/x.yaml', { name: 'a', host: 'local' }), 'rig');
  assert.equal(detectDocumentKind('/p/other/x.yaml', { name: 'a', steps: [] }), 'scenario');
});

test('validateFiles: folders expand recursively; every file checked, issues of all files, sorted, deduplicated', () => {
  const { checked, issues } = validateFiles([fixtures], { steps: testSteps, env: {}, vars: { NOPE_DEXT: '/x.dext' } });
  assert.ok(checked.includes(fixture('rigs/good.yaml')));
  assert.ok(checked.includes(fixture('scenarios/typos.yaml')));
  assert.equal(checked.length, 25);
  const lines = issues.map((i) => formatIssue(i, fixtures));
  // devices/bad.yaml is checked on its own and through rigs/bad-profile.yaml: reported once.
  assert.equal(lines.filter((l) => l.startsWith('devices/bad.yaml:3:13:')).length, 1);
  const files = new Set(lines.map((l) => l.split(':')[0]));
  assert.deepEqual([...files].sort(), [
    'devices/bad.yaml', 'rigs/bad-profile.yaml', 'rigs/no-sim.yaml', 'rigs/sim-mismatch.yaml', 'rigs/ssh-bad-option.yaml', 'rigs/ssh-sim-remote.yaml', 'rigs/unknown-hub.yaml',
    'scenarios/bad-regex.yaml', 'scenarios/duplicate-key.yaml', 'scenarios/missing-name.yaml', 'scenarios/results-typo.yaml',
    'scenarios/step-shapes.yaml', 'scenarios/syntax-error.yaml', 'scenarios/typos.yaml', 'scenarios/unknown-var.yaml',
    'scenarios/unterminated.yaml', 'scenarios/wrong-types.yaml',
  ]);
  assert.equal(lines.length, 31);
});

test('validateFiles: a missing file is one issue', () => {
  const { issues } = validateFiles([fixture('scenarios/nope.yaml')], { steps: testSteps, env: {} });
  assert.deepEqual(issues.map((i) => formatIssue(i, fixtures)), ['scenarios/nope.yaml:1:1: cannot read this file: no such file']);
});

test('scenario JSON Schema: draft 2020-12, every kind a oneOf branch with its summary and no extra keys', () => {
  const schema = scenarioJsonSchema(testSteps) as {
    $schema: string; properties: Record<string, { items?: unknown; anyOf?: unknown[] }>;
    $defs: { step: { oneOf: Array<{ required: string[]; additionalProperties: boolean; description: string; properties: Record<string, unknown> }> } };
  };
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  for (const section of ['setup', 'steps', 'cleanup']) assert.deepEqual(schema.properties[section]!.items, { $ref: '#/$defs/step' });
  const branches = schema.$defs.step.oneOf;
  assert.deepEqual(branches.map((b) => b.required), [...testSteps.keys()].map((k) => [k]));
  for (const branch of branches) {
    const kind = branch.required[0]!;
    assert.equal(branch.additionalProperties, false);
    assert.equal(branch.description, testSteps.get(kind)!.summary);
    assert.deepEqual(Object.keys(branch.properties), [kind, 'timeout', 'as', 'title']);
  }
  // A duration, or (step arguments) a ${result} reference, or (elsewhere) a ${NAME} variable: test/unit/scenario/json-schema.test.ts.
  assert.deepEqual(branches.find((b) => b.required[0] === 'wait')!.properties.wait, {
    description: 'A duration: 500ms, 2s, 1m, 1m30s, 1h.',
    anyOf: [{ type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$' }, { $ref: '#/$defs/reference' }],
  });
  assert.deepEqual(schema.properties.timeout!.anyOf, [{ type: 'string', pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$' }, { $ref: '#/$defs/variable' }]);
  assert.deepEqual(branches.find((b) => b.required[0] === 'note')!.properties.note, { type: 'string' }, 'a plain string takes any text already');
  assert.ok(!JSON.stringify(schema).includes('"required":["name","steps","timeout"'), 'defaulted keys are not required');
});

test('rig and device JSON Schemas', () => {
  const rig = rigJsonSchema() as { required: string[]; properties: Record<string, unknown> };
  assert.deepEqual(rig.required.sort(), ['host', 'name']);
  assert.ok('reservation' in rig.properties && 'sim' in rig.properties);
  const device = deviceJsonSchema() as { required: string[] };
  assert.deepEqual(device.required.sort(), ['interfaces', 'name', 'usb']);
});
