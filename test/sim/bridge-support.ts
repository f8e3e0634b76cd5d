// A tiny channel client for the sim tests: spawns the `dextbench-bridge` shim of a running sim and
// speaks varint frames with protobufjs over the contract's own .proto files (no harness/channel).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ROOT, type Sim } from './support.ts';

const root = protobuf.loadSync([
  join(ROOT, 'dext-fixtures/proto/dextbench/v1/channel.proto'),
  join(ROOT, 'devices/echo.proto'),
]);
export const Request = root.lookupType('dextbench.v1.Request');
export const Response = root.lookupType('dextbench.v1.Response');
export const Echo = root.lookupType('dextbench.echo.v1.Echo');

export type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function toObj(type: protobuf.Type, bytes: Uint8Array): Msg {
  return type.toObject(type.decode(bytes), { longs: BigInt, oneofs: true, bytes: Buffer }) as Msg;
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}

export function frame(msg: Uint8Array): Buffer {
  return Buffer.concat([varint(msg.length), msg]);
}

/** Splits complete frames off the front of buf. */
export function splitFrames(buf: Buffer): [Buffer[], Buffer] {
  const frames: Buffer[] = [];
  let pos = 0;
  for (;;) {
    let len = 0, shift = 0, i = pos;
    for (; i < buf.length && i < pos + 3; i++) {
      len |= (buf[i]! & 0x7f) << shift;
      shift += 7;
      if ((buf[i]! & 0x80) === 0) break;
    }
    if (i >= buf.length || buf.length - i - 1 < len) return [frames, buf.subarray(pos)];
    frames.push(buf.subarray(i + 1, i + 1 + len));
    pos = i + 1 + len;
  }
}

export function encodeRequest(req: Msg): Uint8Array {
  return Request.encode(Request.fromObject(req)).finish(); // fromObject keeps 64-bit values exact
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export class BridgeClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  stderr = '';
  /** Every frame received, raw, in order. */
  readonly raw: Buffer[] = [];
  private pending = Buffer.alloc(0);
  private queue: Buffer[] = [];
  private wake: (() => void) | undefined;
  /** id-0 frames met while waiting for responses. */
  readonly unsolicited: Msg[] = [];

  constructor(sim: Sim, args: string[]) {
    this.child = spawn('dextbench-bridge', args, { env: sim.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => {
      const [frames, rest] = splitFrames(Buffer.concat([this.pending, chunk]));
      this.pending = Buffer.from(rest);
      for (const f of frames) { this.raw.push(Buffer.from(f)); this.queue.push(Buffer.from(f)); }
      this.wake?.();
    });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString('utf8'); });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => { this.wake?.(); resolve({ code, signal }); }));
  }

  send(...reqs: Msg[]): void {
    this.child.stdin.write(Buffer.concat(reqs.map((r) => frame(encodeRequest(r)))));
  }

  sendRaw(bytes: Buffer): void {
    this.child.stdin.write(bytes);
  }

  async nextRaw(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || (this.child.exitCode !== null && this.queue.length === 0)) {
        throw new Error(`no frame within ${timeoutMs} ms (exit ${this.child.exitCode}); stderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = undefined;
    }
    return this.queue.shift()!;
  }

  async next(timeoutMs = 5000): Promise<Msg> {
    return toObj(Response, await this.nextRaw(timeoutMs));
  }

  /** The next frame answering `id` (raw bytes and decoded); id-0 frames go to `unsolicited`. */
  async responseRaw(id: bigint, timeoutMs = 5000): Promise<{ bytes: Buffer; msg: Msg }> {
    for (;;) {
      const bytes = await this.nextRaw(timeoutMs);
      const msg = toObj(Response, bytes);
      if ((msg['id'] ?? 0n) === id) return { bytes, msg };
      if ((msg['id'] ?? 0n) !== 0n) throw new Error(`unexpected response id ${msg['id']} while waiting for ${id}`);
      this.unsolicited.push(msg);
    }
  }

  async response(id: bigint, timeoutMs = 5000): Promise<Msg> {
    return (await this.responseRaw(id, timeoutMs)).msg;
  }

  async call(req: Msg, timeoutMs = 5000): Promise<Msg> {
    this.send(req);
    return this.response(BigInt(req['id']), timeoutMs);
  }

  /** Frames until a bridge_status one (skipping event batches); fails on anything else. */
  async status(timeoutMs = 5000): Promise<Msg> {
    for (;;) {
      const f = await this.next(timeoutMs);
      if (f['bridgeStatus']) return f;
      if (!f['eventBatch']) throw new Error(`expected a bridge status, got ${JSON.stringify(f, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)}`);
      this.unsolicited.push(f);
    }
  }

  /** Events forwarded so far. */
  events(): Msg[] {
    return this.unsolicited.flatMap((f) => (f['eventBatch']?.events ?? []) as Msg[]);
  }

  async exitWithin(ms: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { this.child.kill('SIGKILL'); reject(new Error(`bridge did not exit within ${ms} ms; stderr: ${this.stderr}`)); }, ms);
    });
    try { return await Promise.race([this.exited, timeout]); } finally { clearTimeout(timer); }
  }

  async close(): Promise<Exit> {
    this.child.stdin.end();
    return this.exitWithin(5000);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
