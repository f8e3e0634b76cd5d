import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generatedSchemas } from '../../../harness/steps/write-schema.ts';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';

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

test('validate: an alias bomb, binary garbage and a 9.7 KB scalar are one short line each, and the other files are still checked', async () => {
  const dir = scratchDir();
  mkdirSync(join(dir, 'scenarios'));
  const levels = ['a', 'b', 'c', 'd', 'e', 'f'];
  const bomb = levels.map((name, i) => `${name}: &${name} [${Array(9).fill(i === 0 ? '"lol"' : `*${levels[i - 1]}`).join(', ')}]`);
  writeFileSync(join(dir, 'scenarios/bomb.yaml'), `${bomb.join('\n')}\nname: bomb\nsteps: [{ wait: 1s }]\n`);
  // Bytes as a corrupt download gives them (deterministic: a linear congruential sequence).
  let seed = 7;
  const garbage = Buffer.alloc(9900, 0).map(() => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 23);
  writeFileSync(join(dir, 'scenarios/garbage.yaml'), garbage);
  writeFileSync(join(dir, 'scenarios/long.yaml'), 'x'.repeat(9700));
  writeFileSync(join(dir, 'scenarios/typo.yaml'), 'name: still checked\nsteps:\n  - wiat: 1s\n');
  writeFileSync(join(dir, 'scenarios/good.yaml'), 'name: fine\nsteps:\n  - wait: 1ms\n');
  for (const command of ['validate', 'run']) {
    const r = await dextbench([command, 'scenarios'], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(':')[0]), ['scenarios/bomb.yaml', 'scenarios/garbage.yaml', 'scenarios/long.yaml', 'scenarios/typo.yaml'], r.stderr);
    assert.match(lines[0]!, /^scenarios\/bomb\.yaml:2:\d+: aliases \(\*a and others\) expand into too many values/);
    assert.match(lines[1]!, /^scenarios\/garbage\.yaml:\d+:\d+: not a YAML text file: it holds binary data/);
    assert.match(lines[2]!, /^scenarios\/long\.yaml:1:1: a scenario is a map of keys .*; got "x+"… \(9700 characters\)$/);
    assert.match(lines[3]!, /^scenarios\/typo\.yaml:3:5: .*"wiat".*did you mean 'wait'/);
    for (const line of lines) assert.ok(line.length < 300, `a short line: ${line.slice(0, 120)}… (${line.length} characters)`);
    assert.doesNotMatch(r.stdout, /Running \d+ test/);
  }
});
