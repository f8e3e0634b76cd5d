// The loopback device model behind the channel, in TypeScript: the same behaviour as
// dext-fixtures/libdextbench/src/loopback.c (server rules, events ring, patterns, faults), so the
// simulated dext answers byte for byte like the C one (proto/conformance/loopback-session.json).
import { isPattern, PatternStream, verify } from './pattern.ts';
import {
  decodeRequest, Direction, encodeEvent, encodeResponse, EVENT_BATCH_BUDGET, EVENT_BATCH_MAX, EVENT_QUEUE_CAPACITY,
  FaultKind, IoMode, IoState, LogLevel, MAX_INLINE_BYTES, MAX_MESSAGE_BYTES, Status, type Obj,
} from './proto.ts';
import { checkRequestWire } from './wire.ts';

export const PROTOCOL_VERSION = 1;
const CAPABILITIES = ['loopback', 'endpoint', 'faults', 'events'];
const MAX_IO = 4;
const DEFAULT_CHUNK = 16384;
const PROGRESS_EVERY = 1024n * 1024n;
/** nanopb limits of the C server (channel.options): requests beyond them fail to decode there. */
const LIMITS = { pingData: 8192, extensionTypeName: 95, extensionPayload: 3072, capabilities: 8, capability: 31 };

export interface LoopbackConfig {
  driverName: string;
  driverVersion: string;
  instanceId: bigint;
  processStartTimeNs: bigint;
  /** Endpoint addresses (0x01 OUT, 0x81 IN …). */
  endpoints: number[];
  /** Monotonic nanoseconds. */
  now: () => bigint;
}

interface EndpointStats { endpoint: number; bytes: bigint; transfers: bigint; errors: bigint; stalls: bigint }

interface Io {
  ioId: bigint;
  state: number;
  endpointOut: number;
  endpointIn: number;
  byteCount: bigint;
  bytesDone: bigint;
  errors: bigint;
  firstErrorOffset: bigint;
  chunkSize: number;
  startedNs: bigint;
  finishedNs: bigint;
  nextProgress: bigint;
  tx: PatternStream;
  rx: PatternStream;
}

class Failure extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}
const invalid = (text: string): Failure => new Failure(Status.INVALID_ARGUMENT, text);

/** The event ring of libdextbench's events.c: seq per produced event, drops reported by a WARN Log. */
export class EventQueue {
  private ring: Obj[] = [];
  private nextSeq = 1n;
  private droppedTotal = 0n;
  private droppedPending = 0n;
  private droppedFirstSeq = 0n;
  private doorbell: (() => void) | undefined;
  private armed = false;

  constructor(private readonly now: () => bigint) {}

  subscribe(doorbell: () => void): void {
    this.doorbell = doorbell;
    this.armed = true;
    this.ring_();
  }

  /** Drops the doorbell (only this one, when given: a later subscriber keeps its own). */
  unsubscribe(doorbell?: () => void): void {
    if (doorbell !== undefined && doorbell !== this.doorbell) return;
    this.doorbell = undefined;
    this.armed = false;
  }

  get pending(): number { return this.ring.length; }

  private ring_(): void {
    if (!this.armed || !this.doorbell || this.ring.length === 0) return;
    this.armed = false; // one ring per poll: PollEvents re-arms
    this.doorbell();
  }

  private enqueue(ev: Obj): void {
    this.ring.push({ ...ev, seq: this.nextSeq++, timeNs: this.now() });
  }

  push(ev: Obj): boolean {
    if (this.ring.length >= EVENT_QUEUE_CAPACITY) {
      if (this.droppedPending === 0n) this.droppedFirstSeq = this.nextSeq;
      this.droppedPending++;
      this.droppedTotal++;
      this.nextSeq++; // the lost event keeps its seq: the gap shows the loss
      return false;
    }
    this.enqueue(ev);
    this.ring_();
    return true;
  }

  pushLog(level: number, text: string): boolean {
    return this.push({ log: { level, text } });
  }

  private reportDrops(): void {
    if (this.droppedPending === 0n || this.ring.length >= EVENT_QUEUE_CAPACITY) return;
    const text = `event queue full: dropped ${this.droppedPending} events from seq ${this.droppedFirstSeq}`;
    this.droppedPending = 0n;
    this.enqueue({ log: { level: LogLevel.WARN, text } });
  }

  poll(maxEvents: number, byteBudget: number): { events: Obj[]; more: boolean } {
    const max = maxEvents === 0 || maxEvents > EVENT_BATCH_MAX ? EVENT_BATCH_MAX : maxEvents;
    const events: Obj[] = [];
    let size = 0;
    while (this.ring.length > 0 && events.length < max) {
      const evSize = encodeEvent(this.ring[0]!).length;
      // tag (1 byte) + length varint (<= 2 bytes) + message, and room for `more` (2 bytes)
      if (events.length > 0 && size + 1 + 2 + evSize + 2 > byteBudget) break;
      events.push(this.ring.shift()!);
      size += 1 + 2 + evSize;
      this.reportDrops();
    }
    const more = this.ring.length > 0;
    this.armed = this.doorbell !== undefined; // while more is set the client polls again at once
    return { events, more };
  }
}

export class LoopbackModel {
  readonly events: EventQueue;
  private readonly stats: EndpointStats[];
  private readonly io: (Io | undefined)[] = Array.from({ length: MAX_IO }, () => undefined);
  private nextIoId = 1n;
  private stallEndpoint = 0;
  private stallArmed = false;
  private corruptOffset = 0n;
  private corruptArmed = false;
  private delayUntilNs = 0n;
  /** FAULT_KIND_CRASH: the host must drop the connection (the dext "dies"). */
  crashed = false;
  private readonly txBuf = new Uint8Array(DEFAULT_CHUNK);
  private readonly rxBuf = new Uint8Array(DEFAULT_CHUNK);
  private readonly checkBuf = new Uint8Array(DEFAULT_CHUNK);

  constructor(readonly config: LoopbackConfig) {
    this.stats = config.endpoints.slice(0, 8).map((endpoint) => ({ endpoint, bytes: 0n, transfers: 0n, errors: 0n, stalls: 0n }));
    this.events = new EventQueue(config.now);
    this.events.push({ started: {} });
  }

  // ------------------------------------------------------------------------------ server

  /** One encoded Request in, one encoded Response out (dxb_server_handle). */
  handle(bytes: Uint8Array, outCap = MAX_MESSAGE_BYTES): Uint8Array {
    let resp: Obj;
    const wire = checkRequestWire(bytes);
    let req: Obj | undefined;
    let error = wire.error;
    if (!error) {
      try {
        req = decodeRequest(bytes);
        error = this.limitError(req);
      } catch (e) {
        error = (e as Error).message.split('\n')[0];
      }
    }
    if (error || !req) {
      resp = { id: wire.id, status: { code: Status.INVALID_ARGUMENT, message: `malformed Request: ${error}` } };
    } else {
      const id = req['id'] as bigint;
      const body = req['body'] as string | undefined;
      if (!body) {
        resp = { id, status: { code: Status.UNIMPLEMENTED, message: 'Request has no body this server knows' } };
      } else {
        try {
          resp = { id, ...this.dispatch(body, req[body] as Obj) };
        } catch (e) {
          if (!(e instanceof Failure)) throw e;
          resp = { id, status: { code: e.code, message: e.message } };
        }
      }
    }
    const out = encodeResponse(resp);
    if (out.length <= outCap) return out;
    return encodeResponse({
      id: resp['id'],
      status: { code: Status.RESOURCE_EXHAUSTED, message: `response needs ${out.length} bytes; limit ${outCap}` },
    });
  }

  private limitError(req: Obj): string | undefined {
    const body = req['body'] as string | undefined;
    const b = body ? (req[body] as Obj) : undefined;
    if (body === 'ping' && (b!['data'] as Uint8Array).length > LIMITS.pingData) return 'bytes overflow';
    if (body === 'extension') {
      if (Buffer.byteLength(b!['typeName'] as string) > LIMITS.extensionTypeName) return 'string overflow';
      if ((b!['payload'] as Uint8Array).length > LIMITS.extensionPayload) return 'bytes overflow';
    }
    if (body === 'hello') {
      const caps = b!['capabilities'] as string[];
      if (caps.length > LIMITS.capabilities) return 'array overflow';
      if (caps.some((c) => Buffer.byteLength(c) > LIMITS.capability)) return 'string overflow';
    }
    return undefined;
  }

  private dispatch(body: string, b: Obj): Obj {
    switch (body) {
      case 'hello': return this.onHello(b);
      case 'ping': return { ping: { nonce: b['nonce'], data: b['data'], timeNs: this.now() } };
      case 'getInfo': return this.onGetInfo();
      case 'getStats': return this.onGetStats(b['endpoint'] as number);
      case 'resetStats': return this.onResetStats(b['endpoint'] as number);
      case 'ioStart': return this.onIoStart(b);
      case 'ioStatus': return { ioStatus: this.status(this.ioById(b['ioId'] as bigint)) };
      case 'ioStop': return this.onIoStop(b['ioId'] as bigint);
      case 'injectFault': return this.onInjectFault(b);
      case 'pollEvents': return { eventBatch: this.events.poll(b['maxEvents'] as number, EVENT_BATCH_BUDGET) };
      // The echo device echoes its own messages (devices/echo.proto).
      case 'extension': return { extension: { typeName: b['typeName'], payload: b['payload'] } };
      default: throw new Failure(Status.UNIMPLEMENTED, 'request kind not implemented by this server');
    }
  }

  private now(): bigint { return this.config.now(); }

  private onHello(b: Obj): Obj {
    if (b['protocolVersion'] === 0) throw invalid('Hello.protocol_version must be >= 1');
    // The lower version wins; a client needing more than this server has decides itself.
    return {
      hello: {
        protocolVersion: PROTOCOL_VERSION, capabilities: CAPABILITIES, maxInlineBytes: MAX_INLINE_BYTES,
        maxMessageBytes: MAX_MESSAGE_BYTES, eventQueueCapacity: EVENT_QUEUE_CAPACITY,
      },
    };
  }

  private onGetInfo(): Obj {
    const c = this.config;
    return { info: { driverName: c.driverName, driverVersion: c.driverVersion, instanceId: c.instanceId, processStartTimeNs: c.processStartTimeNs } };
  }

  private statsFor(endpoint: number): EndpointStats | undefined {
    return this.stats.find((s) => s.endpoint === endpoint);
  }

  private checkEndpoint(endpoint: number): void {
    if (endpoint !== 0 && !this.statsFor(endpoint)) throw new Failure(Status.NOT_FOUND, `no endpoint ${endpoint}`);
  }

  private onGetStats(endpoint: number): Obj {
    this.checkEndpoint(endpoint);
    return { stats: { endpoints: this.stats.filter((s) => endpoint === 0 || s.endpoint === endpoint).map((s) => ({ ...s })) } };
  }

  private onResetStats(endpoint: number): Obj {
    this.checkEndpoint(endpoint);
    for (const s of this.stats) {
      if (endpoint !== 0 && s.endpoint !== endpoint) continue;
      Object.assign(s, { bytes: 0n, transfers: 0n, errors: 0n, stalls: 0n });
    }
    return { resetStats: {} };
  }

  private firstEndpoint(isIn: boolean): number {
    return this.stats.find((s) => ((s.endpoint & 0x80) !== 0) === isIn)?.endpoint ?? 0;
  }

  private onIoStart(s: Obj): Obj {
    const byteCount = s['byteCount'] as bigint;
    const chunkSize = s['chunkSize'] as number;
    const mode = s['mode'] as number;
    const endpoint = s['endpoint'] as number;
    const given = s['direction'] as number;
    const dir = given === Direction.UNSPECIFIED ? Direction.BOTH : given;
    let epOut = 0, epIn = 0;
    if (byteCount === 0n) throw invalid('IoStart.byte_count must be >= 1');
    if (chunkSize > 1024 * 1024) throw invalid('IoStart.chunk_size must be <= 1048576');
    if (dir > Direction.BOTH) throw invalid('IoStart.direction unknown');
    if (mode === IoMode.LOOPBACK) {
      if (dir !== Direction.IN) epOut = this.firstEndpoint(false);
      if (dir !== Direction.OUT) epIn = this.firstEndpoint(true);
      if ((dir !== Direction.IN && epOut === 0) || (dir !== Direction.OUT && epIn === 0)) throw invalid('device has no endpoint for that direction');
    } else if (mode === IoMode.ENDPOINT) {
      const isIn = (endpoint & 0x80) !== 0;
      if (!this.statsFor(endpoint)) throw new Failure(Status.NOT_FOUND, `no endpoint ${endpoint}`);
      if (dir === Direction.BOTH && given !== 0) throw invalid('IoStart ENDPOINT mode moves one direction');
      if ((dir === Direction.IN && !isIn) || (dir === Direction.OUT && isIn)) throw invalid('IoStart.direction does not match the endpoint address');
      if (isIn) epIn = endpoint; else epOut = endpoint;
    } else {
      throw invalid('IoStart.mode must be LOOPBACK or ENDPOINT');
    }
    const pattern = s['pattern'] as number;
    if (!isPattern(pattern)) throw invalid('IoStart.pattern must be set');

    // A free slot, else the oldest finished io's slot.
    let slot = this.io.findIndex((io) => io === undefined);
    if (slot < 0) {
      let oldest: bigint | undefined;
      this.io.forEach((io, i) => {
        if (io && io.state !== IoState.RUNNING && (oldest === undefined || io.ioId < oldest)) { oldest = io.ioId; slot = i; }
      });
    }
    if (slot < 0) throw new Failure(Status.RESOURCE_EXHAUSTED, 'all io slots are running');
    const stream = new PatternStream(pattern, s['seed'] as bigint);
    const io: Io = {
      ioId: this.nextIoId++, state: IoState.RUNNING, endpointOut: epOut, endpointIn: epIn, byteCount,
      bytesDone: 0n, errors: 0n, firstErrorOffset: 0n, chunkSize: chunkSize || DEFAULT_CHUNK,
      startedNs: this.now(), finishedNs: 0n, nextProgress: PROGRESS_EVERY, tx: stream, rx: stream.clone(),
    };
    this.io[slot] = io;
    return { ioStart: { ioId: io.ioId } };
  }

  private ioById(ioId: bigint): Io {
    const io = this.io.find((x) => x?.ioId === ioId);
    if (!io) throw new Failure(Status.NOT_FOUND, `no io ${ioId}`);
    return io;
  }

  private status(io: Io): Obj {
    return {
      ioId: io.ioId, state: io.state, bytesDone: io.bytesDone, errors: io.errors,
      firstErrorOffset: io.errors ? io.firstErrorOffset : 0n, byteCount: io.byteCount,
      elapsedNs: (io.state === IoState.RUNNING ? this.now() : io.finishedNs) - io.startedNs,
    };
  }

  private onIoStop(ioId: bigint): Obj {
    const io = this.ioById(ioId);
    if (io.state === IoState.RUNNING) this.finish(io, IoState.ABORTED);
    return { ioStop: this.status(io) };
  }

  private onInjectFault(f: Obj): Obj {
    const kind = f['kind'] as number;
    const endpoint = f['endpoint'] as number;
    const param = f['param'] as bigint;
    let text: string;
    switch (kind) {
      case FaultKind.CRASH:
        this.crashed = true;
        text = 'crash';
        break;
      case FaultKind.STALL:
        this.checkEndpoint(endpoint);
        this.stallArmed = true;
        this.stallEndpoint = endpoint;
        text = `stall on endpoint ${endpoint}`;
        break;
      case FaultKind.CORRUPT:
        this.corruptArmed = true;
        this.corruptOffset = param;
        text = `corrupt byte at offset ${param}`;
        break;
      case FaultKind.DELAY:
        this.delayUntilNs = this.now() + param;
        text = `delay io by ns ${param}`;
        break;
      default:
        throw invalid('InjectFault.kind must be CRASH, STALL, CORRUPT or DELAY');
    }
    this.events.pushLog(LogLevel.WARN, `fault injected: ${text}`);
    return { injectFault: {} };
  }

  // ------------------------------------------------------------------------------- io

  busy(): boolean {
    return this.io.some((io) => io?.state === IoState.RUNNING);
  }

  private finish(io: Io, state: number): void {
    io.state = state;
    io.finishedNs = this.now();
    this.events.push({ ioDone: { ioId: io.ioId, state, bytesDone: io.bytesDone, errors: io.errors } });
  }

  private countTransfer(endpoint: number, bytes: number): void {
    const st = endpoint ? this.statsFor(endpoint) : undefined;
    if (!st) return;
    st.bytes += BigInt(bytes);
    st.transfers++;
  }

  /** A stall fails the transfer: the endpoint and the io count it and the io ends FAILED. */
  private takeStall(io: Io): boolean {
    if (!this.stallArmed) return false;
    if (this.stallEndpoint !== 0 && this.stallEndpoint !== io.endpointOut && this.stallEndpoint !== io.endpointIn) return false;
    const ep = this.stallEndpoint || io.endpointIn || io.endpointOut;
    this.stallArmed = false;
    const st = this.statsFor(ep);
    if (st) { st.stalls++; st.errors++; }
    if (io.errors === 0n) io.firstErrorOffset = io.bytesDone;
    io.errors++;
    this.events.pushLog(LogLevel.ERROR, 'transfer stalled');
    this.finish(io, IoState.FAILED);
    return true;
  }

  /** One transfer of n bytes: generate, loop back (maybe corrupted), verify. */
  private transfer(io: Io, n: number): void {
    let done = 0;
    while (done < n) {
      const piece = Math.min(n - done, this.txBuf.length);
      const base = io.bytesDone + BigInt(done);
      const tx = this.txBuf.subarray(0, piece);
      const rx = this.rxBuf.subarray(0, piece);
      io.tx.fill(tx);
      rx.set(tx);
      if (this.corruptArmed && this.corruptOffset >= base && this.corruptOffset < base + BigInt(piece)) {
        const at = Number(this.corruptOffset - base);
        rx[at] = rx[at]! ^ 0xff;
        this.corruptArmed = false;
      }
      const { errors, first } = verify(io.rx, rx, this.checkBuf);
      if (errors) {
        if (io.errors === 0n) io.firstErrorOffset = first;
        io.errors += errors;
      }
      done += piece;
    }
    this.countTransfer(io.endpointOut, n);
    this.countTransfer(io.endpointIn, n);
    io.bytesDone += BigInt(n);
  }

  /** Moves up to maxBytes of io traffic (generated, looped back, verified), honouring faults. */
  advance(maxBytes: number): void {
    if (this.crashed || this.now() < this.delayUntilNs) return;
    let budget = maxBytes;
    for (const io of this.io) {
      if (budget <= 0) break;
      while (io && io.state === IoState.RUNNING && budget > 0) {
        const left = io.byteCount - io.bytesDone;
        const n = Number(left < BigInt(io.chunkSize) ? left : BigInt(io.chunkSize));
        const step = Math.min(n, budget);
        if (this.takeStall(io)) break;
        this.transfer(io, step);
        budget -= step;
        if (io.bytesDone >= io.nextProgress && io.bytesDone < io.byteCount) {
          this.events.push({ ioProgress: { ioId: io.ioId, bytesDone: io.bytesDone } });
          while (io.nextProgress <= io.bytesDone) io.nextProgress += PROGRESS_EVERY;
        }
        if (io.bytesDone >= io.byteCount) this.finish(io, IoState.DONE);
      }
    }
  }

  /** Queues Stopping and aborts running io (a dext's Stop()). */
  stop(): void {
    this.events.push({ stopping: {} });
    for (const io of this.io) if (io?.state === IoState.RUNNING) this.finish(io, IoState.ABORTED);
  }
}
