// The codec's fast paths against protobufjs's reflective path, on random values of every message
// type of the contract (and a device .proto): the same bytes out, the same plain objects in (keys in
// the same order), and for damaged bytes either the same result or a hand-back to the slow path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { loadChannelCodec } from '../../../harness/channel/index.ts';
import { fastDecode, fastEncode } from '../../../harness/channel/fastcodec.ts';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const codec = loadChannelCodec({ extraProtoFiles: [fixture('echo.proto'), fixture('kinds.proto')] });
const TO_OBJECT: protobuf.IConversionOptions = { longs: BigInt, enums: String, defaults: true, oneofs: true, arrays: true };
const unhandled = codec.root.lookupType('kinds.v1.Unhandled');
const types = allTypes(codec.root).filter((type) => type !== unhandled);

function allTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.flatMap((child) => [
    ...(child instanceof protobuf.Type ? [child] : []),
    ...(child instanceof protobuf.Namespace || child instanceof protobuf.Type ? allTypes(child) : []),
  ]);
}

/** The reflective path: what codec.decode* did before the fast path (toObject, then nulls dropped). */
function slowDecode(type: protobuf.Type, bytes: Uint8Array): unknown {
  return dropNulls(type.toObject(type.decode(bytes), TO_OBJECT));
}
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)]));
}
function slowEncode(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(value)).finish();
}

/** Exact shape, key order and JS types (bigint, Buffer vs Uint8Array) included. */
function show(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return `${Buffer.isBuffer(v) ? 'Buffer' : 'Uint8Array'}:${Buffer.from(v).toString('hex')}`;
    return v;
  });
}

// ------------------------------------------------------------------------- random values

let seed = 0x2545f491;
function rand(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const pick = <T>(items: readonly T[]): T => items[rand(items.length)]!;

const INT32 = [0, 1, -1, 127, 128, 300, 0x7fffffff, -0x80000000, 16384, -0];
const UINT32 = [0, 1, 127, 128, 16383, 16384, 0xffffffff, 0x80000000, 4096];
const UINT64 = [0, 1, 128, 2 ** 53 - 1, 0n, 1n, 2n ** 63n, 2n ** 64n - 1n, 18369614221190020847n, 0xffffffffn, 0x100000000n];
const INT64 = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), -1n, -(2n ** 63n), 2n ** 63n - 1n, 0x100000000n, -0x100000000n];
const STRINGS = ['', 'a', 'EchoDriver', 'ünï', '😀 emoji', 'x'.repeat(50), 'lone \ud800 surrogate', 'é'.repeat(45)];

function scalar(field: protobuf.Field): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return pick([...Object.values(resolved.values), 0, 99]);
  switch (field.type) {
    case 'int32': return pick(INT32);
    case 'uint32': return pick(UINT32);
    case 'uint64': return pick(UINT64);
    case 'int64': return pick(INT64);
    case 'bool': return pick([true, false]);
    case 'string': return pick(STRINGS);
    case 'bytes': return pick([new Uint8Array(0), Buffer.from('0001ff', 'hex'), new Uint8Array(300).fill(7)]);
    default: throw new Error(`no generator for ${field.type}`);
  }
}

function randomMessage(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  const oneofs = new Set<string>();
  for (const field of [...type.fieldsArray].sort(() => rand(3) - 1)) { // any key order
    field.resolve();
    if (rand(3) === 0) continue;
    if (field.partOf) {
      if (oneofs.has(field.partOf.name)) continue;
      oneofs.add(field.partOf.name);
    }
    const one = (): unknown => field.resolvedType instanceof protobuf.Type
      ? (depth < 4 ? randomMessage(field.resolvedType, depth + 1) : {})
      : scalar(field);
    value[field.name] = field.repeated ? Array.from({ length: rand(4) }, one) : one();
  }
  return value;
}

// ------------------------------------------------------------------------------- tests

test('every contract message type has the fast path; maps, fixed-width, optional and packed fields do not', () => {
  for (const type of types) {
    assert.ok(fastEncode(type, {}) !== undefined, `${type.fullName} fast encode`);
    assert.ok(fastDecode(type, new Uint8Array(0)) !== undefined, `${type.fullName} fast decode`);
  }
  assert.equal(fastEncode(unhandled, {}), undefined);
  assert.equal(fastDecode(unhandled, new Uint8Array(0)), undefined);
  const value = { counts: { a: 1 }, stamp: 5n, maybe: 0, packed: [1, 2] };
  assert.deepEqual(codec.decodeMessage('kinds.v1.Unhandled', codec.encodeMessage('kinds.v1.Unhandled', value)), value);
});

test('fast encode writes the bytes fromObject + encode write; fast decode returns what toObject returns', () => {
  let checked = 0;
  for (let round = 0; round < 400; round++) {
    for (const type of types) {
      const value = randomMessage(type);
      const expected = slowEncode(type, value);
      const fast = fastEncode(type, value);
      assert.ok(fast, `${type.fullName}: fast encode gave up on ${show(value)}`);
      assert.equal(Buffer.from(fast).toString('hex'), Buffer.from(expected).toString('hex'), `${type.fullName}: ${show(value)}`);
      assert.ok(Buffer.isBuffer(fast), 'encode returns a Buffer, as protobufjs does');
      // Text with a lone surrogate encodes to bytes that are not UTF-8: reading them back is the slow path's.
      const decodable = !show(value).includes('\\ud800');
      for (const bytes of [expected, new Uint8Array(expected)]) { // a Buffer (stream chunks) and a plain Uint8Array
        const decoded = fastDecode(type, bytes);
        if (!decodable) {
          assert.equal(decoded, undefined);
          continue;
        }
        assert.ok(decoded, `${type.fullName}: fast decode gave up on ${Buffer.from(expected).toString('hex')}`);
        assert.equal(show(decoded), show(slowDecode(type, bytes)), `${type.fullName}: ${Buffer.from(expected).toString('hex')}`);
        assert.deepStrictEqual(decoded, slowDecode(type, bytes));
      }
      checked++;
    }
  }
  assert.ok(checked > 1000);
});

test('damaged bytes: the fast decode agrees with the slow one or hands back (undefined), never differs', () => {
  let handedBack = 0;
  let agreed = 0;
  for (let round = 0; round < 300; round++) {
    for (const type of types) {
      const good = slowEncode(type, randomMessage(type));
      const variants: Uint8Array[] = [
        good.subarray(0, rand(good.length + 1)), // cut
        Buffer.concat([good, good]), // every field twice (merge / last-wins rules)
        Buffer.concat([good, Buffer.from([0xf8, 0x07, 0x01])]), // unknown field 127
        Buffer.concat([good, Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // 10-byte varint in field 1
        Buffer.concat([good, Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]), // 7-byte varint in field 1
      ];
      const flipped = Buffer.from(good);
      if (flipped.length) flipped[rand(flipped.length)] ^= 1 << rand(8);
      variants.push(flipped);
      for (const bytes of variants) {
        let expected: string;
        try {
          expected = show(slowDecode(type, bytes));
        } catch {
          assert.equal(fastDecode(type, bytes), undefined, `${type.fullName}: slow path throws, fast must hand back`);
          handedBack++;
          continue;
        }
        const fast = fastDecode(type, bytes);
        if (fast === undefined) handedBack++;
        else {
          assert.equal(show(fast), expected, `${type.fullName}: ${Buffer.from(bytes).toString('hex')}`);
          agreed++;
        }
      }
    }
  }
  assert.ok(handedBack > 100 && agreed > 100, `handed back ${handedBack}, agreed ${agreed}`);
});

test('values outside the canonical JS types hand back to the slow path, which converts them as before', () => {
  const request = codec.root.lookupType('dextbench.v1.Request');
  for (const value of [
    { id: '3', ping: {} }, // decimal string
    { id: 3, ping: { nonce: 2 ** 60 } }, // not exact
    { id: 3, io_start: { mode: 1 } }, // snake_case key
    { id: 3, ioStart: { pattern: 'prbs31' } }, // enum name
    { id: 3, ping: { data: 'abc' } }, // text for bytes
    { id: 3, ping: {}, getInfo: {} }, // two oneof members
    { id: 3, body: 'ping', ping: {} }, // the oneof name from a decoded message
    { id: -1 }, // out of range
    { id: 3, ping: null, hello: { capabilities: ['a', 1] } }, // a number in a string list
  ]) assert.equal(fastEncode(request, value), undefined, show(value));
  assert.equal(Buffer.from(codec.encodeRequest({ id: '3', ping: { data: 'abc' } })).toString('hex'), '0803' + '1a05' + '1203616263');
});

test('encodeRequestFrame: the same bytes as encodeFrame(encodeRequest(…)) for large ids, 64-bit values and long frames', async () => {
  const { encodeFrame } = await import('../../../harness/channel/framing.ts');
  const slow = (id: number, member: string, args: Record<string, unknown>) => encodeFrame(codec.encodeRequest({ id, [member]: args }));
  const cases: [number, string, Record<string, unknown>][] = [
    [1, 'ping', {}],
    [2 ** 32 + 5, 'ping', { nonce: 7 }],
    [Number.MAX_SAFE_INTEGER, 'getInfo', {}],
    [3, 'ioStart', { mode: 1, byteCount: 2n ** 40n + 3n, pattern: 3, seed: 1, chunkSize: 65536 }],
    // A sub-message over 127 bytes (2-byte length) and a frame over 4096 bytes (grown scratch buffer, 2-byte header).
    [4, 'extension', { typeName: 'dextbench.echo.v1.Echo', payload: new Uint8Array(300).fill(7) }],
    [5, 'extension', { typeName: 'x', payload: new Uint8Array(5000).fill(1) }],
    [6, 'injectFault', { kind: 1, endpoint: 129, param: 2n ** 63n }],
  ];
  for (const [id, member, args] of cases) {
    assert.deepEqual(Buffer.from(codec.encodeRequestFrame(id, member, args)), slow(id, member, args), `${member} id ${id}`);
  }
});
