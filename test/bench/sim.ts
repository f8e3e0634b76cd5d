// Figures of the simulated Mac end to end, through what a scenario on the sim rig uses: commands
// through LocalExec and the sim's shims, the channel through the `dextbench-bridge` shim, the
// daemon and the dext process (libdextbench's C model in dextbench-sim-dext), io as the `io` step
// runs it. Baselines from the same run beside them.
//  sim_command_ms      median wall time of `sw_vers` through LocalExec: shim → daemon → tool → back
//  node_start_ms       median wall time of `node -e 0` through the same LocalExec (what a Node shim
//                      costs at least); target: sim_command_ms <= 0.2 x node_start_ms
//  channel_sim_calls_per_s, channel_sim_p50_us, channel_sim_p99_us
//                      Ping calls with one in flight (as `call` steps make them), their rate and
//                      latency: ChannelClient → shim → daemon → C bridge → dext process and back
//  channel_sim_rtt_per_s  the same with 64 calls in flight
//  ssh_cmd_ms          median wall time of `sw_vers` through the ssh Exec (one ControlMaster, the
//                      perl wrapper) to a real sshd on 127.0.0.1, the sim's shim on the far side
//  ssh_fresh_cmd_ms    median of a fresh `ssh host sw_vers` with the same keys and options (key
//                      exchange and authentication each time), as a shell-scripted rig runs
//                      commands; target: ssh_fresh_cmd_ms >= 10 x ssh_cmd_ms
//  channel_ssh_rtt_per_s  channel_sim_rtt_per_s's calls through a bridge spawned over that ssh Exec
//                      (the sshd, the master and the mux client in the path), 64 in flight
//  io_sim_MBps, io_sim_status_p50_us, io_sim_status_p99_us
//                      a 1 GiB PRBS31 loopback io (startIo/followIo, as the `io` step): the dext
//                      generates and verifies every byte; MB/s by the dext's clock, the latency of
//                      the IoStatus polls meanwhile. The simulated device's pace is lifted, so the
//                      figure is the dext's, not the device's.
// Run alone: `tsx test/bench/sim.ts` (one JSON line); `npm run bench` runs it on one CPU (bench.ts).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBridge, type ChannelClient } from '../../harness/channel/index.ts';
import { spawnSync } from 'node:child_process';
import { LocalExec, type Exec } from '../../harness/host/exec.ts';
import { hostExec, type SshExec, type SshTarget } from '../../harness/host/ssh.ts';
import { startSimSshd } from '../support/sim-sshd.ts';
import { followIo, startIo } from '../../harness/steps/support/io.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from '../sim/support.ts';
import { median, percentile, pipelinedRate, RUN_MS } from './support.ts';

const COMMANDS = 41;
const WARM_MS = 1000;
const IO_BYTES = 1 << 30;
/** Far above what one core generates and verifies: the device never holds the dext back. */
const UNPACED_BYTES_PER_SECOND = 1e12;

export interface SimBenchmarks {
  sim_command_ms: number;
  node_start_ms: number;
  channel_sim_calls_per_s: number;
  channel_sim_p50_us: number;
  channel_sim_p99_us: number;
  channel_sim_rtt_per_s: number;
  ssh_cmd_ms: number;
  ssh_fresh_cmd_ms: number;
  channel_ssh_rtt_per_s: number;
  io_sim_MBps: number;
  io_sim_status_p50_us: number;
  io_sim_status_p99_us: number;
}

/** A simulated Mac with the echo dext matched, served by the C dext process. */
export async function startEchoSim(): Promise<Sim> {
  const sim = await startSim(simConfig({ developerMode: true, dextServer: 'c', ioBytesPerSecond: UNPACED_BYTES_PER_SECOND }));
  const step = async (tool: string, args: string[]): Promise<void> => {
    const r = await sim.run(tool, args);
    if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  };
  try {
    await step('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    await step('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on']);
    await waitFor('the echo dext matched', async () => /"IOUserClass" = "EchoDriver"/.test((await sim.run('ioreg', ['-r', '-l', '-w0', '-c', 'IOUserService'])).stdout), 10_000);
    return sim;
  } catch (error) {
    await sim.stop();
    throw error;
  }
}

export function simExec(sim: Sim): LocalExec {
  return new LocalExec({ pathPrefix: [sim.binDir] });
}

/** Median ms of a simulated command and of a Node start, interleaved so both see the same load. */
export async function commandCost(exec: Exec): Promise<Pick<SimBenchmarks, 'sim_command_ms' | 'node_start_ms'>> {
  const timed = async (argv: string[]): Promise<number> => {
    const t0 = performance.now();
    await exec.run(argv);
    return performance.now() - t0;
  };
  const sim: number[] = [];
  const node: number[] = [];
  await timed(['sw_vers']); // the first command pays for cold caches
  for (let i = 0; i < COMMANDS; i++) {
    sim.push(await timed(['sw_vers']));
    node.push(await timed([process.execPath, '-e', '0']));
  }
  return { sim_command_ms: round(median(sim), 2), node_start_ms: round(median(node), 2) };
}

export function openEcho(exec: Exec): Promise<ChannelClient> {
  return openBridge(exec, { match: { IOUserClass: 'EchoDriver' }, timeoutMs: 10_000 });
}

export async function channelCalls(client: ChannelClient): Promise<Pick<SimBenchmarks, 'channel_sim_calls_per_s' | 'channel_sim_p50_us' | 'channel_sim_p99_us' | 'channel_sim_rtt_per_s'>> {
  const latencies: number[] = [];
  // The pipelined run first: its warm-up (JIT in the client and the daemon) serves both figures.
  const pipelined = await pipelinedRate((nonce) => client.call('ping', { nonce }), WARM_MS);
  const started = performance.now();
  const end = started + RUN_MS;
  while (performance.now() < end) {
    const t0 = performance.now();
    await client.call('ping', { nonce: 1 });
    latencies.push((performance.now() - t0) * 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    channel_sim_calls_per_s: Math.round(latencies.length / seconds),
    channel_sim_p50_us: Math.round(percentile(latencies, 0.5)),
    channel_sim_p99_us: Math.round(percentile(latencies, 0.99)),
    channel_sim_rtt_per_s: Math.round(pipelined),
  };
}

export async function ioThroughDext(client: ChannelClient): Promise<Pick<SimBenchmarks, 'io_sim_MBps' | 'io_sim_status_p50_us' | 'io_sim_status_p99_us'>> {
  const ioId = await startIo(client, { mode: 'loopback', bytes: IO_BYTES, pattern: 'prbs31', seed: 1 });
  const o = await followIo(client, ioId, BigInt(IO_BYTES), 120_000);
  if (o.state !== 'done' || o.errors !== 0n) throw new Error(`io ended ${o.state} with ${o.errors} errors after ${o.bytesDone} bytes${o.reason ? ` (${o.reason})` : ''}`);
  return { io_sim_MBps: Math.round(o.MBps), io_sim_status_p50_us: Math.round(o.statusRttP50Us), io_sim_status_p99_us: Math.round(o.statusRttP99Us) };
}

/** The same simulated Mac reached over ssh: commands over the master vs fresh ssh, and the channel. */
export async function overSsh(sim: Sim): Promise<Pick<SimBenchmarks, 'ssh_cmd_ms' | 'ssh_fresh_cmd_ms' | 'channel_ssh_rtt_per_s'>> {
  const sshd = await startSimSshd();
  const target: SshTarget = { ssh: '127.0.0.1', port: sshd.port, identityFile: sshd.identityFile, options: [`UserKnownHostsFile=${sshd.knownHosts}`, 'SetEnv=SHLVL=1'] };
  const exec = hostExec(target, { pathPrefix: [sim.binDir] }) as SshExec;
  const freshArgs = ['-p', String(sshd.port), '-i', sshd.identityFile, '-o', 'IdentitiesOnly=yes', ...target.options!.flatMap((o) => ['-o', o]), '-o', 'BatchMode=yes', '-o', 'ControlPath=none', '127.0.0.1', `PATH=${sim.binDir}:$PATH sw_vers`];
  const timed = async (run: () => Promise<unknown> | unknown): Promise<number> => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
  const master: number[] = [];
  const fresh: number[] = [];
  await exec.run(['sw_vers']); // connects the master
  for (let i = 0; i < COMMANDS; i++) {
    master.push(await timed(() => exec.run(['sw_vers'])));
    fresh.push(await timed(() => {
      const r = spawnSync('ssh', freshArgs, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`fresh ssh sw_vers exited ${r.status}: ${r.stderr.trim()}`);
    }));
  }
  const client = await openEcho(exec);
  try {
    const rtt = await pipelinedRate((nonce) => client.call('ping', { nonce }), WARM_MS);
    return { ssh_cmd_ms: round(median(master), 2), ssh_fresh_cmd_ms: round(median(fresh), 2), channel_ssh_rtt_per_s: Math.round(rtt) };
  } finally {
    await client.close();
    await exec.close();
  }
}

export async function simBenchmarks(): Promise<SimBenchmarks> {
  const sim = await startEchoSim();
  try {
    const exec = simExec(sim);
    const commands = await commandCost(exec);
    const client = await openEcho(exec);
    try {
      const channel = await channelCalls(client);
      const ssh = await overSsh(sim);
      return { ...commands, ...channel, ...ssh, ...await ioThroughDext(client) };
    } finally {
      await client.close();
    }
  } finally {
    await sim.stop();
  }
}

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await simBenchmarks()));
}
