// Fast paths for the codec's hot calls (a Request out, a Response in, per channel call). The
// reflective path (toProtobufObject → fromObject → encode, decode → toObject → dropNulls) allocates
// several objects per field; these walk the reflected fields once. They produce exactly what that
// path produces — the same bytes, the same plain objects — and give up (return undefined) on
// anything they do not handle, so the reflective path still owns every conversion, every unusual
// input and every error message:
//  - encode: only values already in their canonical JS type (number / bigint for integers,
//    boolean, string, Uint8Array, plain object for messages, array for repeated) under exact
//    field names; strings for numbers, enum names, snake_case keys, hex/base64… take the slow path.
//  - decode: only well-formed messages whose fields are all known, each singular field at most once
//    and at most one member per oneof; unknown fields, duplicates and malformed bytes take the slow path.
//  - types: proto3 fields of type (u)int32, (u)int64, bool, string, bytes, enum, message; repeated
//    only for messages, strings and bytes (no packed scalars, maps, groups, proto3 `optional`,
//    fixed-width or float types).
import protobuf from 'protobufjs';

type Kind = 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string' | 'bytes' | 'enum' | 'message';

interface FastField {
  readonly field: protobuf.Field;
  readonly name: string;
  readonly id: number;
  readonly index: number; // position in FastType.fields (sorted by id)
  readonly kind: Kind;
  readonly repeated: boolean;
  /** Written even when zero (oneof members); implicit-presence scalars are written only when non-zero. */
  readonly explicit: boolean;
  readonly oneof: string | undefined;
  readonly wireType: number;
  readonly tag: number;
  /** The value an implicit-presence int32 / enum field is not written for. */
  readonly zero: number;
  /** A bit per oneof of the type (0 outside oneofs), to catch two members set. */
  readonly oneofBit: number;
}

interface FastType {
  readonly supported: boolean;
  readonly fields: FastField[];
  readonly byName: Map<string, FastField>;
  readonly byId: Map<number, FastField>;
  readonly repeated: FastField[];
  readonly singular: FastField[]; // not in a oneof
  readonly oneofMembers: FastField[];
  /** The decoded field values (by FastField.index) as toObject + dropNulls would give them. */
  readonly toPlain: (values: unknown[]) => Record<string, unknown>;
}

const MAX_DEPTH = 64; // protobufjs stops at 100; deeper input takes the slow path
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const KINDS = new Set<string>(['int32', 'uint32', 'int64', 'uint64', 'bool', 'string', 'bytes']);

const fastTypes = new WeakMap<protobuf.Type, FastType>();
/** Thrown inside the fast paths when the reflective path must take over; never escapes them. */
const giveUp = new Error('fast path not applicable');

function fastType(type: protobuf.Type): FastType {
  let fast = fastTypes.get(type);
  if (!fast) {
    fast = describeType(type);
    fastTypes.set(type, fast);
  }
  return fast;
}

function describeType(type: protobuf.Type): FastType {
  let supported = true;
  const sorted = type.fieldsArray.slice().sort((a, b) => a.id - b.id);
  const fields: FastField[] = [];
  const oneofNames = type.oneofsArray.map((o) => o.name);
  // A bit per oneof; '__proto__' would set the prototype of the plain object instead of a key.
  if (oneofNames.length > 30 || [...oneofNames, ...sorted.map((f) => f.name)].includes('__proto__')) supported = false;
  for (const field of sorted) {
    field.resolve();
    const resolved = field.resolvedType;
    const kind: Kind | undefined = resolved instanceof protobuf.Type ? 'message'
      : resolved instanceof protobuf.Enum ? 'enum'
        : KINDS.has(field.type) ? field.type as Kind : undefined;
    const oneof = field.partOf ?? undefined;
    if (!kind || field.map || field.delimited || field.required || (oneof && oneof.isProto3Optional)
      || (field.repeated && kind !== 'message' && kind !== 'string' && kind !== 'bytes')
      || (!field.repeated && !oneof && kind !== 'message' && field.hasPresence)) {
      supported = false;
    }
    const wireType = kind === 'message' || kind === 'string' || kind === 'bytes' ? 2 : 0;
    fields.push({
      field, name: field.name, id: field.id, index: fields.length, kind: kind ?? 'message', repeated: field.repeated,
      explicit: oneof !== undefined, oneof: oneof?.name, wireType, tag: ((field.id << 3) | wireType) >>> 0,
      zero: kind === 'enum' ? field.typeDefault as number : 0,
      oneofBit: oneof ? 1 << oneofNames.indexOf(oneof.name) : 0,
    });
  }
  const repeated = fields.filter((f) => f.repeated && !f.oneof);
  const singular = fields.filter((f) => !f.repeated && !f.oneof);
  const oneofMembers = fields.filter((f) => f.oneof);
  return {
    supported,
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    byId: new Map(fields.map((f) => [f.id, f])),
    repeated,
    singular,
    oneofMembers,
    toPlain: supported ? compileToPlain(repeated, singular, oneofMembers) : () => { throw giveUp; },
  };
}

/**
 * Builds the plain object with one straight-line function per type (as protobufjs builds its
 * converters): constant property names keep V8's stores monomorphic, where a loop over field names
 * would not. Keys in toObject's order: repeated fields, then singular fields (defaults filled;
 * absent messages left out, as dropNulls does), then the oneof members present, each followed by
 * its oneof's name. Names are proto identifiers, quoted with JSON.stringify.
 */
function compileToPlain(repeated: FastField[], singular: FastField[], oneofMembers: FastField[]): (values: unknown[]) => Record<string, unknown> {
  const key = (name: string): string => `[${JSON.stringify(name)}]`;
  const lines = ['const d = {};', 'let v;'];
  for (const f of repeated) lines.push(`v = values[${f.index}]; d${key(f.name)} = v === undefined ? [] : v;`);
  for (const f of singular) {
    lines.push(f.kind === 'message'
      ? `v = values[${f.index}]; if (v !== undefined) d${key(f.name)} = v;`
      : `v = values[${f.index}]; d${key(f.name)} = v === undefined ? defaults[${f.index}]() : v;`);
  }
  for (const f of oneofMembers) {
    lines.push(`v = values[${f.index}]; if (v !== undefined) { d${key(f.name)} = v; d${key(f.oneof!)} = ${JSON.stringify(f.name)}; }`);
  }
  lines.push('return d;');
  const defaults = singular.reduce<(() => unknown)[]>((all, f) => {
    all[f.index] = () => defaultValue(f);
    return all;
  }, []);
  const build = new Function('values', 'defaults', lines.join('\n')) as (values: unknown[], defaults: (() => unknown)[]) => Record<string, unknown>;
  return (values) => build(values, defaults);
}

// ---------------------------------------------------------------------------------- encode

let writer = protobuf.Writer.create(); // reused: finish() copies the bytes out

/** `value` encoded as `type`, or undefined when the reflective path must do it. */
export function fastEncode(type: protobuf.Type, value: unknown): Uint8Array | undefined {
  try {
    writeMessage(writer, fastType(type), value, 0);
  } catch (error) {
    writer = protobuf.Writer.create(); // may hold a half-written message
    if (error === giveUp) return undefined;
    throw error;
  }
  const bytes = writer.finish();
  writer.reset();
  return bytes;
}

function writeMessage(writer: protobuf.Writer, type: FastType, value: unknown, depth: number): void {
  if (!type.supported || depth > MAX_DEPTH || typeof value !== 'object' || value === null || Array.isArray(value)
    || value instanceof Uint8Array) throw giveUp;
  const message = value as Record<string, unknown>;
  const present: FastField[] = [];
  let ordered = true;
  let oneofsSeen = 0;
  for (const key of Object.keys(message)) {
    const v = message[key];
    if (v === undefined || v === null) continue;
    const field = type.byName.get(key);
    if (!field) throw giveUp;
    if (field.oneofBit) {
      if (oneofsSeen & field.oneofBit) throw giveUp; // two members of one oneof: the slow path reports it
      oneofsSeen |= field.oneofBit;
    }
    if (present.length > 0 && present[present.length - 1]!.id > field.id) ordered = false;
    present.push(field);
  }
  if (!ordered) present.sort((a, b) => a.id - b.id); // protobufjs writes fields by number
  for (let i = 0; i < present.length; i++) {
    const field = present[i]!;
    const v = message[field.name];
    if (field.repeated) {
      if (!Array.isArray(v)) throw giveUp;
      for (const item of v) writeValue(writer, field, item, true, depth);
    } else {
      writeValue(writer, field, v, field.explicit, depth);
    }
  }
}

/** One field value; `always` = write it even when it is the zero value (explicit presence, repeated). */
function writeValue(writer: protobuf.Writer, field: FastField, v: unknown, always: boolean, depth: number): void {
  switch (field.kind) {
    case 'message':
      writer.uint32(field.tag).fork();
      writeMessage(writer, fastType(field.field.resolvedType as protobuf.Type), v, depth + 1);
      writer.ldelim();
      return;
    case 'int32':
    case 'enum':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) throw giveUp;
      if (always || v !== field.zero) writer.uint32(field.tag).int32(v); // an enum's zero is its first value
      return;
    case 'uint32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw giveUp;
      if (always || v !== 0) writer.uint32(field.tag).uint32(v);
      return;
    case 'int64':
    case 'uint64': {
      const unsigned = field.kind === 'uint64';
      if (typeof v === 'number') {
        if (!Number.isSafeInteger(v) || (unsigned && v < 0)) throw giveUp;
        if (always || v !== 0) writer.uint32(field.tag).uint64(v); // exact: LongBits.fromNumber, as Long.fromNumber
        return;
      }
      if (typeof v !== 'bigint' || (unsigned ? v < 0n || v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX)) throw giveUp;
      if (always || v !== 0n) {
        const bits = BigInt.asUintN(64, v);
        writer.uint32(field.tag).uint64({ low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned });
      }
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw giveUp;
      if (always || v) writer.uint32(field.tag).bool(v);
      return;
    case 'string':
      if (typeof v !== 'string') throw giveUp;
      if (always || v.length > 0) writer.uint32(field.tag).string(v);
      return;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw giveUp;
      if (always || v.length > 0) writer.uint32(field.tag).bytes(v);
      return;
  }
}

// ---------------------------------------------------------------------------------- decode

let pos = 0;
let lo = 0;
let hi = 0;

/** A varint at `pos` (as protobufjs reads it: at most 10 bytes, bits past 64 dropped) into lo/hi; false if cut or longer. */
function readVarint(buf: Uint8Array, end: number): number {
  const start = pos;
  let b: number;
  lo = 0;
  hi = 0;
  for (let i = 0; i < 4; i++) {
    if (pos >= end) return 0;
    b = buf[pos++]!;
    lo = (lo | ((b & 127) << (i * 7))) >>> 0;
    if (b < 128) return pos - start;
  }
  if (pos >= end) return 0;
  b = buf[pos++]!;
  lo = (lo | ((b & 127) << 28)) >>> 0;
  hi = ((b & 127) >> 4) >>> 0;
  if (b < 128) return pos - start;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) return 0;
    b = buf[pos++]!;
    hi = (hi | ((b & 127) << (i * 7 + 3))) >>> 0;
    if (b < 128) return pos - start;
  }
  return 0;
}

/** A 32-bit varint: protobufjs reads 5 bytes and skips 5 more, so only 1-5 or 10 bytes agree. */
function readVarint32(buf: Uint8Array, end: number): boolean {
  const length = readVarint(buf, end);
  return length !== 0 && (length <= 5 || length === 10);
}

/** `bytes` decoded as `type` into the plain object the reflective path returns, or undefined. */
export function fastDecode(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  pos = 0;
  try {
    const value = readMessage(fastType(type), bytes, bytes.length, 0);
    return pos === bytes.length ? value : undefined;
  } catch (error) {
    if (error === giveUp) return undefined;
    throw error;
  }
}

function readMessage(type: FastType, buf: Uint8Array, end: number, depth: number): Record<string, unknown> {
  if (!type.supported || depth > MAX_DEPTH) throw giveUp;
  const values: unknown[] = new Array(type.fields.length);
  let oneofsSeen = 0;
  while (pos < end) {
    if (!readVarint32(buf, end)) throw giveUp;
    const field = type.byId.get(lo >>> 3);
    if (!field || (lo & 7) !== field.wireType) throw giveUp; // unknown fields: the slow path skips them
    const v = readValue(field, buf, end, depth);
    if (field.repeated) {
      const list = values[field.index] as unknown[] | undefined;
      if (list) list.push(v);
      else values[field.index] = [v];
      continue;
    }
    if (values[field.index] !== undefined) throw giveUp; // repeated singular field: merge rules, slow path
    if (oneofsSeen & field.oneofBit) throw giveUp; // another member of the oneof: last wins, slow path
    oneofsSeen |= field.oneofBit;
    values[field.index] = v;
  }
  if (pos !== end) throw giveUp;
  return type.toPlain(values);
}

function readValue(field: FastField, buf: Uint8Array, end: number, depth: number): unknown {
  if (field.wireType === 2) {
    const lengthBytes = readVarint(buf, end);
    if (lengthBytes === 0 || lengthBytes > 5 || hi !== 0) throw giveUp;
    const length = lo;
    const start = pos;
    if (start + length > end) throw giveUp;
    if (field.kind === 'message') {
      const value = readMessage(fastType(field.field.resolvedType as protobuf.Type), buf, start + length, depth + 1);
      pos = start + length;
      return value;
    }
    pos = start + length;
    if (field.kind === 'bytes') {
      // A view, as protobufjs's reader gives; an empty singular field reads as absent (toObject's fresh Buffer).
      return length === 0 && !field.explicit && !field.repeated ? emptyBuffer() : buf.subarray(start, start + length);
    }
    try {
      return protobuf.util.utf8.readStrict(buf, start, start + length); // what Reader#stringVerify uses
    } catch {
      throw giveUp; // invalid UTF-8: the slow path reports it
    }
  }
  if (field.kind === 'int64' || field.kind === 'uint64') {
    if (readVarint(buf, end) === 0) throw giveUp;
    const unsigned = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
    return field.kind === 'uint64' ? unsigned : BigInt.asIntN(64, unsigned);
  }
  if (!readVarint32(buf, end)) throw giveUp;
  switch (field.kind) {
    case 'uint32':
      return lo >>> 0;
    case 'int32':
      return lo | 0;
    case 'bool':
      return lo !== 0;
    case 'enum': {
      // Enum#values falls back to valuesById (its prototype): toObject's lookup, by number.
      const values = (field.field.resolvedType as protobuf.Enum).values as unknown as Record<number, string | undefined>;
      const n = lo | 0;
      return values[n] === undefined ? n : values[n]; // toObject({enums: String}): the name, or the number if unknown
    }
    default:
      throw giveUp;
  }
}

const EMPTY = Buffer.alloc(0);

/** A fresh empty Buffer, as toObject makes for an absent bytes field (a view is 4x cheaper than Buffer.from([])). */
function emptyBuffer(): Buffer {
  return EMPTY.subarray(0, 0);
}

function defaultValue(field: FastField): unknown {
  switch (field.kind) {
    case 'int64':
    case 'uint64':
      return 0n;
    case 'bytes':
      return emptyBuffer();
    case 'enum':
      return (field.field.resolvedType as protobuf.Enum).valuesById[field.zero];
    default:
      return field.field.typeDefault; // 0, false or ''
  }
}
