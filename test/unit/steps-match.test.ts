import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadChannelCodec } from '../../harness/channel/index.ts';
import { expectation, subsetMismatches } from '../../harness/steps/support/match.ts';

const info = { driverName: 'EchoDriver', driverVersion: '1.0.0', instanceId: 18446744073709551615n, processStartTimeNs: 1234n, stats: [{ endpoint: 129, bytes: 10n }] };
const TWO_53 = 9007199254740992n;

test('a subset matches; 64-bit values compare exactly as text', () => {
  assert.deepEqual(subsetMismatches(info, { driverName: 'EchoDriver', instanceId: '18446744073709551615' }), []);
  assert.deepEqual(subsetMismatches(info, { instanceId: 18446744073709551614n }), ['instanceId = 18446744073709551615, expected 18446744073709551614']);
});

test('regex, range, not, enum suffix and list forms', () => {
  assert.deepEqual(subsetMismatches(info, { driverVersion: '/^1\\./', processStartTimeNs: { min: 1, max: 2000 } }), []);
  assert.deepEqual(subsetMismatches(info, { driverVersion: '/^2\\./' }), ['driverVersion = "1.0.0" does not match /^2\\./']);
  assert.deepEqual(subsetMismatches(info, { processStartTimeNs: { max: 1000 } }), ['processStartTimeNs = 1234, above max 1000']);
  assert.deepEqual(subsetMismatches(info, { instanceId: { not: '18446744073709551615' } }), ['instanceId = 18446744073709551615, expected anything else']);
  assert.deepEqual(subsetMismatches(info, { instanceId: { not: '7' } }), []);
  assert.deepEqual(subsetMismatches({ state: 'IO_STATE_DONE' }, { state: 'done' }), []);
  assert.deepEqual(subsetMismatches({ state: 'IO_STATE_ABORTED' }, { state: 'done' }), ['state = "IO_STATE_ABORTED", expected "done"']);
  assert.deepEqual(subsetMismatches(info, { stats: [{ endpoint: 129 }] }), []);
  assert.deepEqual(subsetMismatches(info, { stats: [] }), ['stats has 1 items, expected 0']);
});

test('a key the response lacks is a mismatch naming the keys it has, also under not', () => {
  const has = 'it has: driverName, driverVersion, instanceId, processStartTimeNs, stats';
  assert.deepEqual(subsetMismatches(info, { instanceID: { not: '5' } }), [`instanceID: no such key in the response (${has}; did you mean 'instanceId'?)`]);
  assert.deepEqual(subsetMismatches(info, { missing: 1 }), [`missing: no such key in the response (${has})`]);
  assert.deepEqual(subsetMismatches(info, { stats: [{ endpont: 129 }] }), [
    "stats[0].endpont: no such key in stats[0] (it has: endpoint, bytes; did you mean 'endpoint'?)",
  ]);
});

test('fields at their default value are present in a decoded response, so they are never "missing"', () => {
  const codec = loadChannelCodec();
  const wire = codec.encodeResponse({ id: 1, info: { driverName: '', driverVersion: '', instanceId: 0, processStartTimeNs: 0 } });
  const decoded = codec.decodeResponse(wire)['info'];
  assert.deepEqual(subsetMismatches(decoded, { driverName: '', instanceId: 0, processStartTimeNs: { max: 0 } }), []);
  assert.deepEqual(subsetMismatches(decoded, { instanceId: { not: 0 } }), ['instanceId = 0, expected anything else']);
});

test('min/max compare 64-bit values exactly: 2^53+1 is above max 2^53, as a bigint and as text', () => {
  assert.deepEqual(subsetMismatches({ v: TWO_53 + 1n }, { v: { max: TWO_53 } }), ['v = 9007199254740993, above max 9007199254740992']);
  assert.deepEqual(subsetMismatches({ v: TWO_53 + 1n }, { v: { max: '9007199254740992' } }), ['v = 9007199254740993, above max 9007199254740992']);
  assert.deepEqual(subsetMismatches({ v: TWO_53 + 1n }, { v: { max: '0x20000000000000' } }), ['v = 9007199254740993, above max 9007199254740992']);
  assert.deepEqual(subsetMismatches({ v: TWO_53 }, { v: { min: '9007199254740993' } }), ['v = 9007199254740992, below min 9007199254740993']);
  assert.deepEqual(subsetMismatches({ v: TWO_53 + 1n }, { v: { min: '9007199254740993', max: '+9007199254740993' } }), []);
  assert.deepEqual(subsetMismatches({ v: -5n }, { v: { min: '-5', max: -4.5 } }), []);
  assert.deepEqual(subsetMismatches({ v: 3n }, { v: { max: 2.5 } }), ['v = 3, above max 2.5']);
  assert.deepEqual(subsetMismatches({ v: 'many' }, { v: { min: 1 } }), ['v = "many", expected a number for { min: 1 }']);
});

test('a min/max that is not a number is an error, never an object subset', () => {
  const expected = 'expected a number, or an integer as text for values past 2^53 ("9007199254740993", "0x20000000000001")';
  assert.deepEqual(subsetMismatches({ v: 2n }, { v: { min: '1.5' } }), [`v.min: ${expected}, got "1.5"`]);
  assert.deepEqual(subsetMismatches({ v: 2n }, { v: { min: 1, max: 'abc' } }), [`v.max: ${expected}, got "abc"`]);
  assert.deepEqual(subsetMismatches({ v: 2n }, { v: { min: 3, max: 1 } }), ['v: min must not be above max (got min 3, max 1)']);
  // A message with fields named min and max is still matched field by field.
  assert.deepEqual(subsetMismatches({ latency: { min: 5n, max: 9n } }, { latency: { min: '5' } }), []);
});

test('expectations are checked when the scenario loads: bad bounds and regexes name their path', () => {
  const problems = (value: unknown) => {
    const r = expectation.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(problems({ a: { min: '1', max: '0x10' }, b: '/^x/', c: [{ d: { not: 1 } }] }), []);
  assert.deepEqual(problems({ a: { min: 'ten' }, b: { c: '/[/' }, d: [{ max: 1, min: 2 }] }), [
    'a.min: expected a number, or an integer as text for values past 2^53 ("9007199254740993", "0x20000000000001"), got "ten"',
    'b.c: invalid regular expression /[/: unterminated character class',
    'd.0: min must not be above max (got min 2, max 1)',
  ]);
});
