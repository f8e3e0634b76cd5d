// The TypeScript stand-in for `dextbench-bridge` on a connection to a simulated dext process: the
// bridge's stdio protocol (dext-fixtures/bridge/README.md) over the process's LoopbackModel, with
// the same frames, status frames, doorbell forwarding and exit codes as dextbench-bridge-simdext.
import { frame, parseFrameHeader } from './frames.ts';
import type { TsDextProcess } from './process.ts';
import { BridgeState, encodeRequest, encodeResponse, EVENT_BATCH_MAX, ResponseType, Status } from './proto.ts';
import { checkRequestWire } from './wire.ts';

export const EXIT = { CLOSED: 0, TERMINATED: 2, USAGE: 64, MALFORMED: 65, UNAVAILABLE: 69 } as const;
/** kIOReturnAborted: what a call on a connection whose dext died returns. */
const IORETURN_ABORTED = 0xe00002eb | 0;

export interface BridgeOutput {
  out(bytes: Uint8Array): void;
  err(text: string): void;
}

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function statusFrame(state: number, fields: { registryId?: string; userClass?: string; transport: string; ioReturn?: number; message: string }): Buffer {
  return frame(encodeResponse({ bridgeStatus: { state, ...fields } }));
}

/** OPEN_FAILED: the only frame, plus its stderr line (the caller exits 69). */
export function reportOpenFailed(output: BridgeOutput, transport: string, message: string, ioReturn = 0): number {
  output.out(statusFrame(BridgeState.OPEN_FAILED, { transport, ioReturn, message }));
  output.err(JSON.stringify({ event: 'openFailed', transport, ioReturn: hex32(ioReturn), message }) + '\n');
  return EXIT.UNAVAILABLE;
}

export interface SessionOptions {
  registryId: string;
  userClass: string;
  /** The dext crashed in a call (InjectFault CRASH): the host makes the process die. */
  onCrash?: () => void;
}

export class BridgeSession {
  readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;
  private done = false;
  private input: Buffer = Buffer.alloc(0);
  private doorbell = false;
  /** This connection's doorbell (SUBSCRIBE); the dext rings only its last subscriber. */
  private readonly ring = (): void => {
    this.doorbell = true;
    queueMicrotask(() => this.handleNotes());
  };

  constructor(private readonly dext: TsDextProcess, private readonly output: BridgeOutput, private readonly opts: SessionOptions) {
    this.exited = new Promise((resolve) => { this.resolveExit = resolve; });
  }

  private get model(): TsDextProcess['model'] { return this.dext.model; }

  get finished(): boolean { return this.done; }

  start(): void {
    const { registryId, userClass } = this.opts;
    this.output.out(statusFrame(BridgeState.OPENED, { registryId, userClass, transport: 'inproc', message: 'opened' }));
    this.output.err(JSON.stringify({ event: 'opened', registryId, userClass, transport: 'inproc' }) + '\n');
    this.dext.attach(this);
    // SUBSCRIBE: the doorbell rings at once if events wait (the Started event, for the first).
    this.model.events.subscribe(this.ring);
    this.handleNotes();
  }

  /** Bytes from stdin. */
  feed(chunk: Buffer): void {
    if (this.done) return;
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk;
    let pos = 0;
    while (!this.done && pos < this.input.length) {
      const h = parseFrameHeader(this.input, pos);
      if (h.kind === 'incomplete') break;
      if (h.kind === 'malformed') { this.malformed('malformed frame: length must be 1..16384 in a varint of at most 3 bytes'); return; }
      if (this.input.length - pos < h.headerLen + h.msgLen) break;
      this.handleRequest(this.input.subarray(pos + h.headerLen, pos + h.headerLen + h.msgLen));
      pos += h.headerLen + h.msgLen;
      if (!this.done) this.handleNotes();
    }
    this.input = Buffer.from(this.input.subarray(pos));
    this.dext.kick();
  }

  /** stdin closed. */
  end(): void {
    if (this.done) return;
    if (this.input.length > 0) { this.malformed('malformed frame: input ended inside a frame'); return; }
    this.output.err(JSON.stringify({ event: 'closed', registryId: this.opts.registryId }) + '\n');
    this.finish(EXIT.CLOSED);
  }

  /** The dext process stopped (unplug, crash, reboot): its connections see the service terminate. */
  terminate(ioReturn = 0): void {
    if (this.done) return;
    this.terminated(ioReturn);
  }

  /** The reader went away: stop without writing. */
  abandon(): void {
    if (!this.done) this.finish(EXIT.CLOSED);
  }

  private finish(code: number): void {
    this.done = true;
    this.dext.detach(this);
    this.model.events.unsubscribe(this.ring);
    this.resolveExit(code);
  }

  private terminated(ioReturn: number): void {
    const { registryId, userClass } = this.opts;
    this.output.out(statusFrame(BridgeState.TERMINATED, { registryId, userClass, transport: 'inproc', ioReturn, message: 'service terminated' }));
    this.output.err(JSON.stringify({ event: 'terminated', registryId, ioReturn: hex32(ioReturn) }) + '\n');
    this.finish(EXIT.TERMINATED);
  }

  private malformed(why: string): void {
    this.output.out(frame(encodeResponse({ status: { code: Status.INVALID_ARGUMENT, message: why } })));
    this.output.err(JSON.stringify({ event: 'malformedFrame', message: why }) + '\n');
    this.finish(EXIT.MALFORMED);
  }

  private writeMessage(msg: Uint8Array): void {
    // An all-default Response encodes to nothing; frames are never empty (id 0 written explicitly).
    this.output.out(frame(msg.length ? msg : Uint8Array.of(0x08, 0x00)));
  }

  private handleRequest(msg: Buffer): void {
    const wire = checkRequestWire(msg);
    if (!wire.error && wire.id === 0n) {
      this.writeMessage(encodeResponse({ status: { code: Status.INVALID_ARGUMENT, message: 'Request.id must be >= 1 (0 is reserved for the bridge)' } }));
      return;
    }
    const resp = this.model.handle(msg);
    if (this.model.crashed) { // the dext died handling this call: no answer, connection gone
      this.writeMessage(encodeResponse({ id: wire.id, status: { code: Status.UNAVAILABLE, message: 'service terminated during the call' } }));
      this.terminated(IORETURN_ABORTED);
      this.opts.onCrash?.();
      return;
    }
    this.writeMessage(resp);
  }

  /** A doorbell is answered with PollEvents (id 0) until the dext says no more. */
  private handleNotes(): void {
    if (!this.doorbell || this.done) return;
    this.doorbell = false;
    const poll = encodeRequest({ pollEvents: { maxEvents: EVENT_BATCH_MAX } });
    for (let round = 0; round < 64; round++) { // bounded, so stdin stays served under an event storm
      const resp = this.model.handle(poll);
      const batch = ResponseType.toObject(ResponseType.decode(resp), { arrays: true })['eventBatch'] as { events: unknown[]; more?: boolean } | undefined;
      if (!batch) return;
      if (batch.events.length > 0) this.writeMessage(resp);
      if (!batch.more) return;
    }
    this.doorbell = true; // more waits: after stdin has had a turn
    setImmediate(() => this.handleNotes());
  }
}
