// ChannelClient: the harness end of the channel over any duplex byte transport (the bridge's stdio,
// locally or through ssh). Requests carry increasing ids from 1; any number may be in flight and
// each response is routed by id. Every call has a deadline; every way the far side can fail ends in
// one clear error for every pending call, never a hang.
import { loadChannelCodec, type ChannelCodec, type PlainMessage } from './codec.ts';
import {
  BridgeExitedError, BridgeNotFoundError, CallFailedError, CallTimeoutError, ChannelClosedError, ChannelError,
  ConnectTimeoutError, MalformedFrameError, NoMatchingServiceError, NotPermittedError, ProtocolMismatchError,
  ServiceTerminatedError, statusCodeName,
} from './errors.ts';
import { FrameDecoder } from './framing.ts';

/** The protocol version this client speaks (channel.proto, Hello.protocol_version). */
export const CHANNEL_PROTOCOL_VERSION = 1;
const STATUS_UNAVAILABLE = 14;
const IO_RETURN_NOT_PERMITTED = 0xe00002e2 | 0; // kIOReturnNotPermitted as the int32 in BridgeStatus.io_return
const DEFAULT_TIMEOUT_MS = 10_000;
const CLOSE_WAIT_MS = 5_000;
const HISTORY_LIMIT = 100_000;
const MAX_SENT_ID = BigInt(Number.MAX_SAFE_INTEGER);

/** A duplex byte stream to a channel server. `onClose` reports how the far side ended. */
export interface ChannelTransport {
  write(bytes: Uint8Array): void;
  onData(listener: (chunk: Uint8Array) => void): void;
  onClose(listener: (exitCode: number | null, signal: string | null) => void): void;
  /** Ends the stream (the bridge exits 0 at a frame boundary); forceful if the far side lingers. */
  close(): void;
  /** What runs on the far side, for messages (the bridge argv). */
  readonly description?: string;
  /** The far side's recent stderr, for messages. */
  stderrTail?(): string;
}

export interface ConnectOptions {
  /** Deadline for OPENED + Hello. Default 10 s. */
  timeoutMs?: number;
  /** Default deadline of every call. Default 10 s. */
  callTimeoutMs?: number;
  codec?: ChannelCodec;
  /** Sent in Hello.capabilities. */
  capabilities?: string[];
  /** Oldest server protocol version accepted. Default 1. */
  minServerVersion?: number;
  /** The service match, for messages ("IOUserClass=EchoDriver"). */
  match?: string;
}

export interface CallOptions {
  timeoutMs?: number;
}

export interface BridgeInfo {
  registryId: bigint;
  userClass: string;
  transport: string;
}

export interface ServerInfo {
  protocolVersion: number;
  capabilities: string[];
  maxInlineBytes: number;
  maxMessageBytes: number;
  eventQueueCapacity: number;
}

export interface TerminationInfo {
  /** BridgeStatus.io_return behind the termination (0 when unknown). */
  ioReturn: number;
  message: string;
}

/** A decoded Event: `kind` names its oneof member ('started', 'ioDone', 'log', …), which holds the details. */
export type ChannelEvent = PlainMessage & { seq: bigint; timeNs: bigint; kind: string };
/** Events were lost between two received events (the dext's queue overflowed). */
export interface EventGap {
  kind: 'gap';
  expectedSeq: bigint;
  seq: bigint;
  lost: bigint;
}
export type ChannelEventItem = ChannelEvent | EventGap;

interface PendingCall {
  method: string;
  id: number;
  resolve(result: PlainMessage): void;
  reject(error: Error): void;
  timeoutMs: number;
  /** performance.now() after which the call fails with CallTimeoutError. */
  deadline: number;
}

/**
 * The calls in flight, by id. Ids are handed out in sequence, so a ring indexed by `id & mask` finds
 * a call with one load; a call still pending when its slot comes round again (a long call among
 * thousands of short ones) moves to a Map. A Map alone was measured to be the channel's largest
 * cost: keyed by ever-increasing ids it kept answered calls reachable across scavenges (about
 * 1.6 MB promoted per scavenge under pipelined pings, against 30 KB with the ring), and GC took a
 * third of the client's time.
 */
class PendingCalls {
  private static readonly RING = 4096; // a power of two, far above usual pipelining
  private readonly ring: (PendingCall | undefined)[] = new Array<PendingCall | undefined>(PendingCalls.RING).fill(undefined);
  private readonly parked = new Map<number, PendingCall>();
  size = 0;

  add(call: PendingCall): void {
    const slot = call.id & (PendingCalls.RING - 1);
    const older = this.ring[slot];
    if (older !== undefined) this.parked.set(older.id, older);
    this.ring[slot] = call;
    this.size++;
  }

  /** Removes and returns the call with this id, if it is pending. */
  take(id: number): PendingCall | undefined {
    const slot = id & (PendingCalls.RING - 1);
    const call = this.ring[slot];
    if (call !== undefined && call.id === id) {
      this.ring[slot] = undefined;
      this.size--;
      return call;
    }
    if (this.parked.size === 0) return undefined;
    const parked = this.parked.get(id);
    if (parked !== undefined) {
      this.parked.delete(id);
      this.size--;
    }
    return parked;
  }

  /** Every pending call, in id order. */
  all(): PendingCall[] {
    const calls = [...this.parked.values()];
    for (const call of this.ring) if (call !== undefined) calls.push(call);
    return calls.sort((a, b) => a.id - b.id);
  }

  clear(): void {
    this.ring.fill(undefined);
    this.parked.clear();
    this.size = 0;
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

export class ChannelClient {
  readonly codec: ChannelCodec;
  /** Resolves when the service terminates (TERMINATED frame or bridge exit 2); never rejects. */
  readonly terminated: Promise<TerminationInfo>;
  private bridgeInfo: BridgeInfo | undefined;
  private serverInfo: ServerInfo | undefined;
  private readonly decoder = new FrameDecoder();
  /** By request id: a number inside the client (exact up to 2^53, far beyond any session), a uint64 on the wire. */
  private readonly pending = new PendingCalls();
  /** One timer for every call's deadline (a timer per call cost more than the call): due at or before the earliest. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineDue = Infinity;
  private nextId = 1;
  private failure: Error | undefined;
  private readonly opened = deferred<BridgeInfo>();
  private readonly termination = deferred<TerminationInfo>();
  private readonly transportClosed = deferred<void>();
  private lastBridgeError = '';
  private openFailed: { ioReturn: number; message: string } | undefined;
  private readonly history: ChannelEventItem[] = [];
  private historyBase = 0;
  private lastSeq: bigint | undefined;
  private readonly wakers = new Set<() => void>();

  private constructor(
    private readonly transport: ChannelTransport,
    private readonly options: ConnectOptions,
  ) {
    this.codec = options.codec ?? loadChannelCodec();
    this.terminated = this.termination.promise;
    this.opened.promise.catch(() => { /* reported by connect() */ });
    transport.onData((chunk) => this.onData(chunk));
    transport.onClose((exitCode, signal) => this.onTransportClose(exitCode, signal));
  }

  /** Waits for the bridge's OPENED frame, then Hello; rejects with the reason the channel cannot open. */
  static async connect(transport: ChannelTransport, options: ConnectOptions = {}): Promise<ChannelClient> {
    const client = new ChannelClient(transport, options);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError(
        `${client.describe()} did not report OPENED within ${timeoutMs} ms${client.stderrSuffix()}`)), timeoutMs);
    });
    try {
      client.bridgeInfo = await Promise.race([client.opened.promise, timeout]);
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      let hello: PlainMessage;
      try {
        hello = await client.call('hello', {
          protocolVersion: CHANNEL_PROTOCOL_VERSION, capabilities: options.capabilities ?? [],
        }, { timeoutMs: left });
      } catch (error) {
        if (error instanceof CallFailedError) throw new ProtocolMismatchError(`the server refused Hello: ${error.codeName}: ${error.detail}`);
        if (error instanceof CallTimeoutError) throw new ConnectTimeoutError(`the server did not answer Hello within ${timeoutMs} ms`);
        throw error;
      }
      const server: ServerInfo = {
        protocolVersion: Number(hello['protocolVersion'] ?? 0),
        capabilities: (hello['capabilities'] as string[] | undefined) ?? [],
        maxInlineBytes: Number(hello['maxInlineBytes'] ?? 0),
        maxMessageBytes: Number(hello['maxMessageBytes'] ?? 0),
        eventQueueCapacity: Number(hello['eventQueueCapacity'] ?? 0),
      };
      const min = options.minServerVersion ?? CHANNEL_PROTOCOL_VERSION;
      if (server.protocolVersion < min) {
        throw new ProtocolMismatchError(`the server speaks channel protocol version ${server.protocolVersion}; this client needs >= ${min}`);
      }
      client.serverInfo = server;
      return client;
    } catch (error) {
      client.fail(error as Error);
      transport.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The bridge's OPENED report. */
  get bridge(): BridgeInfo {
    return this.bridgeInfo!;
  }

  /** The server's Hello answer. */
  get server(): ServerInfo {
    return this.serverInfo!;
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * One request: `method` is a Request.body member ('ping', 'getInfo', 'GetInfo', 'io_start'…), args
   * its fields. Resolves with the Response's result member (e.g. the Pong for ping).
   */
  call(method: string, args: PlainMessage = {}, options?: CallOptions): Promise<PlainMessage> {
    let name: string;
    let frame: Uint8Array;
    const id = this.nextId;
    try {
      name = this.codec.methodName(method);
      if (this.failure) throw this.failure;
      frame = this.codec.encodeRequestFrame(id, name, args);
    } catch (error) {
      return Promise.reject(error);
    }
    this.nextId++;
    const timeoutMs = options?.timeoutMs ?? this.options.callTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<PlainMessage>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.pending.add({ method: name, id, resolve, reject, timeoutMs, deadline });
      if (deadline < this.deadlineDue) this.armDeadlineTimer(deadline);
      this.transport.write(frame);
    });
  }

  private armDeadlineTimer(due: number): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineDue = due;
    this.deadlineTimer = setTimeout(() => this.expireCalls(), Math.max(0, Math.ceil(due - performance.now())));
  }

  private disarmDeadlineTimer(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineDue = Infinity;
  }

  /** Fails the calls past their deadline (in id order) and re-arms for the earliest one left. */
  private expireCalls(): void {
    this.deadlineTimer = undefined;
    this.deadlineDue = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const call of this.pending.all()) {
      if (call.deadline <= now) {
        this.pending.take(call.id);
        call.reject(new CallTimeoutError(call.method, BigInt(call.id), call.timeoutMs));
      } else if (call.deadline < next) {
        next = call.deadline;
      }
    }
    if (next !== Infinity) this.armDeadlineTimer(next);
  }

  /** An Extension request of a device message type; resolves with the decoded Extension result. */
  async callExtension(typeName: string, args: PlainMessage = {}, options: CallOptions = {}): Promise<PlainMessage> {
    const result = await this.call('extension', this.codec.encodeExtension(typeName, args), options);
    const resultType = String(result['typeName'] ?? '');
    if (!resultType) return {};
    return { typeName: resultType, ...this.codec.decodeExtension(resultType, result['payload'] as Uint8Array) };
  }

  /**
   * Events (from id-0 event batches, flattened) and gap markers, from the start of the session
   * unless includePast is false. Ends when the channel closes. The client keeps the last
   * 100 000 items; an iterator that falls further behind skips to the oldest one kept.
   */
  events(options: { includePast?: boolean } = {}): AsyncIterableIterator<ChannelEventItem> {
    let position = options.includePast === false ? this.historyBase + this.history.length : 0;
    const iterator: AsyncIterableIterator<ChannelEventItem> = {
      next: async () => {
        for (;;) {
          position = Math.max(position, this.historyBase);
          if (position < this.historyBase + this.history.length) {
            return { value: this.history[position++ - this.historyBase]!, done: false };
          }
          if (this.failure) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            const wake = (): void => { this.wakers.delete(wake); resolve(); };
            this.wakers.add(wake);
          });
        }
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** The first event (past ones included unless includePast is false) that satisfies `predicate`. */
  async waitForEvent(
    predicate: (event: ChannelEvent) => boolean,
    options: { timeoutMs?: number; includePast?: boolean } = {},
  ): Promise<ChannelEvent> {
    const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const iterator = this.events({ includePast: options.includePast });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChannelError(`no matching channel event within ${timeoutMs} ms`)), timeoutMs);
    });
    let settled = false;
    const search = (async (): Promise<ChannelEvent> => {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) throw this.failure ?? new ChannelClosedError('channel closed');
        if (settled) throw new ChannelError('waitForEvent already timed out'); // stop at the next event
        if (value.kind !== 'gap' && predicate(value as ChannelEvent)) return value as ChannelEvent;
      }
    })();
    search.catch(() => { /* after a timeout nobody listens; the race below reports */ });
    try {
      return await Promise.race([search, timeout]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** Ends the session: pending calls reject with ChannelClosedError; resolves once the bridge is gone. */
  async close(): Promise<void> {
    if (!this.failure) {
      this.fail(new ChannelClosedError('channel closed'));
      this.transport.close();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.transportClosed.promise,
      new Promise<void>((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS); }),
    ]);
    clearTimeout(timer);
  }

  // ------------------------------------------------------------------------------ inbound

  private onData(chunk: Uint8Array): void {
    if (this.failure instanceof MalformedFrameError) return;
    let messages: Uint8Array[];
    try {
      messages = this.decoder.push(chunk);
    } catch (error) {
      this.failMalformed(error);
      return;
    }
    for (const message of messages) {
      let response: PlainMessage;
      try {
        response = this.codec.decodeResponse(message);
      } catch (error) {
        this.failMalformed(error);
        return;
      }
      this.onResponse(response);
    }
  }

  /** The far side sent bytes outside the contract: nothing after them can be trusted. */
  private failMalformed(error: unknown): void {
    this.fail(new MalformedFrameError(`from ${this.describe()}: ${(error as Error).message}`));
    this.transport.close();
  }

  private onResponse(response: PlainMessage): void {
    const id = response['id'] as bigint;
    const status = response['status'] as { code?: number; message?: string } | undefined;
    const code = status?.code ?? 0;
    if (id !== 0n) {
      if (id > MAX_SENT_ID) return; // never sent
      const member = response['result'] as string | undefined;
      this.onCallResponse(Number(id), code, status?.message ?? '', member ? response[member] as PlainMessage | undefined : undefined);
      return;
    }
    const result = response['result'];
    if (result === 'eventBatch') this.onEvents((response['eventBatch'] as { events: PlainMessage[] }).events);
    else if (result === 'bridgeStatus') this.onBridgeStatus(response['bridgeStatus'] as PlainMessage);
    else if (code !== 0) this.lastBridgeError = `${statusCodeName(code)}: ${status?.message ?? ''}`;
  }

  /** A call's answer: `result` is the Response's result member (undefined without one). */
  private onCallResponse(id: number, code: number, message: string, result: PlainMessage | undefined): void {
    const call = this.pending.take(id);
    if (!call) return; // answered after its deadline
    if (this.pending.size === 0) this.disarmDeadlineTimer(); // an idle client holds no timer
    if (code === STATUS_UNAVAILABLE) {
      call.reject(new ServiceTerminatedError(`channel call ${call.method} (id ${id}): service terminated: ${message}`));
    } else if (code !== 0) {
      call.reject(new CallFailedError(call.method, code, statusCodeName(code), message));
    } else {
      call.resolve(result ?? {});
    }
  }

  private onBridgeStatus(status: PlainMessage): void {
    const ioReturn = Number(status['ioReturn'] ?? 0);
    const message = String(status['message'] ?? '');
    switch (status['state']) {
      case 'BRIDGE_STATE_OPENED':
        this.opened.resolve({
          registryId: /^\d+$/.test(String(status['registryId'])) ? BigInt(String(status['registryId'])) : 0n,
          userClass: String(status['userClass'] ?? ''),
          transport: String(status['transport'] ?? ''),
        });
        break;
      case 'BRIDGE_STATE_OPEN_FAILED':
        this.openFailed = { ioReturn, message };
        this.fail(ioReturn === IO_RETURN_NOT_PERMITTED ? this.notPermitted() : this.noMatch());
        break;
      case 'BRIDGE_STATE_TERMINATED':
        this.onTerminated({ ioReturn, message });
        break;
      default:
        break; // a state this client does not know: rule 3, ignore
    }
  }

  private onEvents(events: PlainMessage[]): void {
    for (const event of events) {
      const seq = event['seq'] as bigint;
      if (this.lastSeq !== undefined && seq > this.lastSeq + 1n) {
        this.record({ kind: 'gap', expectedSeq: this.lastSeq + 1n, seq, lost: seq - this.lastSeq - 1n });
      }
      if (this.lastSeq === undefined || seq > this.lastSeq) this.lastSeq = seq;
      if (typeof event['kind'] === 'string') this.record(event as ChannelEvent); // unknown kinds are skipped (rule 3)
    }
  }

  private record(item: ChannelEventItem): void {
    this.history.push(item);
    if (this.history.length > HISTORY_LIMIT) {
      const drop = HISTORY_LIMIT / 10;
      this.history.splice(0, drop);
      this.historyBase += drop;
    }
    this.wake();
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private onTerminated(info: TerminationInfo): void {
    const who = this.bridgeInfo ? `${this.bridgeInfo.userClass} (registry id ${this.bridgeInfo.registryId})` : 'the service';
    const ioReturn = info.ioReturn ? ` (IOReturn 0x${(info.ioReturn >>> 0).toString(16).padStart(8, '0')})` : '';
    this.fail(new ServiceTerminatedError(`${who} terminated${ioReturn}: the dext crashed or the device was unplugged`));
    this.termination.resolve(info);
  }

  private onTransportClose(exitCode: number | null, signal: string | null): void {
    try {
      this.decoder.end();
    } catch (error) {
      if (!this.failure) this.fail(new MalformedFrameError(`from ${this.describe()}: ${(error as Error).message}`));
    }
    if (!this.failure) {
      if (exitCode === 2) this.onTerminated({ ioReturn: 0, message: 'bridge exited 2' });
      else this.fail(this.errorForExit(exitCode, signal));
    }
    this.transportClosed.resolve();
  }

  // ------------------------------------------------------------------------------ failure

  /** The first failure wins: it rejects every pending call, ends iterators and fails later calls. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.opened.reject(error);
    this.disarmDeadlineTimer();
    for (const call of this.pending.all()) {
      call.reject(error instanceof ServiceTerminatedError
        ? new ServiceTerminatedError(`channel call ${call.method} (id ${call.id}): ${error.message}`)
        : error);
    }
    this.pending.clear();
    this.wake();
  }

  private errorForExit(exitCode: number | null, signal: string | null): Error {
    const command = this.transport.description?.split(' ')[0] ?? 'dextbench-bridge';
    switch (exitCode) {
      case 127:
      case -2: // ENOENT from a local spawn
        return new BridgeNotFoundError(`bridge command not found: ${command} — build it with \`make -C dext-fixtures/bridge\` (see dext-fixtures/bridge/README.md) and put it on the target's PATH, or pass its path in \`command\``);
      case 126:
      case -13: // EACCES
        return new BridgeNotFoundError(`bridge command is not executable: ${command}`);
      case 0:
        return new ChannelClosedError(`${this.describe()} closed the channel`);
      case 65:
        return new MalformedFrameError(`${this.describe()} rejected a frame from the harness${this.lastBridgeError ? ` (${this.lastBridgeError})` : ''} and exited 65`);
      case 69:
        return this.noMatch();
      case 77:
        return this.notPermitted();
      default:
        return new BridgeExitedError(
          `${this.describe()} exited ${signal ? `by ${signal}` : `with code ${exitCode}`}${exitCode === 64 ? ' (usage error)' : ''}${this.stderrSuffix()}`,
          exitCode, signal);
    }
  }

  private noMatch(): NoMatchingServiceError {
    const detail = this.openFailed?.message || this.stderrLine();
    return new NoMatchingServiceError(`no unique service matches ${this.options.match ?? 'the bridge match'}${detail ? `: ${detail}` : ''}`);
  }

  private notPermitted(): NotPermittedError {
    return new NotPermittedError(`opening ${this.options.match ?? 'the service'} is not permitted (kIOReturnNotPermitted): the bridge needs the com.apple.developer.driverkit.userclient-access entitlement naming the dext's bundle id`);
  }

  private describe(): string {
    return this.transport.description ? `bridge (${this.transport.description})` : 'the channel server';
  }

  private stderrLine(): string {
    return this.transport.stderrTail?.().trim().split('\n').filter(Boolean).at(-1) ?? '';
  }

  private stderrSuffix(): string {
    const line = this.stderrLine();
    return line ? `: ${line}` : '';
  }
}
