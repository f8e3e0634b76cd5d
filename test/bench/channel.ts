// Channel figures that need no simulated Mac, each beside a baseline measured in the same run:
//  channel_inproc_rtt_per_s  Ping round trips/s, 64 in flight, through dextbench-bridge-inproc's
//                      stdio: the harness's framing and protobuf both ways, the C bridge core and
//                      libdextbench, with an in-process dext stand-in and no IOKit. Not what a
//                      Mac gives (no kernel crossing, no dext process); no target.
//  raw_echo_rtt_per_s  a Ping frame echoed by `cat`, 64 in flight, through the same driver, framing
//                      and stdio writer: the ceiling of that path (no protobuf, no bridge)
//  channel_inproc_p50_us / channel_inproc_p99_us  latency of one Ping with nothing else in flight
//  prbs_verify_MBps    PRBS31 verification on the host (createPatternVerifier) in 1 MiB chunks: the
//                      host-side verifier the node-usb lane will use (on the sim and through a dext,
//                      the dext verifies). Target: >= 1000 MB/s on one core.
//  memcmp_MBps         Buffer.compare of the same bytes against a copy: the memory-bandwidth ceiling
// Run alone: `tsx test/bench/channel.ts` (one JSON line); `npm run bench` runs it on one CPU (bench.ts).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalExec } from '../../harness/host/exec.ts';
import {
  bridgeTransport, createPatternGenerator, createPatternVerifier, encodeFrame, FrameDecoder, loadChannelCodec, openBridge,
} from '../../harness/channel/index.ts';
import { percentile, pipelinedRate, RUN_MS } from './support.ts';

const root = resolve(import.meta.dirname, '../..');
const bridgeBin = join(root, 'dext-fixtures/bridge/build/dextbench-bridge-inproc');
const VERIFY_BYTES = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export interface InprocBenchmarks {
  channel_inproc_rtt_per_s: number;
  raw_echo_rtt_per_s: number;
  channel_inproc_p50_us: number;
  channel_inproc_p99_us: number;
}

export interface VerifierBenchmarks {
  prbs_verify_MBps: number;
  memcmp_MBps: number;
}

export type ChannelBenchmarks = InprocBenchmarks & VerifierBenchmarks;

export async function inprocBenchmarks(): Promise<InprocBenchmarks> {
  const make = spawnSync('make', ['-C', join(root, 'dext-fixtures/bridge')], { encoding: 'utf8', timeout: 300_000 });
  if (make.status !== 0) throw new Error(`make -C dext-fixtures/bridge failed: ${make.stderr.trim().split('\n').at(-1)}`);
  const exec = new LocalExec();

  const client = await openBridge(exec, { match: { IOUserClass: 'EchoDriver' }, command: [bridgeBin], timeoutMs: 10_000 });
  let rtt: number;
  const latencies: number[] = [];
  try {
    rtt = await pipelinedRate((nonce) => client.call('ping', { nonce }));
    const latencyEnd = performance.now() + RUN_MS;
    while (performance.now() < latencyEnd) {
      const t0 = performance.now();
      await client.call('ping', { nonce: 1 });
      latencies.push((performance.now() - t0) * 1000);
    }
  } finally {
    await client.close();
  }
  return {
    channel_inproc_rtt_per_s: Math.round(rtt),
    raw_echo_rtt_per_s: Math.round(await rawEchoRtt(exec)),
    channel_inproc_p50_us: Math.round(percentile(latencies, 0.5)),
    channel_inproc_p99_us: Math.round(percentile(latencies, 0.99)),
  };
}

export function verifierBenchmarks(): VerifierBenchmarks {
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
    prbs_verify_MBps: Math.round(VERIFY_BYTES / 1e6 / verifySeconds),
    memcmp_MBps: Math.round(VERIFY_BYTES / 1e6 / compareSeconds),
  };
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures: ChannelBenchmarks = { ...await inprocBenchmarks(), ...verifierBenchmarks() };
  console.log(JSON.stringify(figures));
}
