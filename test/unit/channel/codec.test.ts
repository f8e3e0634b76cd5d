import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ChannelCodecError, loadChannelCodec } from '../../../harness/channel/index.ts';

const session = JSON.parse(readFileSync(new URL('../../../dext-fixtures/proto/conformance/loopback-session.json', import.meta.url), 'utf8')) as {
  steps: { name: string; request_hex: string; response_hex: string }[];
};
const codec = loadChannelCodec();
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const echoProto = new URL('./fixtures/echo.proto', import.meta.url).pathname;

test('loopback-session.json: every request and response survives decode → encode byte for byte', () => {
  let replayed = 0;
  for (const step of session.steps) {
    const response = codec.decodeResponse(Buffer.from(step.response_hex, 'hex'));
    assert.equal(hex(codec.encodeResponse(response)), step.response_hex, `${step.name}: response`);
    if (step.name === 'malformed request (truncated submessage)') {
      assert.throws(() => codec.decodeRequest(Buffer.from(step.request_hex, 'hex')), /undecodable dextbench\.v1\.Request \(5 bytes\)/);
      continue;
    }
    const request = codec.decodeRequest(Buffer.from(step.request_hex, 'hex'));
    if (step.name === 'unknown body member') {
      // Rule 3: an unknown member is dropped; what is left is the id alone.
      assert.deepEqual(request, { id: 27n });
      continue;
    }
    assert.equal(hex(codec.encodeRequest(request)), step.request_hex, `${step.name}: request`);
    replayed++;
  }
  assert.ok(replayed >= 26);
});

test('requests written as a scenario would write them encode to the conformance bytes', () => {
  const byName = (name: string) => session.steps.find((s) => s.name === name)!;
  assert.equal(hex(codec.encodeRequest({ id: 3, ping: { nonce: '18369614221190020847', data: 'abc' } })), byName('ping').request_hex);
  assert.equal(hex(codec.encodeRequest({ id: 6n, io_start: { mode: 'loopback', byte_count: 65536, pattern: 'PRBS31', seed: 1, chunk_size: 16384 } })),
    byName('io_start loopback prbs31 64KiB').request_hex);
  assert.equal(hex(codec.encodeRequest({ id: '0x9', injectFault: { kind: 'FAULT_KIND_CORRUPT', param: 40000n } })),
    byName('inject_fault corrupt offset 40000').request_hex);
  assert.equal(hex(codec.encodeRequest({ id: 4, getInfo: {} })), byName('get_info').request_hex);
  assert.equal(hex(codec.encodeRequest({ id: 1, hello: { protocolVersion: 1, capabilities: ['bigint'] } })), byName('hello').request_hex);
});

test('decoded responses: bigint 64-bit fields, enum names, named oneofs, filled defaults, status only when sent', () => {
  const info = codec.decodeResponse(Buffer.from(session.steps.find((s) => s.name === 'get_info')!.response_hex, 'hex'));
  assert.deepEqual(info, {
    id: 4n, result: 'info',
    info: { driverName: 'EchoDriver', driverVersion: '1.0.0', instanceId: 0x0123456789abcdefn, processStartTimeNs: 1700000000123456789n },
  });
  const done = codec.decodeResponse(Buffer.from(session.steps.find((s) => s.name === 'io_status done with one corrupted byte')!.response_hex, 'hex'));
  assert.deepEqual(done['ioStatus'], {
    ioId: 1n, state: 'IO_STATE_DONE', bytesDone: 65536n, errors: 1n, firstErrorOffset: 40000n, byteCount: 65536n, elapsedNs: 1000000000n,
  });
  const failed = codec.decodeResponse(Buffer.from(session.steps.find((s) => s.name === 'io_stop unknown io')!.response_hex, 'hex'));
  assert.deepEqual(failed, { id: 23n, status: { code: 5, message: 'no io 99' } });
  const events = codec.decodeResponse(Buffer.from(session.steps.find((s) => s.name === 'poll_events: fault log, io done')!.response_hex, 'hex'));
  const batch = events['eventBatch'] as { events: { kind: string; seq: bigint }[]; more: boolean };
  assert.deepEqual(batch.events.map((e) => [e.seq, e.kind]), [[2n, 'log'], [3n, 'ioDone']]);
  assert.equal(batch.more, false);
});

test('64-bit values are exact both ways, and inexact input is refused', () => {
  const max = 18446744073709551615n;
  for (const input of [max, '18446744073709551615', '0xffffffffffffffff']) {
    const bytes = codec.encodeResponse({ id: 1, info: { instanceId: input, processStartTimeNs: 9007199254740993n } });
    const info = codec.decodeResponse(bytes)['info'] as { instanceId: bigint; processStartTimeNs: bigint };
    assert.equal(info.instanceId, max);
    assert.equal(info.processStartTimeNs, 9007199254740993n);
  }
  assert.throws(() => codec.encodeRequest({ id: 1, ping: { nonce: 2 ** 60 } }), /not an exact integer/);
  assert.throws(() => codec.encodeRequest({ id: 1, ping: { nonce: 1n << 64n } }), /out of range for a uint64/);
  assert.throws(() => codec.encodeRequest({ id: -1 }), /out of range for a uint64/);
  assert.throws(() => codec.encodeRequest({ id: 1, getStats: { endpoint: 2 ** 32 } }), /out of range for uint32/);
});

test('bad request input is one clear error naming the field', () => {
  assert.throws(() => codec.encodeRequest({ id: 1, ioStart: { byteCnt: 5 } }),
    (e: unknown) => e instanceof ChannelCodecError && /Request\.ioStart: unknown field 'byteCnt' in dextbench\.v1\.IoStart; fields: mode, endpoint, byteCount/.test(e.message));
  assert.throws(() => codec.encodeRequest({ id: 1, ioStart: { pattern: 'prbs32' } }), /'?"prbs32"'? is not a Pattern; one of PATTERN_UNSPECIFIED/);
  assert.throws(() => codec.encodeRequest({ id: 1, ping: {}, getInfo: {} }), /'ping' and 'getInfo' are both members of oneof body/);
  assert.throws(() => codec.encodeRequest({ id: 1, ping: { data: { hex: 'zz' } } }), /expected bytes/);
});

test('method names: oneof members in any of the usual spellings', () => {
  assert.deepEqual(codec.requestMethods, ['hello', 'ping', 'getInfo', 'getStats', 'resetStats', 'ioStart', 'ioStatus', 'ioStop', 'injectFault', 'pollEvents', 'extension']);
  for (const [spelling, name] of [['Ping', 'ping'], ['GetInfo', 'getInfo'], ['get_info', 'getInfo'], ['IoStart', 'ioStart'], ['ioStatus', 'ioStatus']]) {
    assert.equal(codec.methodName(spelling!), name);
  }
  assert.throws(() => codec.methodName('Reboot'), /unknown channel method 'Reboot'; known: hello, ping, getInfo/);
});

test('extensions: a device .proto loaded at run time, by type name; unknown names list the known types', () => {
  const device = loadChannelCodec({ extraProtoFiles: [echoProto] });
  assert.deepEqual(device.extensionTypes, ['echo.v1.SetRegister', 'echo.v1.RegisterValue']);
  const ext = device.encodeExtension('echo.v1.SetRegister', { address: 5, value: 18446744073709551615n, pattern: 'prbs7' });
  assert.equal(ext.typeName, 'echo.v1.SetRegister');
  assert.deepEqual(device.decodeExtension('.echo.v1.SetRegister', ext.payload), { address: 5, value: 18446744073709551615n, pattern: 'PATTERN_PRBS7' });
  // The Extension travels inside a Request exactly like the conformance vector.
  const request = device.encodeRequest({ id: 24, extension: device.encodeExtension('echo.v1.RegisterValue', { value: 5 }) });
  assert.equal(hex(request), '0818621b0a156563686f2e76312e526567697374657256616c756512021005');
  assert.throws(() => device.encodeExtension('echo.v1.Nope'),
    /unknown extension message type 'echo\.v1\.Nope'; known device message types: echo\.v1\.SetRegister, echo\.v1\.RegisterValue/);
  assert.throws(() => codec.decodeExtension('echo.v1.SetRegister', new Uint8Array()), /no device \.proto is loaded \(pass extraProtoFiles\)/);
  assert.throws(() => loadChannelCodec({ extraProtoFiles: ['/nonexistent/x.proto'] }), /proto file not found: \/nonexistent\/x\.proto/);
});
