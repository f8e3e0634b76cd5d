import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder, MalformedFrameError } from '../../../harness/channel/index.ts';

const frames = JSON.parse(readFileSync(new URL('../../../dext-fixtures/proto/conformance/frames.json', import.meta.url), 'utf8')) as {
  streamHeaders: { length: number; header_hex: string }[];
  malformedStreamHeaders: { name: string; hex: string }[];
};

function message(length: number, salt = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + salt + 1) & 0xff);
}

test('encodeFrame writes the varint headers of frames.json', () => {
  for (const { length, header_hex } of frames.streamHeaders) {
    const body = message(length);
    const frame = encodeFrame(body);
    assert.equal(frame.subarray(0, header_hex.length / 2).toString('hex'), header_hex, `length ${length}`);
    assert.deepEqual(new Uint8Array(frame.subarray(header_hex.length / 2)), body);
  }
  assert.throws(() => encodeFrame(new Uint8Array(0)), MalformedFrameError);
  assert.throws(() => encodeFrame(new Uint8Array(16385)), /length must be 1\.\.16384/);
});

test('FrameDecoder gets every vector back whatever the chunking, keeping partial frames', () => {
  const bodies = frames.streamHeaders.map((h, i) => message(h.length, i));
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
  for (const chunkSize of [1, 2, 3, 7, 129, 4099, stream.length]) {
    const decoder = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (let pos = 0; pos < stream.length; pos += chunkSize) got.push(...decoder.push(stream.subarray(pos, pos + chunkSize)));
    decoder.end();
    assert.equal(got.length, bodies.length, `chunk size ${chunkSize}`);
    got.forEach((m, i) => assert.deepEqual(new Uint8Array(m), bodies[i], `frame ${i}, chunk size ${chunkSize}`));
    assert.equal(decoder.buffered, 0);
  }
});

test('FrameDecoder rejects the malformed headers of frames.json, even when split across chunks', () => {
  for (const { name, hex } of frames.malformedStreamHeaders) {
    const bytes = Buffer.from(hex, 'hex');
    assert.throws(() => new FrameDecoder().push(bytes), MalformedFrameError, name);
    // Byte by byte: the header is refused as soon as it can be judged (at the latest its last byte).
    const split = new FrameDecoder();
    assert.throws(() => { for (let i = 0; i < bytes.length; i++) split.push(bytes.subarray(i, i + 1)); }, MalformedFrameError, name);
    assert.throws(() => split.push(Buffer.from([1, 1])), MalformedFrameError, `${name}: stays failed`);
  }
  // A good frame before the bad header is still delivered by an earlier push.
  const decoder = new FrameDecoder();
  assert.equal(decoder.push(Buffer.from('0108', 'hex')).length, 1);
  assert.throws(() => decoder.push(Buffer.from('00', 'hex')), /length 0, must be 1\.\.16384/);
});

test('FrameDecoder.end throws when the stream ends inside a frame (header or body)', () => {
  const inBody = new FrameDecoder();
  assert.deepEqual(inBody.push(Buffer.from('0508', 'hex')), []);
  assert.throws(() => inBody.end(), /stream ended inside a frame \(2 bytes of it received\)/);
  const inHeader = new FrameDecoder();
  inHeader.push(Buffer.from('80', 'hex'));
  assert.throws(() => inHeader.end(), MalformedFrameError);
  const clean = new FrameDecoder();
  clean.push(Buffer.from('0108', 'hex'));
  clean.end();
});
