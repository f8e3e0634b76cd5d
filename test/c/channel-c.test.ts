// The C far side of the channel: libdextbench unit tests (make) and the bridge's stdio protocol,
// spoken from Node against build/dextbench-bridge-inproc (the bridge with the loopback model in
// process). Needs cc, make, protoc and nanopb: a lane (test/support/lane.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { C_TOOLCHAIN, lane } from '../support/lane.ts';
import {
  all, bytesOf, decode, fieldBytes, fieldVarint, frame, message, request, splitFrames, str, sub, u64,
  type Field,
} from './wire.ts';

const root = new URL('../..', import.meta.url).pathname;
const fixtures = join(root, 'dext-fixtures');
const bridgeBin = join(fixtures, 'bridge', 'build', 'dextbench-bridge-inproc');

const opts = { skip: lane('C channel library and bridge', C_TOOLCHAIN) };

// ------------------------------------------------------------------------------ builds

let built: { ok: boolean; output: string } | undefined;
function buildAll(): void {
  if (!built) {
    const lib = spawnSync('make', ['-C', join(fixtures, 'libdextbench'), 'test'], { encoding: 'utf8', timeout: 300_000 });
    const bridge = lib.status === 0
      ? spawnSync('make', ['-C', join(fixtures, 'bridge')], { encoding: 'utf8', timeout: 300_000 })
      : undefined;
    built = {
      ok: lib.status === 0 && bridge?.status === 0,
      output: `${lib.stdout}${lib.stderr}${bridge?.stdout ?? ''}${bridge?.stderr ?? ''}`,
    };
  }
  assert.ok(built.ok, `build failed:\n${built.output.slice(-4000)}`);
}

// ------------------------------------------------------------------- a bridge session

type Exit = { code: number | null; signal: NodeJS.Signals | null };

class Bridge {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  stderr = '';
  private pending = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private wake: (() => void) | undefined;
  /** Unsolicited frames (id 0) seen while waiting for responses. */
  readonly unsolicited: Field[][] = [];

  constructor(args: string[]) {
    this.child = spawn(bridgeBin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => {
      const [frames, rest] = splitFrames(Buffer.concat([this.pending, chunk]));
      this.pending = Buffer.from(rest);
      this.frames.push(...frames.map((f) => Buffer.from(f)));
      this.wake?.();
    });
    this.child.stderr.on('data', (chunk: Buffer) => { this.stderr += chunk.toString('utf8'); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.wake?.();
      resolve({ code, signal });
    }));
  }

  send(...msgs: Buffer[]): void {
    this.child.stdin.write(Buffer.concat(msgs.map(frame)));
  }

  sendRaw(bytes: Buffer): void {
    this.child.stdin.write(bytes);
  }

  async next(timeoutMs = 5000): Promise<Field[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(`no frame within ${timeoutMs} ms (exit ${this.child.exitCode}); stderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = undefined;
    }
    return decode(this.frames.shift()!);
  }

  /** The next frame answering `id`; id-0 frames met on the way go to `unsolicited`. */
  async response(id: bigint, timeoutMs = 5000): Promise<Field[]> {
    for (;;) {
      const f = await this.next(timeoutMs);
      if (u64(f, 1) === id) return f;
      assert.equal(u64(f, 1), 0n, `unexpected response id ${u64(f, 1)} while waiting for ${id}`);
      this.unsolicited.push(f);
    }
  }

  /** Events forwarded so far (from unsolicited EventBatch frames). */
  events(): Field[][] {
    return this.unsolicited.flatMap((f) => {
      const batch = sub(f, 12);
      return batch ? all(batch, 1) : [];
    });
  }

  async close(): Promise<Exit> {
    this.child.stdin.end();
    return this.exitWithin(5000);
  }

  async exitWithin(ms: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { this.child.kill('SIGKILL'); reject(new Error(`bridge did not exit within ${ms} ms`)); }, ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const INSTANCE_ID = 0xfedcba9876543210n; // above 2^53: must survive exactly
function openBridge(extra: string[] = []): Bridge {
  return new Bridge(['--match', 'IOUserClass=EchoDriver', '--registry-id', '4294971234', '--instance-id',
    `0x${INSTANCE_ID.toString(16)}`, ...extra]);
}

function status(f: Field[]): { code: bigint; message: string } {
  const s = sub(f, 2);
  return { code: s ? u64(s, 1) : 0n, message: s ? str(s, 2) : '' };
}

async function expectOpened(b: Bridge): Promise<void> {
  const first = await b.next();
  assert.equal(u64(first, 1), 0n);
  const st = sub(first, 14);
  assert.ok(st, 'first frame is a bridge_status');
  assert.equal(u64(st, 1), 1n); // OPENED
  assert.equal(str(st, 2), '4294971234');
  assert.equal(str(st, 3), 'EchoDriver');
  assert.equal(str(st, 4), 'inproc');
}

// Request bodies (field numbers from channel.proto).
const hello = (id: bigint) => request(id, 2, message(fieldVarint(1, 1), fieldBytes(2, 'bigint')));
const ping = (id: bigint, nonce: bigint, data: Buffer = Buffer.alloc(0)) =>
  request(id, 3, message(fieldVarint(1, nonce), ...(data.length ? [fieldBytes(2, data)] : [])));
const getInfo = (id: bigint) => request(id, 4, Buffer.alloc(0));
const ioStatus = (id: bigint, ioId: bigint) => request(id, 8, fieldVarint(1, ioId));
const injectFault = (id: bigint, kind: number) => request(id, 10, fieldVarint(1, kind));

// ------------------------------------------------------------------------------- tests

test('libdextbench: make test passes (unit tests, conformance vectors, PB_BUFFER_ONLY build)', opts, () => {
  buildAll();
  assert.match(built!.output, /libdextbench: \d+ checks passed/);
  assert.match(built!.output, /check-buffer-only: sources build with PB_BUFFER_ONLY/);
});

test('conformance vectors are present and well-formed for the TypeScript side', () => {
  const dir = join(fixtures, 'proto', 'conformance');
  const session = JSON.parse(readFileSync(join(dir, 'loopback-session.json'), 'utf8')) as {
    steps: { name: string; request_hex: string; response_hex: string }[];
  };
  assert.ok(session.steps.length >= 25);
  const hello0 = session.steps[0]!;
  assert.equal(hello0.name, 'hello');
  const resp = decode(Buffer.from(hello0.response_hex, 'hex'));
  assert.equal(u64(resp, 1), 1n);
  assert.equal(u64(sub(resp, 3)!, 1), 1n);
  const info = decode(Buffer.from(session.steps.find((s) => s.name === 'get_info')!.response_hex, 'hex'));
  assert.equal(u64(sub(info, 5)!, 3), 0x0123456789abcdefn);
  const patterns = JSON.parse(readFileSync(join(dir, 'patterns.json'), 'utf8')) as {
    vectors: { pattern: string; seed: number; first16_hex: string }[];
  };
  const prbs7 = patterns.vectors.find((v) => v.pattern === 'PRBS7' && v.seed === 1);
  assert.equal(prbs7?.first16_hex, '06147916753e87126d6f634bb9957f02');
});

test('bridge: opened status, Started event, Hello, Ping (out of line both ways), GetInfo', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    b.send(hello(1n));
    const h = await b.response(1n);
    assert.equal(status(h).code, 0n);
    const hr = sub(h, 3)!;
    assert.equal(u64(hr, 1), 1n);
    assert.deepEqual(hr.filter((f) => f.num === 2).map((f) => f.bytes!.toString()), ['loopback', 'endpoint', 'faults', 'events']);
    assert.equal(u64(hr, 3), 4096n);
    assert.equal(u64(hr, 4), 16384n);

    // The Started event arrived through the doorbell before or around Hello.
    const started = b.events().find((e) => e.some((f) => f.num === 3));
    assert.ok(started, 'Started event forwarded');
    assert.equal(u64(started, 1), 1n);

    const nonce = (1n << 63n) + 5n;
    const data = Buffer.alloc(6000, 0);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    b.send(ping(2n, nonce, data));
    const p = await b.response(2n);
    const pong = sub(p, 4)!;
    assert.equal(u64(pong, 1), nonce);
    assert.ok(bytesOf(pong, 2).equals(data), '6000-byte echo intact (request OOL, response spilled and fetched)');

    b.send(getInfo(3n));
    const info = sub(await b.response(3n), 5)!;
    assert.equal(str(info, 1), 'EchoDriver');
    assert.equal(str(info, 2), '1.0.0');
    assert.equal(u64(info, 3), INSTANCE_ID);
    assert.ok(u64(info, 4) > 0n);
    assert.deepEqual(await b.close(), { code: 0, signal: null });
    assert.match(b.stderr, /^\{"event":"opened","registryId":"4294971234","userClass":"EchoDriver","transport":"inproc"\}$/m);
    assert.match(b.stderr, /\{"event":"closed","registryId":"4294971234"\}/);
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: IoStart loopback runs to DONE; IoStatus and forwarded IoDone agree', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    const bytes = 1n << 20n;
    b.send(request(10n, 7, message(fieldVarint(1, 1), fieldVarint(3, bytes), fieldVarint(4, 2), fieldVarint(5, 7),
      fieldVarint(6, 16384))));
    const started = await b.response(10n);
    assert.equal(status(started).code, 0n);
    const ioId = u64(sub(started, 8)!, 1);
    assert.equal(ioId, 1n);

    const deadline = Date.now() + 10_000;
    let st: Field[] = [];
    for (let id = 11n; ; id++) {
      b.send(ioStatus(id, ioId));
      st = sub(await b.response(id), 9)!;
      if (u64(st, 2) !== 1n) break; // not RUNNING
      assert.ok(Date.now() < deadline, 'io finished within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(u64(st, 2), 2n); // DONE
    assert.equal(u64(st, 3), bytes);
    assert.equal(u64(st, 4), 0n);
    assert.equal(u64(st, 6), bytes);

    // The doorbell brings IoDone without anyone polling.
    const until = Date.now() + 5000;
    let done: Field[] | undefined;
    while (!done) {
      done = b.events().map((e) => sub(e, 6)).find((d): d is Field[] => d !== undefined);
      if (done) break;
      assert.ok(Date.now() < until, 'IoDone forwarded within 5 s');
      b.send(ping(999n, 1n));
      await b.response(999n);
    }
    assert.equal(u64(done, 1), ioId);
    assert.equal(u64(done, 2), 2n);
    assert.equal(u64(done, 3), bytes);
    await b.close();
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: 64 pipelined requests are answered in order with matching ids', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    const ids = Array.from({ length: 64 }, (_, i) => 100n + BigInt(i));
    b.send(...ids.map((id) => ping(id, id * 1000n)));
    for (const id of ids) {
      const r = await b.response(id);
      assert.equal(u64(sub(r, 4)!, 1), id * 1000n);
    }
    assert.deepEqual(await b.close(), { code: 0, signal: null });
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: undecodable request and id 0 are answered; session continues', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    b.send(Buffer.from([0x08, 0x05, 0x12, 0x05, 0x08])); // id 5, truncated submessage
    const bad = await b.response(5n);
    assert.equal(status(bad).code, 3n); // INVALID_ARGUMENT from the dext
    assert.match(status(bad).message, /^malformed Request: /);
    b.send(request(0n, 3, Buffer.alloc(0)));
    let zero: Field[];
    do zero = await b.next(); while (sub(zero, 12)); // skip forwarded events
    assert.equal(status(zero).code, 3n);
    assert.equal(status(zero).message, 'Request.id must be >= 1 (0 is reserved for the bridge)');
    b.send(Buffer.from([0x08, 0x06, 0x9a, 0x06, 0x02, 0x7a, 0x7a])); // id 6, unknown body member 99
    const unknown = await b.response(6n);
    assert.equal(status(unknown).code, 12n); // UNIMPLEMENTED
    assert.equal(status(unknown).message, 'Request has no body this server knows');
    b.send(ping(7n, 7n));
    assert.equal(u64(sub(await b.response(7n), 4)!, 1), 7n);
    await b.close();
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: Extension requests are echoed (the echo device); --start-time-ns and --driver-version set GetInfo', opts, async () => {
  buildAll();
  const b = openBridge(['--start-time-ns', '1700000000123456789', '--driver-version', '1.1.0']);
  try {
    await expectOpened(b);
    // dextbench.echo.v1.Echo {text "hi", count 5, blob 00 ff, token 2^63 + 1} (devices/echo.proto)
    const echo = message(fieldBytes(1, 'hi'), fieldVarint(2, 5), fieldBytes(3, Buffer.from([0, 255])), fieldVarint(4, (1n << 63n) + 1n));
    b.send(request(1n, 12, message(fieldBytes(1, 'dextbench.echo.v1.Echo'), fieldBytes(2, echo))));
    const r = await b.response(1n);
    assert.equal(status(r).code, 0n);
    const ext = sub(r, 13)!;
    assert.equal(str(ext, 1), 'dextbench.echo.v1.Echo');
    assert.ok(bytesOf(ext, 2).equals(echo), 'payload echoed byte for byte');
    assert.equal(u64(decode(bytesOf(ext, 2)), 4), (1n << 63n) + 1n);
    b.send(getInfo(2n));
    const info = sub(await b.response(2n), 5)!;
    assert.equal(str(info, 2), '1.1.0');
    assert.equal(u64(info, 4), 1700000000123456789n);
    await b.close();
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: a malformed frame gets an error frame and exit code 65', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    b.sendRaw(Buffer.from([0x80, 0x80, 0x80, 0x01])); // varint longer than 3 bytes
    let err: Field[];
    do err = await b.next(); while (sub(err, 12));
    assert.equal(u64(err, 1), 0n);
    assert.equal(status(err).code, 3n);
    assert.match(status(err).message, /malformed frame/);
    assert.deepEqual(await b.exitWithin(5000), { code: 65, signal: null });
    assert.match(b.stderr, /\{"event":"malformedFrame","message":"malformed frame: length must be 1\.\.16384/);
  } finally {
    b.child.kill('SIGKILL');
  }

  const t = openBridge();
  try {
    await expectOpened(t);
    t.sendRaw(Buffer.from([0x05, 0x08])); // a frame cut short by the end of input
    const exit = await t.close();
    assert.deepEqual(exit, { code: 65, signal: null });
    assert.match(t.stderr, /input ended inside a frame/);
  } finally {
    t.child.kill('SIGKILL');
  }
});

test('bridge: a dext crash answers the call UNAVAILABLE, reports TERMINATED, exits 2', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    b.send(injectFault(20n, 1)); // CRASH
    const r = await b.response(20n);
    assert.equal(status(r).code, 14n);
    assert.equal(status(r).message, 'service terminated during the call');
    let last: Field[];
    do last = await b.next(); while (sub(last, 12));
    const st = sub(last, 14)!;
    assert.equal(u64(st, 1), 2n); // TERMINATED
    assert.equal(str(st, 2), '4294971234');
    assert.deepEqual(await b.exitWithin(5000), { code: 2, signal: null });
    assert.match(b.stderr, /\{"event":"terminated","registryId":"4294971234","ioReturn":"0xe00002eb"\}/);
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: service termination from outside (SIGUSR1 = unplug) ends the session with exit 2', opts, async () => {
  buildAll();
  const b = openBridge();
  try {
    await expectOpened(b);
    b.send(ping(1n, 1n));
    await b.response(1n);
    b.child.kill('SIGUSR1');
    let last: Field[];
    do last = await b.next(); while (sub(last, 12));
    assert.equal(u64(sub(last, 14)!, 1), 2n);
    assert.deepEqual(await b.exitWithin(5000), { code: 2, signal: null });
  } finally {
    b.child.kill('SIGKILL');
  }
});

test('bridge: usage errors exit 64 with one usage line', opts, () => {
  buildAll();
  const r = spawnSync(bridgeBin, ['--registry-id', 'nope'], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.status, 64);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^usage: dextbench-bridge-inproc --match KEY=VALUE\.\.\. /);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
