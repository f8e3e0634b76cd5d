// kern.boottime as `sysctl` prints it (BSD S_timeval; unconfirmed for macOS, so read tolerantly).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootTimeIso, parseBootTime, sameBootTime } from '../../../harness/host/parsers/index.ts';

test('the timeval form, with -n and without, and spacing that differs', () => {
  const expected = { sec: 1700000000, usec: 123456 };
  assert.deepEqual(parseBootTime('{ sec = 1700000000, usec = 123456 } Tue Nov 14 22:13:20 2023\n'), expected);
  assert.deepEqual(parseBootTime('kern.boottime: { sec = 1700000000, usec = 123456 } Tue Nov 14 22:13:20 2023\n'), expected);
  assert.deepEqual(parseBootTime('{sec=1700000000,usec=123456}'), expected);
  assert.deepEqual(parseBootTime('{ sec = 1700000000, usec = 0 }'), { sec: 1700000000, usec: 0 });
  assert.equal(bootTimeIso(expected), '2023-11-14T22:13:20.123Z');
  assert.ok(sameBootTime(expected, { sec: 1700000000, usec: 123456 }));
  assert.ok(!sameBootTime(expected, { sec: 1700000000, usec: 123457 }), 'microseconds count: two boots in one second differ');
});

test('anything else is one line naming what was read', () => {
  assert.throws(() => parseBootTime('sysctl: unknown oid \'kern.boottime\'\n'), {
    message: 'not a kern.boottime value: expected "{ sec = N, usec = N } …", got "sysctl: unknown oid \'kern.boottime\'"',
  });
  assert.throws(() => parseBootTime('{ sec = 1700000000, usec = 1000000 }'), /not a kern\.boottime value/);
  assert.throws(() => parseBootTime(''), /got ""/);
});
