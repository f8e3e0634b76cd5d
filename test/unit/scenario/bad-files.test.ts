// A bad file is one short, located line: quoted values are cut, binary data and alias bombs are
// named once, a garbled file's syntax errors are capped.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatIssue, showValue } from '../../../harness/scenario/issues.ts';
import { parseYamlSource, readYamlFile } from '../../../harness/scenario/yaml.ts';
import { tempDir } from '../../support/temp.ts';

test('showValue and formatIssue keep a line short whatever the file holds', () => {
  assert.equal(showValue('short'), '"short"');
  assert.equal(showValue('y'.repeat(500)), `"${'y'.repeat(60)}"… (500 characters)`);
  const line = formatIssue({ file: '/p/x.yaml', line: 1, column: 2, message: `m ${'z'.repeat(2000)}\nsecond line` }, '/p');
  assert.ok(line.startsWith('x.yaml:1:2: m zzz'));
  assert.ok(line.length <= 620 && !line.includes('\n'), `${line.length} characters`);
});

test('binary data is one issue at its first byte: control bytes and bytes that are not UTF-8', () => {
  const dir = tempDir('dextbench-bad-');
  const cases: Array<[string, Buffer, string]> = [
    ['nul.yaml', Buffer.from('name: x\nsteps:\n  - wait: 1s\0\n'), 'x.yaml:3:13: not a YAML text file: it holds binary data (control byte 0x00); check the path'],
    ['latin1.yaml', Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]), 'x.yaml:1:10: not a YAML text file: it holds binary data (byte 0xe9, which is not UTF-8); check the path'],
    ['overlong.yaml', Buffer.from([0x61, 0x0a, 0x62, 0xe0, 0x80, 0x80]), 'x.yaml:2:2: not a YAML text file: it holds binary data (byte 0xe0, which is not UTF-8); check the path'],
  ];
  for (const [name, bytes, want] of cases) {
    writeFileSync(join(dir, name), bytes);
    const read = readYamlFile(join(dir, name));
    assert.equal(read.yaml, undefined, name);
    assert.deepEqual(read.issues.map((i) => formatIssue({ ...i, file: join(dir, 'x.yaml') }, dir)), [want], name);
  }
  writeFileSync(join(dir, 'utf8.yaml'), 'name: café ✓\nsteps: []\n');
  assert.deepEqual(readYamlFile(join(dir, 'utf8.yaml')).issues, [], 'UTF-8 text, tabs and newlines are fine');
});

test('a garbled file lists its first YAML problems and says how many more there are', () => {
  const source = Array.from({ length: 12 }, (_, i) => `k${i}: [a, b\n`).join('') + 'z: "unclosed\n';
  const { yaml, issues } = parseYamlSource('/p/g.yaml', source);
  assert.equal(yaml, undefined);
  assert.equal(issues.length, 6);
  assert.match(issues[5]!.message, /^\d+ more YAML problem\(s\) from here on, not listed/);
});

test('an alias bomb is one issue at its first alias; a few aliases are fine', () => {
  const levels = ['a', 'b', 'c', 'd', 'e'];
  const bomb = levels.map((n, i) => `${n}: &${n} [${Array(10).fill(i === 0 ? 'x' : `*${levels[i - 1]}`).join(', ')}]`).join('\n');
  const { yaml, issues } = parseYamlSource('/p/b.yaml', bomb);
  assert.equal(yaml, undefined);
  assert.deepEqual(issues.map((i) => formatIssue(i, '/p')), [
    'b.yaml:2:8: aliases (*a and others) expand into too many values (Excessive alias count indicates a resource exhaustion attack); write the values out, or use fewer levels of aliases',
  ]);
  assert.deepEqual(parseYamlSource('/p/ok.yaml', 'a: &a [1, 2]\nb: *a\n').issues, []);
});
