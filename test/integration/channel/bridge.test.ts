// The TypeScript channel against the real C bridge (dextbench-bridge-inproc: the bridge core with
// libdextbench's loopback model in process), spawned through LocalExec exactly as a rig would.
// Needs cc, make, protoc and nanopb: a lane (test/support/lane.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import {
  bridgeTransport, BridgeNotFoundError, ChannelClient, fillPattern, MalformedFrameError,
  openBridge, ServiceTerminatedError, type ChannelTransport, type PlainMessage,
} from '../../../harness/channel/index.ts';
import { C_TOOLCHAIN, lane } from '../../support/lane.ts';

const root = new URL('../../..', import.meta.url).pathname;
const bridgeBin = join(root, 'dext-fixtures', 'bridge', 'build', 'dextbench-bridge-inproc');
const MATCH = { IOUserClass: 'EchoDriver' };
const INSTANCE_ID = 18446744073709551615n;

const opts = { skip: lane('C channel bridge', C_TOOLCHAIN) };

before(() => {
  if (opts.skip) return;
  const make = spawnSync('make', ['-C', join(root, 'dext-fixtures', 'bridge')], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(make.status, 0, `make -C dext-fixtures/bridge failed:\n${`${make.stdout}${make.stderr}`.slice(-4000)}`);
});

function open(extra: string[] = []): Promise<ChannelClient> {
  return openBridge(new LocalExec(), {
    match: MATCH, registryId: 4294971234n, command: [bridgeBin, '--instance-id', INSTANCE_ID.toString(), ...extra], timeoutMs: 5000,
  });
}

/** The bridge process under a client, reachable for signals (the transport wraps it). */
function openWithProcess(): { client: Promise<ChannelClient>; kill(signal: NodeJS.Signals): void } {
  const child = new LocalExec().spawn([bridgeBin, '--match', 'IOUserClass=EchoDriver', '--instance-id', '7']);
  return { client: ChannelClient.connect(bridgeTransport(child), { timeoutMs: 5000 }), kill: (s) => child.kill(s) };
}

test('connect, Hello, Ping with out-of-line data, GetInfo with the exact 64-bit instance id', opts, async () => {
  const client = await open();
  try {
    assert.deepEqual(client.bridge, { registryId: 4294971234n, userClass: 'EchoDriver', transport: 'inproc' });
    assert.deepEqual(client.server, {
      protocolVersion: 1, capabilities: ['loopback', 'endpoint', 'faults', 'events'], maxInlineBytes: 4096, maxMessageBytes: 16384, eventQueueCapacity: 64,
    });
    const data = new Uint8Array(6000);
    fillPattern('PRBS15', 3, data);
    const pong = await client.call('Ping', { nonce: (1n << 63n) + 5n, data });
    assert.equal(pong['nonce'], (1n << 63n) + 5n);
    assert.deepEqual(new Uint8Array(pong['data'] as Uint8Array), data);
    assert.equal(typeof pong['timeNs'], 'bigint');
    const info = await client.call('GetInfo');
    assert.equal(info['driverName'], 'EchoDriver');
    assert.equal(info['instanceId'], INSTANCE_ID);
    const started = await client.waitForEvent((e) => e.kind === 'started', { timeoutMs: 2000 });
    assert.equal(started.seq, 1n);
  } finally {
    await client.close();
  }
});

test('IoStart loopback: IoStatus until DONE with 0 errors, and the forwarded IoDone agrees', opts, async () => {
  const client = await open();
  try {
    const bytes = 1n << 20n;
    const { ioId } = await client.call('ioStart', { mode: 'loopback', byteCount: bytes, pattern: 'prbs31', seed: 7, chunkSize: 16384 });
    assert.equal(ioId, 1n);
    let status: PlainMessage = {};
    const deadline = Date.now() + 10_000;
    for (;;) {
      status = await client.call('IoStatus', { ioId });
      if (status['state'] !== 'IO_STATE_RUNNING') break;
      assert.ok(Date.now() < deadline, 'io finished within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status['state'], 'IO_STATE_DONE');
    assert.equal(status['errors'], 0n);
    assert.equal(status['bytesDone'], bytes);
    const done = await client.waitForEvent((e) => e.kind === 'ioDone' && (e['ioDone'] as PlainMessage)['ioId'] === ioId, { timeoutMs: 5000 });
    assert.deepEqual(done['ioDone'], { ioId, state: 'IO_STATE_DONE', bytesDone: bytes, errors: 0n });
  } finally {
    await client.close();
  }
});

test('64 pipelined pings: all in flight at once, each answer matched to its id', opts, async () => {
  const client = await open();
  try {
    const calls = Array.from({ length: 64 }, (_, i) => client.call('ping', { nonce: BigInt(i) * 1_000_000_007n }));
    assert.equal(client.inFlight, 64);
    const pongs = await Promise.all(calls);
    pongs.forEach((p, i) => assert.equal(p['nonce'], BigInt(i) * 1_000_000_007n));
    assert.equal(client.inFlight, 0);
  } finally {
    await client.close();
  }
});

test('a burst of 1000 calls in one tick (written to the pipe in batches) is answered in order, byte for byte', opts, async () => {
  const client = await open();
  try {
    const data = Buffer.from('batch');
    const pongs = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.call('ping', { nonce: BigInt(i) << 40n, data })));
    pongs.forEach((pong, i) => {
      assert.equal(pong['nonce'], BigInt(i) << 40n);
      assert.deepEqual(pong['data'], data);
    });
    const stamps = pongs.map((p) => p['timeNs'] as bigint);
    assert.ok(stamps.every((t, i) => i === 0 || t >= stamps[i - 1]!), 'the bridge answered in request order');
  } finally {
    await client.close();
  }
});

test('SIGUSR1 (unplug) while a call is in flight: ServiceTerminatedError, `terminated` resolves, no hang', opts, async () => {
  const bridge = openWithProcess();
  const client = await bridge.client;
  // Stopped, the bridge cannot answer; SIGUSR1 is handled as soon as it continues. It checks for
  // termination after every request it serves, so of calls queued while it was stopped at most the
  // first can still be answered (if it was stopped outside poll()); the rest are certainly mid-call.
  bridge.kill('SIGSTOP');
  const calls = Array.from({ length: 8 }, () => client.call('getInfo', {}, { timeoutMs: 5000 }));
  await new Promise((r) => setTimeout(r, 50));
  bridge.kill('SIGUSR1');
  bridge.kill('SIGCONT');
  const outcomes = await Promise.allSettled(calls);
  const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  assert.ok(rejected.length >= 7, `${rejected.length} of 8 calls rejected`);
  for (const { reason } of rejected) {
    assert.ok(reason instanceof ServiceTerminatedError && /getInfo \(id \d+\).*terminated/.test(reason.message), String(reason));
  }
  assert.deepEqual(await client.terminated, { ioReturn: 0, message: 'service terminated' });
  await assert.rejects(client.call('ping'), ServiceTerminatedError);
  await client.close();
});

test('InjectFault CRASH: the call fails ServiceTerminatedError and the session reports terminated', opts, async () => {
  const client = await open();
  const crash = client.call('injectFault', { kind: 'crash' });
  await assert.rejects(crash, (e: unknown) => e instanceof ServiceTerminatedError && /service terminated during the call/.test(e.message));
  const info = await client.terminated;
  assert.equal(info.ioReturn >>> 0, 0xe00002eb);
  await client.close();
});

test('malformed frames: garbage from the bridge side and garbage sent to the bridge both end as MalformedFrameError', opts, async () => {
  // Bridge → harness: a transport that splices garbage into what the bridge sent.
  const child = new LocalExec().spawn([bridgeBin, '--match', 'IOUserClass=EchoDriver']);
  const inner = bridgeTransport(child);
  let inject: ((chunk: Uint8Array) => void) | undefined;
  const tampered: ChannelTransport = { ...inner, onData: (listener) => { inject = listener; inner.onData(listener); } };
  const client = await ChannelClient.connect(tampered, { timeoutMs: 5000 });
  const pending = client.call('getInfo');
  inject!(Buffer.from('80808001', 'hex'));
  await assert.rejects(pending, (e: unknown) => e instanceof MalformedFrameError && /length varint longer than 3 bytes/.test(e.message));
  await client.close();
  assert.equal((await child.exited).exitCode, 0, 'close() ends the bridge at a frame boundary');

  // Harness → bridge: a length-0 header ahead of a call. The bridge answers id 0 INVALID_ARGUMENT
  // and exits 65 without reaching the call.
  const child2 = new LocalExec().spawn([bridgeBin, '--match', 'IOUserClass=EchoDriver']);
  const transport = bridgeTransport(child2);
  const client2 = await ChannelClient.connect(transport, { timeoutMs: 5000 });
  transport.write(Buffer.from('00', 'hex'));
  await assert.rejects(client2.call('ping', {}, { timeoutMs: 5000 }), (e: unknown) => e instanceof MalformedFrameError
    && /rejected a frame from the harness \(INVALID_ARGUMENT: malformed frame: length must be 1\.\.16384.*\) and exited 65$/.test(e.message));
  assert.equal((await child2.exited).exitCode, 65);
});

test('a missing bridge command is BridgeNotFoundError with how to get one', async () => {
  await assert.rejects(openBridge(new LocalExec(), { match: MATCH, command: ['/nonexistent/dextbench-bridge'], timeoutMs: 5000 }),
    (e: unknown) => e instanceof BridgeNotFoundError && /bridge command not found: \/nonexistent\/dextbench-bridge — build it with `make -C dext-fixtures\/bridge`/.test(e.message));
});

test('each Ping answer holds only its own request: no nonce or data left from the call before', opts, async () => {
  // The server reuses its Request/Response structs across calls without clearing them whole.
  const client = await open();
  try {
    const long = Buffer.alloc(300, 0xab);
    assert.deepEqual(pick(await client.call('ping', { nonce: 9n, data: long })), { nonce: 9n, data: long });
    assert.deepEqual(pick(await client.call('ping', { data: Buffer.from('ab') })), { nonce: 0n, data: Buffer.from('ab') });
    assert.deepEqual(pick(await client.call('ping', {})), { nonce: 0n, data: Buffer.alloc(0) });
    assert.equal((await client.call('getInfo'))['driverName'], 'EchoDriver');
    assert.deepEqual(pick(await client.call('ping', { nonce: 3 })), { nonce: 3n, data: Buffer.alloc(0) });
    await assert.rejects(client.call('ioStop', { ioId: 77 }), /NOT_FOUND/);
    assert.deepEqual(pick(await client.call('ping', { nonce: 4, data: Buffer.from('z') })), { nonce: 4n, data: Buffer.from('z') });
  } finally {
    await client.close();
  }
});

function pick(pong: PlainMessage): PlainMessage {
  return { nonce: pong['nonce'], data: Buffer.from(pong['data'] as Uint8Array) };
}
