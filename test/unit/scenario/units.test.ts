import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteSize, didYouMean, duration, editDistance, parseByteSize, parseDuration } from '../../../harness/scenario/index.ts';

test('parseDuration: ms, s, m, h and compounds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  for (const bad of ['5 sec', '10', '', 's', '1d', '-1s']) {
    assert.throws(() => parseDuration(bad), { message: `expected a duration like 500ms, 2s or 1m, got ${JSON.stringify(bad)}` });
  }
});

test('duration (zod): yields ms; errors name the value', () => {
  assert.equal(duration.parse('300ms'), 300);
  const r = duration.safeParse('5 sec');
  assert.equal(r.success, false);
  assert.equal(r.error!.issues[0]!.message, 'expected a duration like 500ms, 2s or 1m, got "5 sec"');
  assert.equal(duration.safeParse(5).error!.issues[0]!.message, 'expected a duration like 500ms, 2s or 1m, got 5');
});

test('byte sizes: binary and decimal units, plain integers', () => {
  assert.equal(parseByteSize('256MiB'), 256 * 1024 * 1024);
  assert.equal(parseByteSize('4KiB'), 4096);
  assert.equal(parseByteSize('1GB'), 1e9);
  assert.equal(parseByteSize('1024'), 1024);
  assert.equal(parseByteSize(512), 512);
  assert.equal(byteSize.parse('2KB'), 2000);
  assert.equal(byteSize.parse(7), 7);
  assert.throws(() => parseByteSize('12 parsecs'), /expected a size like 1024, 4KiB, 256MiB or 1GB, got "12 parsecs"/);
  assert.throws(() => parseByteSize('0.5B'), /not a whole number of bytes/);
  assert.equal(byteSize.safeParse('lots').error!.issues[0]!.message, 'expected a size like 1024, 4KiB, 256MiB or 1GB, got "lots"');
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('stesp', 'steps'), 1);
  assert.equal(editDistance('plgu', 'plug'), 1);
  assert.equal(editDistance('userClas', 'userClass'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(didYouMean('stesp', ['name', 'steps', 'setup']), 'did you mean \'steps\'?');
  assert.equal(didYouMean('zzzz', ['name', 'steps']), undefined);
});
