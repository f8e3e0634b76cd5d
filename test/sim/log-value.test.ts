// The sim writes the samples' key=value log values as their Swift logValue does (UTF-8 bytes in
// %XX for whitespace), so harness/ne and harness/es read back exactly what was logged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExecGuardLine } from '../../harness/es/execguard.ts';
import { parseFlowGateMessage } from '../../harness/ne/flowgate-log.ts';
import { logValue } from '../../harness/sim/log-value.ts';

const awkward = 'my\u00a0host\tname 100%';

test('a value with a no-break space, a tab, a space and % is written in UTF-8 %XX and read back whole', () => {
  assert.equal(logValue(awkward), 'my%C2%A0host%09name%20100%25');
  assert.equal(logValue(''), '-');
  assert.equal(logValue(undefined), '-');
  assert.deepEqual(parseFlowGateMessage(`dns verdict=drop name=${logValue(awkward)} pid=1`), { kind: 'dns', verdict: 'drop', name: awkward, pid: 1 });
  assert.deepEqual(parseExecGuardLine(`deny exec path=${logValue(`/tmp/${awkward}`)} signing_id=- pid=2 rule=path`),
    { kind: 'deny', path: `/tmp/${awkward}`, signingId: null, pid: 2, rule: 'path' });
});
