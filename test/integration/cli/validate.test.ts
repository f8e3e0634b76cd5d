import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generatedSchemas } from '../../../harness/steps/write-schema.ts';
import { dextbench, repoRoot } from '../../support/cli.ts';

const invalid = join(repoRoot, 'test/fixtures/projects/invalid');

test('validate: one line per problem with file:line:col and a did-you-mean, exit 1, no stack trace', async () => {
  const r = await dextbench(['validate', invalid]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n');
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `expected a line matching ${re} in:\n${r.stderr}`);
  has(/typos\.yaml:2:1: .*"?stesp"?.*did you mean 'steps'/);
  has(/typos\.yaml:5:5: .*"?plgu"?.*did you mean 'plug'/);
  has(/typos\.yaml:6:11: .*duration.*"5 sec"/);
  has(/typos\.yaml:7:\d+: .*"?userClas"?.*did you mean 'userClass'/);
  has(/bad-syntax\.yaml:\d+:\d+: /);
  assert.ok(!/^\s+at /m.test(r.stderr), 'no stack trace');
  for (const line of lines) assert.match(line, /^[^\s:]+\.yaml:\d+:\d+: \S/, `every line is located: ${line}`);
});

test('validate: the shipped scenarios, rigs and device profiles are valid', async () => {
  const r = await dextbench(['validate'], { cwd: repoRoot });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^\d+ files OK/);
  assert.match(r.stdout, /scenarios\/driverkit\/echo-hotplug\.yaml/);
  assert.match(r.stdout, /rigs\/sim\.yaml/);
  assert.match(r.stdout, /devices\/echo\.yaml/);
});

test('run refuses bad scenarios before touching a rig', async () => {
  const r = await dextbench(['run', join(invalid, 'typos.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /typos\.yaml:5:5: /);
  assert.doesNotMatch(r.stdout, /Running \d+ test/);
});

test('the committed JSON Schemas are generated from the zod schemas (npm run schema)', () => {
  for (const [file, body] of Object.entries(generatedSchemas())) {
    assert.equal(readFileSync(join(repoRoot, file), 'utf8'), body, `${file} is out of date: run npm run schema`);
  }
  const scenarioSchema = JSON.parse(readFileSync(join(repoRoot, 'scenarios/schema.json'), 'utf8'));
  const text = JSON.stringify(scenarioSchema);
  for (const kind of ['sysext.activate', 'expect.matched', 'fault', 'measure', 'replug']) assert.ok(text.includes(`"${kind}"`), kind);
});
