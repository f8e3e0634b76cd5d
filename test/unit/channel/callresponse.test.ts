// fastDecodeCallResponse (the client's read of a call's answer) against decodeResponse: the same id,
// status and result member for every Response it takes, and a hand-back (undefined) for what the
// client must route through decodeResponse (id 0, ids above 2^53 - 1, unknown or repeated fields).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadChannelCodec } from '../../../harness/channel/index.ts';
import { fastDecodeCallResponse } from '../../../harness/channel/fastcodec.ts';

const codec = loadChannelCodec();
const responseType = codec.root.lookupType('dextbench.v1.Response');

function viaDecodeResponse(bytes: Uint8Array): { id: bigint; code: number; message: string; result: unknown } {
  const r = codec.decodeResponse(bytes);
  const status = r['status'] as { code: number; message: string } | undefined;
  const member = r['result'] as string | undefined;
  return { id: r['id'] as bigint, code: status?.code ?? 0, message: status?.message ?? '', result: member ? r[member] : undefined };
}

test('call answers read the same as decodeResponse gives them', () => {
  const responses = [
    { id: 1, ping: { nonce: 7n, timeNs: 123456789n } },
    { id: 2, ping: { nonce: 0, data: Buffer.from('echo') } },
    { id: 3n ** 30n, ping: {} },
    { id: 2 ** 53 - 1, info: { driverName: 'EchoDriver', driverVersion: '1.0.0', instanceId: 1n << 60n } },
    { id: 5, status: { code: 5, message: 'no io 3' } },
    { id: 6, status: { code: 14, message: 'service terminated' } },
    { id: 7, status: { code: 0, message: '' }, hello: { protocolVersion: 1, capabilities: ['loopback', 'events'] } },
    { id: 8 },
    { id: 9, stats: { endpoints: [{ endpoint: 0x81, bytes: 10n }, { endpoint: 1 }] } },
    { id: 10, eventBatch: { events: [{ seq: 1n, timeNs: 2n, log: { text: 'x' } }], more: true } },
  ];
  for (const value of responses) {
    const bytes = codec.encodeResponse(value);
    const expected = viaDecodeResponse(bytes);
    const fast = fastDecodeCallResponse(responseType, bytes);
    assert.ok(fast, `fast path for ${JSON.stringify(value, (_, v) => typeof v === 'bigint' ? `${v}n` : v)}`);
    assert.deepEqual(
      { id: BigInt(fast.id), code: fast.code, message: fast.message, result: fast.result },
      expected,
    );
  }
});

test('what the client routes through decodeResponse is handed back', () => {
  const handBack = [
    codec.encodeResponse({ id: 0, bridgeStatus: { state: 'BRIDGE_STATE_OPENED' } }),
    codec.encodeResponse({ eventBatch: { events: [] } }),
    codec.encodeResponse({ id: 2n ** 53n, ping: {} }),
    codec.encodeResponse({ id: (1n << 64n) - 1n, ping: {} }),
    Uint8Array.from([...codec.encodeResponse({ id: 4, ping: {} }), 0xf8, 0x01, 0x01]), // unknown field 31
    Uint8Array.from([...codec.encodeResponse({ id: 4 }), ...codec.encodeResponse({ id: 5 })]), // id twice
    Uint8Array.from([...codec.encodeResponse({ id: 4, ping: {} }), ...codec.encodeResponse({ info: {} })]), // two members
    Uint8Array.from([0x08]), // cut varint
    Uint8Array.from([0x08, 0x01, 0x22, 0x05, 0x08]), // member longer than the bytes
  ];
  for (const bytes of handBack) assert.equal(fastDecodeCallResponse(responseType, bytes), undefined, Buffer.from(bytes).toString('hex'));
});
