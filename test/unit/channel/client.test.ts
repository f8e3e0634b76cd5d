// ChannelClient against a scripted far side (no bridge process): routing, deadlines and every
// failure path of the contract, deterministically.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BridgeExitedError, BridgeNotFoundError, CallFailedError, CallTimeoutError, ChannelClient, ChannelClosedError,
  ConnectTimeoutError, encodeFrame, FrameDecoder, loadChannelCodec, MalformedFrameError, NoMatchingServiceError,
  NotPermittedError, ProtocolMismatchError, ServiceTerminatedError, type ChannelTransport, type PlainMessage,
} from '../../../harness/channel/index.ts';

const codec = loadChannelCodec();
const OPENED = { id: 0, bridgeStatus: { state: 'OPENED', registryId: '18446744073709551615', userClass: 'EchoDriver', transport: 'fake' } };
const HELLO_OK = { protocolVersion: 1, capabilities: ['loopback'], maxInlineBytes: 4096, maxMessageBytes: 16384, eventQueueCapacity: 64 };

/** A far side: answers each request through `answer` (undefined = no answer yet). */
class FakeServer implements ChannelTransport {
  readonly description = 'fake-bridge --match IOUserClass=EchoDriver';
  readonly requests: PlainMessage[] = [];
  closed = false;
  private data?: (chunk: Uint8Array) => void;
  private closeListener?: (exitCode: number | null, signal: string | null) => void;
  private readonly decoder = new FrameDecoder();

  constructor(private readonly answer: (request: PlainMessage, server: FakeServer) => PlainMessage | undefined, private readonly stderr = '') {}

  write(bytes: Uint8Array): void {
    for (const message of this.decoder.push(bytes)) {
      const request = codec.decodeRequest(message);
      this.requests.push(request);
      const response = this.answer(request, this);
      if (response) queueMicrotask(() => this.send(response));
    }
  }
  onData(listener: (chunk: Uint8Array) => void): void { this.data = listener; }
  onClose(listener: (exitCode: number | null, signal: string | null) => void): void { this.closeListener = listener; }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.exit(0));
  }
  stderrTail(): string { return this.stderr; }

  send(response: PlainMessage): void { this.data!(encodeFrame(codec.encodeResponse(response))); }
  raw(bytes: Uint8Array): void { this.data!(bytes); }
  exit(code: number | null, signal: string | null = null): void { this.closeListener!(code, signal); }
}

/** Answers Hello and Ping (nonce echoed), after sending OPENED. */
function echoServer(extra: (request: PlainMessage, server: FakeServer) => PlainMessage | undefined = () => undefined): FakeServer {
  const server = new FakeServer((request, s) => {
    if (request['body'] === 'hello') return { id: request['id'], hello: HELLO_OK };
    if (request['body'] === 'ping') return { id: request['id'], ping: { nonce: (request['ping'] as PlainMessage)['nonce'] } };
    return extra(request, s);
  });
  queueMicrotask(() => server.send(OPENED));
  return server;
}

test('connect waits for OPENED, says Hello, and reports bridge and server facts exactly', async () => {
  const server = echoServer();
  const client = await ChannelClient.connect(server, { capabilities: ['bigint'] });
  assert.deepEqual(client.bridge, { registryId: 18446744073709551615n, userClass: 'EchoDriver', transport: 'fake' });
  assert.equal(client.server.protocolVersion, 1);
  assert.deepEqual(client.server.capabilities, ['loopback']);
  assert.deepEqual(server.requests[0], { id: 1n, body: 'hello', hello: { protocolVersion: 1, capabilities: ['bigint'] } });
  await client.close();
  assert.ok(server.closed);
  await assert.rejects(client.call('ping'), ChannelClosedError);
});

test('pipelined calls get increasing ids and are routed by id even when answered out of order', async () => {
  const held: PlainMessage[] = [];
  const server = echoServer((request) => { held.push(request); return undefined; });
  const client = await ChannelClient.connect(server);
  const calls = Array.from({ length: 64 }, (_, i) => client.call('GetStats', { endpoint: i }));
  assert.equal(client.inFlight, 64);
  assert.deepEqual(held.map((r) => r['id']), Array.from({ length: 64 }, (_, i) => BigInt(i + 2)));
  for (const request of [...held].reverse()) {
    const endpoint = (request['getStats'] as PlainMessage)['endpoint'];
    server.send({ id: request['id'], stats: { endpoints: [{ endpoint, bytes: 1n << 60n }] } });
  }
  const results = await Promise.all(calls);
  results.forEach((r, i) => assert.deepEqual(r, { endpoints: [{ endpoint: i, bytes: 1n << 60n, transfers: 0n, errors: 0n, stalls: 0n }] }));
  assert.equal(client.inFlight, 0);
  await client.close();
});


test('a long call outlives thousands of short ones: still routed, still timed out, still failed on close', async () => {
  const held: PlainMessage[] = [];
  const server = echoServer((request) => { held.push(request); return undefined; });
  const client = await ChannelClient.connect(server, { callTimeoutMs: 5_000 });
  const answered = client.call('getInfo'); // id 2, answered after 10 000 pings
  const timesOut = client.call('getStats', {}, { timeoutMs: 300 }); // id 3
  const failsOnClose = client.call('ioStatus', { ioId: 1 }); // id 4
  for (let nonce = 0; nonce < 10_000; nonce++) assert.equal((await client.call('ping', { nonce }))['nonce'], BigInt(nonce));
  assert.equal(client.inFlight, 3);
  server.send({ id: 2, info: { driverName: 'EchoDriver', instanceId: 7n } });
  server.send({ id: 2, info: { driverName: 'answered twice' } }); // a late duplicate is ignored
  assert.deepEqual(await answered, { driverName: 'EchoDriver', driverVersion: '', instanceId: 7n, processStartTimeNs: 0n });
  await assert.rejects(timesOut, (e: unknown) => e instanceof CallTimeoutError && e.message === 'channel call getStats (id 3) got no answer within 300 ms');
  assert.equal(client.inFlight, 1);
  const closing = assert.rejects(failsOnClose, ChannelClosedError);
  await client.close();
  await closing;
  assert.equal(client.inFlight, 0);
});
test('a non-OK status is CallFailedError with code and name; a silent server is CallTimeoutError', async () => {
  const server = echoServer((request) => request['body'] === 'ioStop'
    ? { id: request['id'], status: { code: 5, message: 'no io 99' } } : undefined);
  const client = await ChannelClient.connect(server, { callTimeoutMs: 50 });
  await assert.rejects(client.call('io_stop', { ioId: 99 }), (e: unknown) =>
    e instanceof CallFailedError && e.code === 5 && e.codeName === 'NOT_FOUND' && e.message === 'channel call ioStop failed: NOT_FOUND (5): no io 99');
  await assert.rejects(client.call('getInfo'), (e: unknown) =>
    e instanceof CallTimeoutError && e.message === 'channel call getInfo (id 3) got no answer within 50 ms');
  await assert.rejects(client.call('reboot'), /unknown channel method 'reboot'/);
  assert.equal((await client.call('ping', { nonce: 9 }))['nonce'], 9n, 'the session goes on after a timeout');
  await client.close();
});

test('deadlines: each call fails at its own deadline, a shorter one after a longer one included, answered calls never', async () => {
  const held: PlainMessage[] = [];
  const server = echoServer((request) => { held.push(request); return undefined; });
  const client = await ChannelClient.connect(server, { callTimeoutMs: 400 });
  const started = performance.now();
  const settled = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => e).then((r) => ({ r, ms: performance.now() - started }));
  const long = settled(client.call('getInfo')); // 400 ms, armed first
  const short = settled(client.call('getStats', {}, { timeoutMs: 60 })); // earlier deadline: the timer must re-arm
  const answered = settled(client.call('resetStats', {}, { timeoutMs: 100 }));
  const mid = settled(client.call('ioStatus', {}, { timeoutMs: 150 }));
  server.send({ id: held[2]!['id'], resetStats: {} });
  const [l, s, a, m] = await Promise.all([long, short, answered, mid]);
  assert.ok(s.r instanceof CallTimeoutError && s.r.message === 'channel call getStats (id 3) got no answer within 60 ms');
  assert.ok(s.ms >= 59 && s.ms < 300, `60 ms deadline fired after ${s.ms} ms`);
  assert.equal(a.r, 'answered');
  assert.ok(m.r instanceof CallTimeoutError && m.ms >= 149 && m.ms < 380, `150 ms deadline fired after ${m.ms} ms`);
  assert.ok(l.r instanceof CallTimeoutError && l.r.message === 'channel call getInfo (id 2) got no answer within 400 ms');
  assert.ok(l.ms >= 399, `400 ms deadline fired after ${l.ms} ms`);
  assert.equal(client.inFlight, 0);
  await client.close();
});

test('an idle client holds no timer: the deadline timer goes when the last call is answered', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const server = echoServer();
  const client = await ChannelClient.connect(server, { callTimeoutMs: 60_000 });
  const idle = timers();
  const call = client.call('ping', { nonce: 1 });
  assert.equal(timers(), idle + 1, 'a call in flight has its deadline armed');
  await call;
  assert.equal(timers(), idle, 'nothing in flight, no timer (it would keep a script alive for 60 s)');
  await client.close();
});

test('Hello: an old or refusing server is ProtocolMismatchError', async () => {
  const old = new FakeServer((r) => ({ id: r['id'], hello: { ...HELLO_OK, protocolVersion: 0 } }));
  queueMicrotask(() => old.send(OPENED));
  await assert.rejects(ChannelClient.connect(old), (e: unknown) =>
    e instanceof ProtocolMismatchError && /speaks channel protocol version 0; this client needs >= 1/.test(e.message));
  assert.ok(old.closed);
  const refusing = new FakeServer((r) => ({ id: r['id'], status: { code: 9, message: 'too new' } }));
  queueMicrotask(() => refusing.send(OPENED));
  await assert.rejects(ChannelClient.connect(refusing), /the server refused Hello: FAILED_PRECONDITION: too new/);
});

test('open failures: OPEN_FAILED frame, exit codes 69 / 77 / 127 / 64, no OPENED in time', async () => {
  const noMatch = new FakeServer(() => undefined);
  queueMicrotask(() => noMatch.send({ id: 0, bridgeStatus: { state: 'OPEN_FAILED', ioReturn: 0xe00002c0 | 0, message: '3 services match; pass --registry-id' } }));
  await assert.rejects(ChannelClient.connect(noMatch, { match: 'IOUserClass=EchoDriver' }), (e: unknown) =>
    e instanceof NoMatchingServiceError && e.message === 'no unique service matches IOUserClass=EchoDriver: 3 services match; pass --registry-id');
  const denied = new FakeServer(() => undefined);
  queueMicrotask(() => denied.send({ id: 0, bridgeStatus: { state: 'OPEN_FAILED', ioReturn: 0xe00002e2 | 0 } }));
  await assert.rejects(ChannelClient.connect(denied), /not permitted \(kIOReturnNotPermitted\).*userclient-access/);

  const cases: [number, new (...a: never[]) => Error, RegExp][] = [
    [69, NoMatchingServiceError, /no unique service matches IOUserClass=Nope: \{"event":"openFailed"/],
    [77, NotPermittedError, /userclient-access/],
    [127, BridgeNotFoundError, /bridge command not found: fake-bridge — build it with `make -C dext-fixtures\/bridge`/],
    [64, BridgeExitedError, /exited with code 64 \(usage error\): usage: dextbench-bridge/],
  ];
  for (const [code, type, message] of cases) {
    const stderr = code === 64 ? 'usage: dextbench-bridge --match KEY=VALUE...\n' : '{"event":"openFailed","message":"no match"}\n';
    const server = new FakeServer(() => undefined, stderr);
    queueMicrotask(() => server.exit(code));
    await assert.rejects(ChannelClient.connect(server, { match: 'IOUserClass=Nope' }), (e: unknown) => e instanceof type && message.test(e.message), `exit ${code}`);
  }
  const silent = new FakeServer(() => undefined);
  await assert.rejects(ChannelClient.connect(silent, { timeoutMs: 30 }), (e: unknown) =>
    e instanceof ConnectTimeoutError && /did not report OPENED within 30 ms/.test(e.message));
  assert.ok(silent.closed, 'a failed connect closes the transport');
});

test('termination: TERMINATED frame or exit 2 rejects every pending call and resolves `terminated`', async () => {
  for (const how of ['frame', 'exit 2', 'UNAVAILABLE then frame'] as const) {
    const server = echoServer(() => undefined);
    const client = await ChannelClient.connect(server);
    const pending = [client.call('getInfo'), client.call('ioStatus', { ioId: 1 }), client.call('getStats')];
    if (how === 'exit 2') server.exit(2);
    else {
      if (how === 'UNAVAILABLE then frame') server.send({ id: 2, status: { code: 14, message: 'service terminated during the call' } });
      server.send({ id: 0, bridgeStatus: { state: 'TERMINATED', registryId: '1', ioReturn: 0xe00002eb | 0 } });
    }
    for (const call of pending) await assert.rejects(call, ServiceTerminatedError, how);
    const info = await client.terminated;
    assert.equal(info.ioReturn, how === 'exit 2' ? 0 : 0xe00002eb | 0);
    await assert.rejects(client.call('ping'), ServiceTerminatedError);
  }
  const server = echoServer();
  const client = await ChannelClient.connect(server);
  const call = client.call('getInfo');
  server.send({ id: 0, bridgeStatus: { state: 'TERMINATED' } });
  await assert.rejects(call, (e: unknown) => e instanceof ServiceTerminatedError
    && e.message === 'channel call getInfo (id 2): EchoDriver (registry id 18446744073709551615) terminated: the dext crashed or the device was unplugged');
});

test('malformed input from the far side: bad header, undecodable Response, stream ending inside a frame', async () => {
  const feeds: [string, (s: FakeServer) => void, RegExp][] = [
    ['varint > 3 bytes', (s) => s.raw(Buffer.from('80808001', 'hex')), /length varint longer than 3 bytes/],
    ['length 0', (s) => s.raw(Buffer.from('00', 'hex')), /length 0/],
    ['garbage message', (s) => s.raw(Buffer.from('03ffffff', 'hex')), /undecodable dextbench\.v1\.Response/],
    ['cut frame', (s) => { s.raw(Buffer.from('0508', 'hex')); s.exit(0); }, /stream ended inside a frame/],
  ];
  for (const [name, feed, message] of feeds) {
    const server = echoServer(() => undefined);
    const client = await ChannelClient.connect(server);
    const call = client.call('getInfo');
    feed(server);
    await assert.rejects(call, (e: unknown) => e instanceof MalformedFrameError && message.test(e.message), name);
    await assert.rejects(client.call('ping'), MalformedFrameError);
  }
  // The bridge refusing one of our frames: its id-0 error, then exit 65.
  const server = echoServer(() => undefined);
  const client = await ChannelClient.connect(server);
  const call = client.call('getInfo');
  server.send({ id: 0, status: { code: 3, message: 'malformed frame: input ended inside a frame' } });
  server.exit(65);
  await assert.rejects(call, /rejected a frame from the harness \(INVALID_ARGUMENT: malformed frame: input ended inside a frame\) and exited 65/);
});

test('events: batches flattened in order, gaps reported, unknown kinds skipped, waitForEvent sees the past', async () => {
  const server = echoServer();
  const client = await ChannelClient.connect(server);
  const event = (seq: bigint, body: PlainMessage) => ({ seq, timeNs: 1000n + seq, ...body });
  server.send({ id: 0, eventBatch: { events: [event(1n, { started: {} }), event(2n, { log: { level: 'LOG_LEVEL_INFO', text: 'hi' } })] } });
  server.send({ id: 0, eventBatch: { events: [event(3n, {}), event(6n, { ioDone: { ioId: 1n, state: 'IO_STATE_DONE', bytesDone: 1n << 40n } })] } });
  const started = await client.waitForEvent((e) => e.kind === 'started', { timeoutMs: 100 });
  assert.equal(started.seq, 1n);
  const items: unknown[] = [];
  const iterator = client.events();
  for (let i = 0; i < 4; i++) items.push((await iterator.next()).value);
  assert.deepEqual(items.map((e) => (e as { kind: string }).kind), ['started', 'log', 'gap', 'ioDone']);
  assert.deepEqual(items[2], { kind: 'gap', expectedSeq: 4n, seq: 6n, lost: 2n });
  assert.equal(((items[3] as PlainMessage)['ioDone'] as PlainMessage)['bytesDone'], 1n << 40n);
  const later = client.waitForEvent((e) => e.kind === 'stopping', { timeoutMs: 1000 });
  server.send({ id: 0, eventBatch: { events: [event(7n, { stopping: {} })] } });
  assert.equal((await later).seq, 7n);
  await assert.rejects(client.waitForEvent((e) => e.kind === 'stopping', { timeoutMs: 20, includePast: false }), /no matching channel event within 20 ms/);
  assert.equal((await iterator.next()).value?.kind, 'stopping');
  const end = iterator.next();
  await client.close();
  assert.equal((await end).done, true, 'iterators end when the channel closes');
});
