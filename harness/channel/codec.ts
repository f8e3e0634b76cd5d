// The channel contract at run time: protobufjs reflection over channel.proto (plus a device
// profile's own .proto, so scenarios can name its messages). Plain objects in and out:
//  - in: YAML-ish values — numbers, decimal/0x strings or bigints for 64-bit fields, enum names
//    (full `PATTERN_PRBS31` or short `prbs31`), bytes as Uint8Array, number[], UTF-8 text,
//    { hex } or { base64 }; field names in camelCase or snake_case. Unknown names are errors.
//  - out: every 64-bit integer a bigint (exact), enums as names (a number if this contract does
//    not know the value), oneofs named (`result: 'ping'` next to `ping: {...}`), scalar defaults
//    filled, absent sub-messages left out (a Response without status means OK).
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ChannelCodecError } from './errors.ts';
import { encodeFrame } from './framing.ts';

export type PlainMessage = { [field: string]: unknown };

export interface ChannelCodec {
  readonly root: protobuf.Root;
  /** Request.body member names (camelCase): 'hello', 'ping', 'getInfo', 'ioStart', … */
  readonly requestMethods: readonly string[];
  /** 'GetInfo' | 'get_info' | 'getInfo' → 'getInfo'; throws listing the methods for an unknown name. */
  methodName(method: string): string;
  encodeRequest(request: PlainMessage): Uint8Array;
  /**
   * Request {id, [member]: args} as a frame (encodeFrame of encodeRequest, the same bytes).
   * `member` is a requestMethods name; id >= 1 and at most 2^53.
   */
  encodeRequestFrame(id: number, member: string, args: PlainMessage): Uint8Array;
  decodeRequest(bytes: Uint8Array): PlainMessage;
  encodeResponse(response: PlainMessage): Uint8Array;
  decodeResponse(bytes: Uint8Array): PlainMessage;
  decodeEvent(bytes: Uint8Array): PlainMessage;
  /** Any message type by full name (channel or device .proto). */
  encodeMessage(typeName: string, value: PlainMessage): Uint8Array;
  decodeMessage(typeName: string, bytes: Uint8Array): PlainMessage;
  /** An Extension {typeName, payload} ready for Request.extension. */
  encodeExtension(typeName: string, args?: PlainMessage): { typeName: string; payload: Uint8Array };
  decodeExtension(typeName: string, payload: Uint8Array): PlainMessage;
  /** Message types from the device .proto files (for messages and discovery). */
  readonly extensionTypes: readonly string[];
}

export interface LoadChannelCodecOptions {
  /** A device profile's own .proto files (their messages become usable by name). */
  extraProtoFiles?: string[];
}

const PACKAGE = 'dextbench.v1';
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const UNSIGNED_LONG_TYPES = new Set(['uint64', 'fixed64']);
const INT32_RANGE: Record<string, [number, number]> = {
  int32: [-0x80000000, 0x7fffffff], sint32: [-0x80000000, 0x7fffffff], sfixed32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff], fixed32: [0, 0xffffffff],
};
const TO_OBJECT: protobuf.IConversionOptions = { longs: BigInt, enums: String, defaults: true, oneofs: true, arrays: true };

let defaultCodec: ChannelCodec | undefined;

/** Finds dext-fixtures/proto from this module, whether it runs from harness/channel or a bundle in dist/. */
export function channelProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dext-fixtures', 'proto');
    if (existsSync(join(candidate, 'dextbench', 'v1', 'channel.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new ChannelCodecError('cannot find dext-fixtures/proto/dextbench/v1/channel.proto above the dextbench package');
}

/** Loads the contract (and extra .proto files). Without extra files the codec is shared. */
export function loadChannelCodec(options: LoadChannelCodecOptions = {}): ChannelCodec {
  const extra = (options.extraProtoFiles ?? []).map((f) => resolve(f));
  if (extra.length === 0 && defaultCodec) return defaultCodec;
  const protoDir = channelProtoDir();
  const includeDirs = [protoDir, ...extra.map((f) => dirname(f))];
  const root = new protobuf.Root();
  // Imports like "dextbench/v1/channel.proto" resolve against the include dirs, so a device .proto
  // can use the contract's types; one resolved path per file keeps it from loading twice.
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target;
    const candidates = [...(origin ? [join(dirname(origin), target)] : []), ...includeDirs.map((d) => join(d, target))];
    return candidates.find((c) => existsSync(c)) ?? target;
  };
  const files = [join(protoDir, 'dextbench', 'v1', 'channel.proto'), ...extra];
  for (const file of files) {
    if (!existsSync(file)) throw new ChannelCodecError(`proto file not found: ${file}`);
    try {
      root.loadSync(file);
    } catch (error) {
      throw new ChannelCodecError(`cannot load ${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  try {
    root.resolveAll();
  } catch (error) {
    throw new ChannelCodecError(`proto files do not resolve: ${(error as Error).message.split('\n')[0]}`);
  }
  const codec = createCodec(root);
  if (extra.length === 0) defaultCodec = codec;
  return codec;
}

function createCodec(root: protobuf.Root): ChannelCodec {
  const request = root.lookupType(`${PACKAGE}.Request`);
  const response = root.lookupType(`${PACKAGE}.Response`);
  const event = root.lookupType(`${PACKAGE}.Event`);
  const requestMethods = request.oneofs['body']!.oneof.slice();
  const extensionTypes = allTypes(root).filter((name) => !name.startsWith(`${PACKAGE}.`));
  const methodNames = new Map<string, string>(); // 'GetInfo' → 'getInfo', once per spelling

  const lookup = (typeName: string, what: string): protobuf.Type => {
    const name = typeName.replace(/^\./, '');
    const found = root.lookup(name);
    if (found instanceof protobuf.Type) return found;
    const known = extensionTypes.length
      ? `known device message types: ${extensionTypes.join(', ')}`
      : 'no device .proto is loaded (pass extraProtoFiles)';
    throw new ChannelCodecError(`unknown ${what} message type '${name}'; ${known}`);
  };
  const encode = (type: protobuf.Type, value: PlainMessage): Uint8Array =>
    type.encode(type.fromObject(toProtobufObject(type, value, type.name))).finish();
  const decode = (type: protobuf.Type, bytes: Uint8Array): PlainMessage => {
    let message: protobuf.Message;
    try {
      message = type.decode(bytes);
    } catch (error) {
      throw new ChannelCodecError(`undecodable ${type.fullName.slice(1)} (${bytes.length} bytes): ${(error as Error).message}`);
    }
    return dropNulls(type.toObject(message, TO_OBJECT)) as PlainMessage;
  };

  return {
    root,
    requestMethods,
    extensionTypes,
    methodName(method) {
      const known = methodNames.get(method);
      if (known) return known;
      const name = lowerFirst(protobuf.util.camelCase(method));
      if (requestMethods.includes(name)) {
        if (methodNames.size < 1000) methodNames.set(method, name); // bounded: callers may pass anything
        return name;
      }
      throw new ChannelCodecError(`unknown channel method '${method}'; known: ${requestMethods.join(', ')}`);
    },
    encodeRequest: (value) => encode(request, value),
    encodeRequestFrame: (id, member, args) => encodeFrame(encode(request, { id, [member]: args })),
    decodeRequest: (bytes) => decode(request, bytes),
    encodeResponse: (value) => encode(response, value),
    decodeResponse: (bytes) => decode(response, bytes),
    decodeEvent: (bytes) => decode(event, bytes),
    encodeMessage: (typeName, value) => encode(lookup(typeName, 'a'), value),
    decodeMessage: (typeName, bytes) => decode(lookup(typeName, 'a'), bytes),
    encodeExtension(typeName, args = {}) {
      const type = lookup(typeName, 'extension');
      return { typeName: type.fullName.slice(1), payload: encode(type, args) };
    },
    decodeExtension: (typeName, payload) => decode(lookup(typeName, 'extension'), payload),
  };
}

function allTypes(ns: protobuf.NamespaceBase): string[] {
  return ns.nestedArray.flatMap((child) => [
    ...(child instanceof protobuf.Type ? [child.fullName.slice(1)] : []),
    ...(child instanceof protobuf.Namespace || child instanceof protobuf.Type ? allTypes(child) : []),
  ]);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * Message fields absent on the wire come back as null from toObject({defaults}); leave them out.
 * toObject's output is a fresh tree of plain objects, so `for…in` sees only its own keys.
 */
function dropNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(dropNulls);
  const out: PlainMessage = {};
  for (const key in value) {
    const v = (value as PlainMessage)[key];
    if (v !== null) out[key] = typeof v === 'object' ? dropNulls(v) : v;
  }
  return out;
}

// -------------------------------------------------------------------- YAML-ish input checking

function isPlainObject(value: unknown): value is PlainMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Checks and converts a plain object into what Type.fromObject encodes exactly (64-bit as bigint or safe number). */
function toProtobufObject(type: protobuf.Type, value: unknown, path: string): PlainMessage {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ChannelCodecError(`${path}: expected an object for ${type.fullName.slice(1)}, got ${describe(value)}`);
  const out: PlainMessage = {};
  let oneofSeen: Map<string, string> | undefined; // most messages have no oneof member set
  for (const key of Object.keys(value)) {
    const raw = value[key];
    if (raw === undefined || raw === null) continue;
    const field = type.fields[key] ?? type.fields[protobuf.util.camelCase(key)];
    if (!field) {
      // The oneof discriminator from a decoded message (`result: 'ping'`) is allowed back in.
      if (type.oneofs?.[key] && typeof raw === 'string') continue;
      throw new ChannelCodecError(`${path}: unknown field '${key}' in ${type.fullName.slice(1)}; fields: ${type.fieldsArray.map((f) => f.name).join(', ') || '(none)'}`);
    }
    field.resolve();
    if (field.partOf) {
      oneofSeen ??= new Map();
      const other = oneofSeen.get(field.partOf.name);
      if (other) throw new ChannelCodecError(`${path}: '${other}' and '${field.name}' are both members of oneof ${field.partOf.name}; set one`);
      oneofSeen.set(field.partOf.name, field.name);
    }
    const fieldPath = `${path}.${field.name}`;
    if (field.map) {
      if (!isPlainObject(raw)) throw new ChannelCodecError(`${fieldPath}: expected a map object, got ${describe(raw)}`);
      out[field.name] = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, convertValue(field, v, `${fieldPath}[${k}]`)]));
    } else if (field.repeated) {
      if (!Array.isArray(raw)) throw new ChannelCodecError(`${fieldPath}: expected a list, got ${describe(raw)}`);
      out[field.name] = raw.map((v, i) => convertValue(field, v, `${fieldPath}[${i}]`));
    } else {
      out[field.name] = convertValue(field, raw, fieldPath);
    }
  }
  return out;
}

function convertValue(field: protobuf.FieldBase, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return toProtobufObject(resolved, value, path);
  if (resolved instanceof protobuf.Enum) return enumValue(resolved, value, path);
  const type = field.type;
  if (LONG_TYPES.has(type)) return longValue(value, UNSIGNED_LONG_TYPES.has(type), path);
  if (type in INT32_RANGE) {
    const n = integerValue(value, path);
    const [min, max] = INT32_RANGE[type]!;
    if (n < min || n > max) throw new ChannelCodecError(`${path}: ${n} is out of range for ${type}`);
    return n;
  }
  switch (type) {
    case 'double':
    case 'float': {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n) && value !== 'NaN') throw new ChannelCodecError(`${path}: expected a number, got ${describe(value)}`);
      return n;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new ChannelCodecError(`${path}: expected true or false, got ${describe(value)}`);
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint') return String(value);
      throw new ChannelCodecError(`${path}: expected a string, got ${describe(value)}`);
    case 'bytes':
      return bytesValue(value, path);
    default:
      throw new ChannelCodecError(`${path}: unsupported field type ${type}`);
  }
}

function integerValue(value: unknown, path: string): number {
  const n = typeof value === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(value.trim())
    ? Number(value.trim().replace(/^(-?)0x/i, (_, sign: string) => `${sign}0x`))
    : typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ChannelCodecError(`${path}: expected an integer, got ${describe(value)}`);
  return n;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * A 64-bit value fromObject takes exactly: a safe integer as is, anything else as a bigint (Long
 * converts both without a decimal round trip; a decimal string only if protobufjs runs without Long).
 */
function longValue(value: unknown, unsigned: boolean, path: string): number | bigint | string {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new ChannelCodecError(`${path}: ${value} is not an exact integer (above 2^53 write it as a string or bigint)`);
    }
    if (unsigned && value < 0) throw new ChannelCodecError(`${path}: ${value} is out of range for a uint64`);
    return protobuf.util.Long ? value : String(value); // every safe integer fits an int64
  }
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string' && /^\s*-?(0x[0-9a-f]+|\d+)\s*$/i.test(value)) {
    const text = value.trim();
    big = text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text);
  } else {
    throw new ChannelCodecError(`${path}: expected an integer (number, decimal string or bigint), got ${describe(value)}`);
  }
  if (unsigned ? big < 0n || big > UINT64_MAX : big < INT64_MIN || big > INT64_MAX) {
    throw new ChannelCodecError(`${path}: ${big} is out of range for a ${unsigned ? 'uint64' : 'int64'}`);
  }
  return protobuf.util.Long ? big : big.toString();
}

function enumValue(type: protobuf.Enum, value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const upper = value.trim().toUpperCase().replace(/[-\s]/g, '_');
    if (upper in type.values) return type.values[upper]!;
    const prefix = enumPrefix(type);
    if (prefix && `${prefix}${upper}` in type.values) return type.values[`${prefix}${upper}`]!;
  }
  throw new ChannelCodecError(`${path}: ${describe(value)} is not a ${type.name}; one of ${Object.keys(type.values).join(', ')}`);
}

/** 'PATTERN_' for Pattern (from PATTERN_UNSPECIFIED), so `prbs31` means PATTERN_PRBS31. */
function enumPrefix(type: protobuf.Enum): string | undefined {
  const zero = type.valuesById[0];
  return zero?.endsWith('_UNSPECIFIED') ? zero.slice(0, -'UNSPECIFIED'.length) : undefined;
}

function bytesValue(value: unknown, path: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value as number[]);
  if (isPlainObject(value)) {
    if (typeof value['hex'] === 'string' && /^([0-9a-f]{2})*$/i.test(value['hex'].replace(/\s/g, ''))) {
      return Buffer.from(value['hex'].replace(/\s/g, ''), 'hex');
    }
    if (typeof value['base64'] === 'string') return Buffer.from(value['base64'], 'base64');
  }
  throw new ChannelCodecError(`${path}: expected bytes (Uint8Array, list of 0..255, text, { hex } or { base64 }), got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
