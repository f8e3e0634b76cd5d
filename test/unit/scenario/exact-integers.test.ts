// Integers past 2^53 reach every loader exact (yaml.ts), not only scenarios: a rig or device file
// that holds one is told about the number it holds, not a rounded neighbour.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRig, ValidationError } from '../../../harness/scenario/index.ts';
import { tempDir } from '../../support/temp.ts';

test('a rig file with an integer past 2^53 is reported with that exact integer', () => {
  const root = new URL('../../..', import.meta.url).pathname;
  const dir = tempDir('dextbench-bigint-');
  const rig = join(dir, 'big.yaml');
  writeFileSync(rig, readFileSync(join(root, 'rigs/sim.yaml'), 'utf8').replace('ports: 4 }', 'ports: 9007199254740993 }').replaceAll('../', `${root}/`));
  assert.throws(() => loadRig(rig, { env: {} }), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.match(e.message, /hubs\[0\]\.ports: expected a number, got 9007199254740993$/);
    return true;
  });
});
