import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  createPatternGenerator, createPatternVerifier, fillPattern, patternName, type PatternName,
} from '../../../harness/channel/index.ts';

const vectors = (JSON.parse(readFileSync(new URL('../../../dext-fixtures/proto/conformance/patterns.json', import.meta.url), 'utf8')) as {
  vectors: { pattern: PatternName; seed: number; first16_hex: string; offset1000_16_hex: string }[];
}).vectors;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** PATTERNS.md read literally: one LFSR step per bit, MSB first (the slow reference). */
function reference(pattern: PatternName, seed: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (pattern === 'COUNTER') return out.map((_, k) => Number((seed + BigInt(k)) % 256n));
  if (pattern === 'ZEROS') return out;
  const [n, m] = ({ PRBS7: [7, 6], PRBS15: [15, 14], PRBS31: [31, 28] } as const)[pattern];
  const mask = 2 ** n - 1;
  let s = Number(seed & BigInt(mask)) || mask;
  for (let k = 0; k < length; k++) {
    for (let b = 0; b < 8; b++) {
      const bit = ((s >>> (n - 1)) ^ (s >>> (m - 1))) & 1;
      s = ((s << 1) | bit) & mask;
      out[k] = (out[k]! << 1) | bit;
    }
  }
  return out;
}

test('every patterns.json vector: first 16 bytes and bytes 1000..1015 (generated at that offset)', () => {
  assert.equal(vectors.length, 10);
  for (const v of vectors) {
    const first = new Uint8Array(16);
    fillPattern(v.pattern, v.seed, first);
    assert.equal(hex(first), v.first16_hex, `${v.pattern} seed ${v.seed}`);
    const at1000 = new Uint8Array(16);
    fillPattern(v.pattern, v.seed, at1000, 1000);
    assert.equal(hex(at1000), v.offset1000_16_hex, `${v.pattern} seed ${v.seed} @1000`);
    const whole = new Uint8Array(1016);
    fillPattern(v.pattern, v.seed, whole);
    assert.equal(hex(whole.subarray(1000)), v.offset1000_16_hex, `${v.pattern} seed ${v.seed} in one run`);
  }
});

test('word-at-a-time generation equals the bit-by-bit definition over long runs', () => {
  for (const pattern of ['PRBS7', 'PRBS15', 'PRBS31', 'COUNTER'] as const) {
    for (const seed of [1n, 0x5a5a5a5a5a5a5a5an]) {
      const fast = new Uint8Array(200_003); // not a whole number of words or blocks
      fillPattern(pattern, seed, fast);
      assert.ok(Buffer.from(fast).equals(reference(pattern, seed, fast.length)), `${pattern} seed ${seed}`);
    }
  }
});

test('chunks generated independently at odd offsets join into the same stream', () => {
  for (const pattern of ['PRBS7', 'PRBS15', 'PRBS31', 'COUNTER', 'ZEROS'] as const) {
    const whole = new Uint8Array(150_001);
    fillPattern(pattern, 7, whole);
    const cuts = [0, 1, 2, 5, 124, 125, 999, 4097, 65_537, 65_540, 131_075, 150_001];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const part = new Uint8Array(cuts[i + 1]! - cuts[i]!);
      fillPattern(pattern, 7, part, cuts[i]!);
      assert.ok(Buffer.from(part).equals(whole.subarray(cuts[i]!, cuts[i + 1]!)), `${pattern} [${cuts[i]}, ${cuts[i + 1]})`);
    }
    // A generator continues across fill() calls of odd sizes.
    const generator = createPatternGenerator(pattern, 7, 3);
    const a = new Uint8Array(13);
    const b = new Uint8Array(70_000);
    generator.fill(a);
    generator.fill(b);
    assert.equal(generator.offset, 3 + 13 + 70_000);
    assert.ok(Buffer.concat([a, b]).equals(whole.subarray(3, 3 + 13 + 70_000)), pattern);
  }
});

test('jumping far ahead lands on the period: PRBS7 repeats every 127 bytes, PRBS31 offset 2^40 matches a run from its state', () => {
  const a = new Uint8Array(64);
  const b = new Uint8Array(64);
  fillPattern('PRBS7', 1, a, 0);
  fillPattern('PRBS7', 1, b, 127 * 1000); // 8 * 127 bits is a whole number of 127-bit periods
  assert.deepEqual(b, a);
  const far = 2n ** 40n;
  const x = new Uint8Array(300);
  fillPattern('PRBS31', 3, x, far);
  const y = new Uint8Array(200);
  fillPattern('PRBS31', 3, y, far + 100n);
  assert.deepEqual(y, x.subarray(100));
});

test('seed rule: seed 0 (or low n bits all zero) means the all-ones state', () => {
  const zero = new Uint8Array(64);
  fillPattern('PRBS31', 0, zero);
  for (const same of [0x7fffffffn, 1n << 31n, 5n << 40n]) {
    const other = new Uint8Array(64);
    fillPattern('PRBS31', same, other);
    assert.deepEqual(other, zero, `seed ${same}`);
  }
  const seven = new Uint8Array(16);
  fillPattern('PRBS7', 128, seven); // 128 & 0x7f = 0
  assert.equal(hex(seven), vectors.find((v) => v.pattern === 'PRBS7' && v.seed === 0)!.first16_hex);
  assert.throws(() => fillPattern('PRBS7', -1, seven), /not a uint64/);
});

test('the verifier passes a clean stream in odd chunks and finds a flipped bit at its exact offset', () => {
  for (const pattern of ['PRBS7', 'PRBS15', 'PRBS31', 'COUNTER', 'ZEROS'] as const) {
    const data = new Uint8Array(300_001);
    fillPattern(pattern, 11, data);
    const feed = (bytes: Uint8Array) => {
      const verifier = createPatternVerifier(pattern, 11);
      for (let pos = 0, size = 1; pos < bytes.length; pos += size, size = size * 3 + 1) verifier.push(bytes.subarray(pos, pos + size));
      return verifier.result();
    };
    assert.deepEqual(feed(data), { bytes: 300_001, errors: 0, firstErrorOffset: null }, pattern);
    for (const offset of [0, 3, 123_457, 300_000]) {
      const bad = data.slice();
      bad[offset]! ^= 0x10;
      assert.deepEqual(feed(bad), { bytes: 300_001, errors: 1, firstErrorOffset: offset }, `${pattern} flip @${offset}`);
    }
    const twice = data.slice();
    twice[70_000]! ^= 1;
    twice[200_000]! ^= 0x80;
    assert.deepEqual(feed(twice), { bytes: 300_001, errors: 2, firstErrorOffset: 70_000 }, `${pattern} two flips`);
  }
  // A wrong seed is an error on nearly every byte; a verifier may also start mid-stream.
  const data = new Uint8Array(4096);
  fillPattern('PRBS31', 1, data);
  const wrong = createPatternVerifier('PRBS31', 2);
  wrong.push(data);
  const other = new Uint8Array(4096);
  fillPattern('PRBS31', 2, other);
  assert.ok(wrong.result().errors > 3000);
  assert.equal(wrong.result().firstErrorOffset, data.findIndex((byte, i) => byte !== other[i]));
  const mid = createPatternVerifier('PRBS31', 1, 1000);
  mid.push(data.subarray(1000));
  assert.deepEqual(mid.result(), { bytes: 3096, errors: 0, firstErrorOffset: null });
});

test('pattern names: plain, enum-style and enum numbers', () => {
  assert.equal(patternName('prbs31'), 'PRBS31');
  assert.equal(patternName('PATTERN_COUNTER'), 'COUNTER');
  assert.equal(patternName(1), 'PRBS7');
  assert.throws(() => patternName('PRBS9'), /unknown test pattern 'PRBS9'; one of PRBS7, PRBS15, PRBS31, COUNTER, ZEROS/);
});
