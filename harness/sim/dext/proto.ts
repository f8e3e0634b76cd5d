// The channel contract (dext-fixtures/proto/dextbench/v1/channel.proto) through protobufjs
// reflection: the same .proto file the C side compiles with nanopb.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const CHANNEL_PROTO = fileURLToPath(new URL('../../../dext-fixtures/proto/dextbench/v1/channel.proto', import.meta.url));

const root = protobuf.loadSync(CHANNEL_PROTO);
export const RequestType = root.lookupType('dextbench.v1.Request');
export const ResponseType = root.lookupType('dextbench.v1.Response');
export const EventType = root.lookupType('dextbench.v1.Event');

/** Status codes (channel.proto table). */
export const Status = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
} as const;

export const IoMode = { LOOPBACK: 1, ENDPOINT: 2 } as const;
export const Pattern = { PRBS7: 1, PRBS15: 2, PRBS31: 3, COUNTER: 4, ZEROS: 5 } as const;
export const Direction = { UNSPECIFIED: 0, IN: 1, OUT: 2, BOTH: 3 } as const;
export const IoState = { RUNNING: 1, DONE: 2, ABORTED: 3, FAILED: 4 } as const;
export const FaultKind = { CRASH: 1, STALL: 2, CORRUPT: 3, DELAY: 4 } as const;
export const LogLevel = { DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 } as const;
export const BridgeState = { OPENED: 1, TERMINATED: 2, OPEN_FAILED: 3 } as const;

export const MAX_INLINE_BYTES = 4096;
export const MAX_MESSAGE_BYTES = 16384;
export const EVENT_BATCH_BUDGET = 3800;
export const EVENT_BATCH_MAX = 16;
export const EVENT_QUEUE_CAPACITY = 64;

/** Plain-object shapes as protobufjs `toObject({longs: BigInt, oneofs: true})` gives them. */
export type Obj = Record<string, unknown>;

export function encodeResponse(resp: Obj): Uint8Array {
  // fromObject converts bigint exactly; a raw bigint handed to encode() would be written as 0.
  return ResponseType.encode(ResponseType.fromObject(resp)).finish();
}

export function encodeEvent(ev: Obj): Uint8Array {
  return EventType.encode(EventType.fromObject(ev)).finish();
}

export function decodeRequest(bytes: Uint8Array): Obj {
  return RequestType.toObject(RequestType.decode(bytes), { longs: BigInt, oneofs: true, defaults: true }) as Obj;
}

export function encodeRequest(req: Obj): Uint8Array {
  return RequestType.encode(RequestType.fromObject(req)).finish();
}
