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
  /** The FastType of a message field, once looked up (fastType's WeakMap costs a lookup per value). */
  sub: FastType | undefined;
}

interface FastType {
  readonly supported: boolean;
  readonly fields: FastField[];
  readonly byName: Map<string, FastField>;
  /** By field number (a sparse array: numbers are small). */
  readonly byId: (FastField | undefined)[];
  readonly repeated: FastField[];
  readonly singular: FastField[]; // not in a oneof
  readonly oneofMembers: FastField[];
  /** The decoded field values (by FastField.index) as toObject + dropNulls would give them. */
  readonly toPlain: (values: unknown[]) => Record<string, unknown>;
  /** The fields named id and status, if any (a Request's and a Response's routing fields). */
  readonly idField: FastField | undefined;
  readonly statusField: FastField | undefined;
  /** readMessage's field values, one array per nesting depth, all undefined between reads. */
  readonly scratch: unknown[][];
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

function subType(field: FastField): FastType {
  return field.sub ??= fastType(field.field.resolvedType as protobuf.Type);
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
      sub: undefined,
    });
  }
  const repeated = fields.filter((f) => f.repeated && !f.oneof);
  const singular = fields.filter((f) => !f.repeated && !f.oneof);
  const oneofMembers = fields.filter((f) => f.oneof);
  return {
    supported,
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    byId: fields.reduce<(FastField | undefined)[]>((all, f) => { all[f.id] = f; return all; }, []),
    repeated,
    singular,
    oneofMembers,
    toPlain: supported ? compileToPlain(repeated, singular, oneofMembers) : () => { throw giveUp; },
    idField: fields.find((f) => f.name === 'id'),
    statusField: fields.find((f) => f.name === 'status'),
    scratch: [],
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

/**
 * protobufjs's Writer, in bytes straight into one reused scratch buffer: its Writer queues an
 * object per field and copies at finish(), most of a call's garbage. Same encodings (varint
 * widths, negative int32 as 10 bytes, protobufjs's own UTF-8). A sub-message reserves 5 bytes for
 * its length and moves down once its length is known.
 */
class ScratchWriter {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;
  private readonly forks: number[] = [];

  reset(): void {
    this.pos = 0;
    if (this.forks.length !== 0) this.forks.length = 0;
  }

  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  uint32(v: number): void {
    this.reserve(5);
    const buf = this.buf;
    let p = this.pos;
    v >>>= 0;
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** A 64-bit varint from its two halves (protobufjs's writeVarint64). */
  varint64(lo: number, hi: number): void {
    this.reserve(10);
    const buf = this.buf;
    let p = this.pos;
    while (hi) {
      buf[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[p++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  int32(v: number): void {
    if (v < 0) this.varint64(v >>> 0, 0xffffffff); // sign-extended to 64 bits, as protobufjs
    else this.uint32(v);
  }

  string(v: string): void {
    const length = protobuf.util.utf8.length(v);
    this.uint32(length);
    if (length === 0) return;
    this.reserve(length);
    protobuf.util.utf8.write(v, this.buf, this.pos);
    this.pos += length;
  }

  bytes(v: Uint8Array): void {
    this.uint32(v.length);
    this.reserve(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  fork(): void {
    this.reserve(5);
    this.forks.push(this.pos);
    this.pos += 5;
  }

  ldelim(): void {
    const start = this.forks.pop()!;
    const bodyStart = start + 5;
    const length = this.pos - bodyStart;
    const buf = this.buf; // the 5 bytes at start are reserved: no growth here
    let p = start;
    let v = length;
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p++] = v;
    if (p !== bodyStart) buf.copyWithin(p, bodyStart, bodyStart + length);
    this.pos = p + length;
  }

  /** A copy of bytes [from, pos), `header` bytes of room left in front of them. */
  copyOut(from: number, header: number): Buffer {
    const length = this.pos - from;
    const out = Buffer.allocUnsafe(header + length);
    if (length <= 64) { // a loop beats Buffer#copy's checks for the usual few bytes
      const buf = this.buf;
      for (let i = 0; i < length; i++) out[header + i] = buf[from + i]!;
    } else {
      out.set(this.buf.subarray(from, this.pos), header);
    }
    return out;
  }
}

const writer = new ScratchWriter();
/** The last Request / Response type seen and its FastType: one client's calls skip the WeakMap. */
let lastRequestType: protobuf.Type | undefined;
let lastRequest: FastType | undefined;
let lastResponseType: protobuf.Type | undefined;
let lastResponse: FastType | undefined;

/** `value` encoded as `type`, or undefined when the reflective path must do it. */
export function fastEncode(type: protobuf.Type, value: unknown): Uint8Array | undefined {
  writer.reset();
  try {
    writeMessage(writer, fastType(type), value, 0);
  } catch (error) {
    if (error === giveUp) return undefined;
    throw error;
  }
  return writer.copyOut(0, 0);
}

/**
 * A Request {id, <member>: args} as a FRAMING A frame (varint length, then the message, in one
 * buffer), or undefined when the reflective path must encode it or the length is out of 1..maxBytes
 * (the caller's framing reports that). `member` is a Request.body member name.
 */
export function fastEncodeRequestFrame(
  requestType: protobuf.Type, id: number, member: string, args: unknown, maxBytes: number,
): Buffer | undefined {
  const request = requestType === lastRequestType ? lastRequest! : fastType(requestType);
  lastRequestType = requestType;
  lastRequest = request;
  const field = request.byName.get(member);
  const idField = request.idField;
  if (!request.supported || !field || field.kind !== 'message' || !field.oneof || !idField || idField.kind !== 'uint64'
    || !Number.isSafeInteger(id) || id < 1) return undefined;
  writer.reset();
  try {
    writer.uint32(idField.tag);
    writer.varint64(id >>> 0, Math.floor(id / 4294967296) >>> 0);
    writeValue(writer, field, args, true, 0);
  } catch (error) {
    if (error === giveUp) return undefined;
    throw error;
  }
  const length = writer.pos;
  if (length < 1 || length > maxBytes) return undefined;
  const header = length < 0x80 ? 1 : length < 0x4000 ? 2 : 3;
  const frame = writer.copyOut(0, header);
  let v = length;
  for (let i = 0; i < header; i++) {
    frame[i] = (v & 0x7f) | (i < header - 1 ? 0x80 : 0);
    v >>>= 7;
  }
  return frame;
}

function writeMessage(writer: ScratchWriter, type: FastType, value: unknown, depth: number): void {
  if (!type.supported || depth > MAX_DEPTH || typeof value !== 'object' || value === null || Array.isArray(value)
    || value instanceof Uint8Array) throw giveUp;
  const message = value as Record<string, unknown>;
  // First pass checks (no allocation: for…in over a plain object walks V8's enum cache).
  let ordered = true;
  let oneofsSeen = 0;
  let lastId = 0;
  for (const key in message) {
    if (!Object.hasOwn(message, key)) throw giveUp;
    const v = message[key];
    if (v === undefined || v === null) continue;
    const field = type.byName.get(key);
    if (!field) throw giveUp;
    if (field.oneofBit) {
      if (oneofsSeen & field.oneofBit) throw giveUp; // two members of one oneof: the slow path reports it
      oneofsSeen |= field.oneofBit;
    }
    if (lastId > field.id) ordered = false;
    lastId = field.id;
  }
  if (ordered) {
    for (const key in message) {
      const v = message[key];
      if (v !== undefined && v !== null) writeField(writer, type.byName.get(key)!, v, depth);
    }
    return;
  }
  const present: FastField[] = [];
  for (const key of Object.keys(message)) {
    const v = message[key];
    if (v !== undefined && v !== null) present.push(type.byName.get(key)!);
  }
  present.sort((a, b) => a.id - b.id); // protobufjs writes fields by number
  for (let i = 0; i < present.length; i++) writeField(writer, present[i]!, message[present[i]!.name], depth);
}

function writeField(writer: ScratchWriter, field: FastField, v: unknown, depth: number): void {
  if (field.repeated) {
    if (!Array.isArray(v)) throw giveUp;
    for (const item of v) writeValue(writer, field, item, true, depth);
  } else {
    writeValue(writer, field, v, field.explicit, depth);
  }
}

/** One field value; `always` = write it even when it is the zero value (explicit presence, repeated). */
function writeValue(writer: ScratchWriter, field: FastField, v: unknown, always: boolean, depth: number): void {
  switch (field.kind) {
    case 'message':
      writer.uint32(field.tag);
      writer.fork();
      writeMessage(writer, subType(field), v, depth + 1);
      writer.ldelim();
      return;
    case 'int32':
    case 'enum':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) throw giveUp;
      if (always || v !== field.zero) { // an enum's zero is its first value
        writer.uint32(field.tag);
        writer.int32(v);
      }
      return;
    case 'uint32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw giveUp;
      if (always || v !== 0) {
        writer.uint32(field.tag);
        writer.uint32(v);
      }
      return;
    case 'int64':
    case 'uint64': {
      const unsigned = field.kind === 'uint64';
      if (typeof v === 'number') {
        if (!Number.isSafeInteger(v) || (unsigned && v < 0)) throw giveUp;
        if (always || v !== 0) {
          writer.uint32(field.tag);
          if (v >= 0) writer.varint64(v >>> 0, Math.floor(v / 4294967296) >>> 0); // exact below 2^53
          else writeBigVarint(writer, BigInt(v)); // two's complement, as LongBits.fromNumber
        }
        return;
      }
      if (typeof v !== 'bigint' || (unsigned ? v < 0n || v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX)) throw giveUp;
      if (always || v !== 0n) {
        writer.uint32(field.tag);
        writeBigVarint(writer, v);
      }
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw giveUp;
      if (always || v) {
        writer.uint32(field.tag);
        writer.uint32(v ? 1 : 0);
      }
      return;
    case 'string':
      if (typeof v !== 'string') throw giveUp;
      if (always || v.length > 0) {
        writer.uint32(field.tag);
        writer.string(v);
      }
      return;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw giveUp;
      if (always || v.length > 0) {
        writer.uint32(field.tag);
        writer.bytes(v);
      }
      return;
  }
}

/** A 64-bit integer (in int64 or uint64 range) as its two's complement varint. */
function writeBigVarint(writer: ScratchWriter, v: bigint): void {
  const bits = BigInt.asUintN(64, v);
  writer.varint64(Number(bits & 0xffffffffn), Number(bits >> 32n));
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

/** A call's answer as fastDecodeCallResponse reads it; one object, overwritten by the next read. */
export interface CallResponse {
  /** Response.id, >= 1 and exact (at most 2^53 - 1). */
  id: number;
  /** Status.code (0 when the status is absent). */
  code: number;
  /** Status.message ('' when absent). */
  message: string;
  /** The plain object of the result member, as decodeResponse gives it; undefined without one. */
  result: Record<string, unknown> | undefined;
}

const callResponse: CallResponse = { id: 0, code: 0, message: '', result: undefined };

/**
 * The parts of a Response {id, status, result member} a client routes by, read straight from the
 * bytes: no Response object, no bigint id. Undefined for anything else — id 0 or absent, an id
 * above 2^53 - 1, and whatever fastDecode would give up on — so decodeResponse handles those. The
 * result member and status decode exactly as fastDecode decodes them inside the Response.
 */
export function fastDecodeCallResponse(responseType: protobuf.Type, bytes: Uint8Array): CallResponse | undefined {
  const type = responseType === lastResponseType ? lastResponse! : fastType(responseType);
  lastResponseType = responseType;
  lastResponse = type;
  const idField = type.idField;
  const statusField = type.statusField;
  if (!type.supported || !idField || idField.kind !== 'uint64' || idField.oneof
    || !statusField || statusField.kind !== 'message' || statusField.oneof || statusField.repeated) return undefined;
  const end = bytes.length;
  let idLo = 0;
  let idHi = 0;
  let idSeen = false;
  let status: Record<string, unknown> | undefined;
  let result: Record<string, unknown> | undefined;
  pos = 0;
  try {
    while (pos < end) {
      if (!readVarint32(bytes, end)) return undefined;
      const field = type.byId[lo >>> 3];
      if (!field || (lo & 7) !== field.wireType) return undefined;
      if (field === idField) {
        if (idSeen || readVarint(bytes, end) === 0) return undefined;
        idSeen = true;
        idLo = lo;
        idHi = hi;
      } else if (field === statusField) {
        if (status !== undefined) return undefined;
        status = readValue(field, bytes, end, 0) as Record<string, unknown>;
      } else if (field.oneof && field.kind === 'message' && !field.repeated) {
        if (result !== undefined) return undefined;
        result = readValue(field, bytes, end, 0) as Record<string, unknown>;
      } else {
        return undefined;
      }
    }
  } catch (error) {
    if (error === giveUp) return undefined;
    throw error;
  }
  if (pos !== end || (idLo === 0 && idHi === 0) || idHi > 0x1fffff) return undefined;
  callResponse.id = idHi * 4294967296 + idLo;
  callResponse.code = status ? status['code'] as number : 0;
  callResponse.message = status ? status['message'] as string : '';
  callResponse.result = result;
  return callResponse;
}

function readMessage(type: FastType, buf: Uint8Array, end: number, depth: number): Record<string, unknown> {
  if (!type.supported || depth > MAX_DEPTH) throw giveUp;
  const values = type.scratch[depth] ??= new Array<unknown>(type.fields.length).fill(undefined);
  try {
    return readFields(type, values, buf, end, depth);
  } finally {
    values.fill(undefined);
  }
}

function readFields(type: FastType, values: unknown[], buf: Uint8Array, end: number, depth: number): Record<string, unknown> {
  let oneofsSeen = 0;
  while (pos < end) {
    if (!readVarint32(buf, end)) throw giveUp;
    const field = type.byId[lo >>> 3];
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
      const value = readMessage(subType(field), buf, start + length, depth + 1);
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
