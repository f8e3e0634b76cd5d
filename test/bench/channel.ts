// Channel figures, each beside a baseline measured in the same run (shared, noisy machines):
//  channel_rtt_per_s   Ping round trips/s through dextbench-bridge-inproc's stdio, 64 calls in flight
//                      (framing + protobuf both ways + the C bridge + libdextbench)
//  raw_echo_rtt_per_s  a Ping frame echoed by `cat`, 64 in flight, through the same driver, framing and
//                      stdio writer: the ceiling (no protobuf, no bridge)
//  channel_p50_us / channel_p99_us  latency of one Ping with nothing else in flight
//  channel_sim_rtt_per_s  the same pipelined Pings through the simulated Mac's `dextbench-bridge` shim
//                      (shim → sim daemon → the C bridge → dextbench-sim-dext, one synchronous call
//                      per request over a socket, as IOConnectCallStructMethod is one per request):
//                      what a `call` step on the sim rig gets. No target: the relays are the simulator's.
//  prbs_verify_MBps    PRBS31 verification (createPatternVerifier) in 1 MiB chunks
//  memcmp_MBps         Buffer.compare of the same bytes against a copy: the memory-bandwidth ceiling
// Run alone: `tsx test/bench/channel.ts`; `npm run bench` calls channelBenchmarks().
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalExec } from '../../harness/host/exec.ts';
import { DEXTS, simConfig, startSim, waitFor } from '../sim/support.ts';
import {
  bridgeTransport, createPatternGenerator, createPatternVerifier, encodeFrame, FrameDecoder, loadChannelCodec, openBridge,
} from '../../harness/channel/index.ts';

const root = resolve(import.meta.dirname, '../..');
const bridgeBin = join(root, 'dext-fixtures/bridge/build/dextbench-bridge-inproc');
const IN_FLIGHT = 64;
const RUN_MS = 1500;
const WARM_MS = 300;
const VERIFY_BYTES = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export interface ChannelBenchmarks {
  channel_rtt_per_s: number;
  raw_echo_rtt_per_s: number;
  channel_p50_us: number;
  channel_p99_us: number;
  channel_sim_rtt_per_s: number;
  prbs_verify_MBps: number;
  memcmp_MBps: number;
}

export async function channelBenchmarks(): Promise<ChannelBenchmarks> {
  const make = spawnSync('make', ['-C', join(root, 'dext-fixtures/bridge')], { encoding: 'utf8', timeout: 300_000 });
  if (make.status !== 0) throw new Error(`make -C dext-fixtures/bridge failed: ${make.stderr.trim().split('\n').at(-1)}`);
  const exec = new LocalExec();

  const client = await openBridge(exec, { match: { IOUserClass: 'EchoDriver' }, command: [bridgeBin], timeoutMs: 10_000 });
  let channelRtt: number;
  const latencies: number[] = [];
  try {
    channelRtt = await pipelinedRate((nonce) => client.call('ping', { nonce }));
    const latencyEnd = performance.now() + RUN_MS;
    while (performance.now() < latencyEnd) {
      const t0 = performance.now();
      await client.call('ping', { nonce: 1 });
      latencies.push((performance.now() - t0) * 1000);
    }
  } finally {
    await client.close();
  }
  latencies.sort((a, b) => a - b);

  const rawEcho = await rawEchoRtt(exec);
  const simRtt = await simBridgeRtt();

  const data = new Uint8Array(VERIFY_BYTES);
  createPatternGenerator('PRBS31', 1).fill(data);
  const copy = Uint8Array.from(data);
  const verifier = createPatternVerifier('PRBS31', 1);
  let t0 = performance.now();
  for (let pos = 0; pos < data.length; pos += CHUNK) verifier.push(data.subarray(pos, pos + CHUNK));
  const verifySeconds = (performance.now() - t0) / 1000;
  if (verifier.result().errors !== 0) throw new Error('PRBS31 verification failed on its own stream');
  t0 = performance.now();
  let unequal = 0;
  for (let pos = 0; pos < data.length; pos += CHUNK) unequal += Buffer.compare(data.subarray(pos, pos + CHUNK), copy.subarray(pos, pos + CHUNK)) === 0 ? 0 : 1;
  const compareSeconds = (performance.now() - t0) / 1000;
  if (unequal !== 0) throw new Error('memcmp baseline saw unequal copies');

  return {
    channel_rtt_per_s: Math.round(channelRtt),
    raw_echo_rtt_per_s: Math.round(rawEcho),
    channel_p50_us: Math.round(latencies[Math.floor(latencies.length * 0.5)]!),
    channel_p99_us: Math.round(latencies[Math.floor(latencies.length * 0.99)]!),
    channel_sim_rtt_per_s: Math.round(simRtt),
    prbs_verify_MBps: Math.round(VERIFY_BYTES / 1e6 / verifySeconds),
    memcmp_MBps: Math.round(VERIFY_BYTES / 1e6 / compareSeconds),
  };
}

/**
 * Round trips/s of `roundTrip` driven by IN_FLIGHT workers, each starting its next round trip when
 * the last one resolves; after WARM_MS of the same load (JIT, pipe buffers), not counted.
 */
async function pipelinedRate(roundTrip: (nonce: number) => Promise<unknown>): Promise<number> {
  const run = async (ms: number): Promise<number> => {
    let done = 0;
    const started = performance.now();
    const end = started + ms;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      for (let n = 0; performance.now() < end; n++) {
        await roundTrip(worker * 1_000_000 + n);
        done++;
      }
    }));
    return done / ((performance.now() - started) / 1000);
  };
  await run(WARM_MS);
  return run(RUN_MS);
}

/**
 * The ceiling: the same driver and the harness's framing and stdio path (encodeFrame per frame,
 * bridgeTransport's writes, FrameDecoder), with `cat` instead of the bridge and no protobuf.
 * `cat` echoes in order, so a FIFO of waiters stands in for routing by id.
 */
async function rawEchoRtt(exec: LocalExec): Promise<number> {
  const message = loadChannelCodec().encodeRequest({ id: 1, ping: { nonce: 123456 } });
  const cat = exec.spawn(['cat']);
  const transport = bridgeTransport(cat);
  const decoder = new FrameDecoder();
  const waiting: (() => void)[] = [];
  transport.onData((chunk) => {
    for (let echoed = decoder.push(chunk).length; echoed > 0; echoed--) waiting.shift()!();
  });
  try {
    return await pipelinedRate(() => new Promise<void>((resolveEcho) => {
      waiting.push(resolveEcho);
      transport.write(encodeFrame(message));
    }));
  } finally {
    transport.close();
    await cat.exited;
  }
}

/** Pipelined Pings through a simulated Mac's `dextbench-bridge` shim, to the echo dext it runs. */
async function simBridgeRtt(): Promise<number> {
  const sim = await startSim(simConfig({ developerMode: true, dextServer: 'c' }));
  try {
    const step = async (tool: string, args: string[]): Promise<void> => {
      const r = await sim.run(tool, args);
      if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    };
    await step('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    await step('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on']);
    await waitFor('the echo dext matched', async () => /"IOUserClass" = "EchoDriver"/.test((await sim.run('ioreg', ['-r', '-l', '-w0', '-c', 'IOUserService'])).stdout), 10_000);
    const client = await openBridge(new LocalExec({ pathPrefix: [sim.binDir] }), { match: { IOUserClass: 'EchoDriver' }, timeoutMs: 10_000 });
    try {
      return await pipelinedRate((nonce) => client.call('ping', { nonce }));
    } finally {
      await client.close();
    }
  } finally {
    await sim.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await channelBenchmarks(), null, 2));
}
