import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subsetMismatches } from '../../harness/steps/support/match.ts';

const info = { driverName: 'EchoDriver', driverVersion: '1.0.0', instanceId: 18446744073709551615n, processStartTimeNs: 1234n, stats: [{ endpoint: 129, bytes: 10n }] };

test('a subset matches; 64-bit values compare exactly as text', () => {
  assert.deepEqual(subsetMismatches(info, { driverName: 'EchoDriver', instanceId: '18446744073709551615' }), []);
  assert.deepEqual(subsetMismatches(info, { instanceId: 18446744073709551614 }), ['instanceId = 18446744073709551615, expected 18446744073709552000']);
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
  assert.deepEqual(subsetMismatches(info, { missing: 1 }), ['missing = undefined, expected 1']);
});
