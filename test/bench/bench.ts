// npm run bench [-- --json]: performance figures, each against a baseline measured in the same run
// on the same machine (these machines are shared and noisy; nothing here is a timed test).
//
// engine_overhead_ms_per_step: the time the engine adds per YAML step (Playwright test.step,
// interpolation, timeline, deadline), from two real `dextbench run`s that differ only in the
// number of `wait: 0ms` steps: (T[many] - T[one]) / (many - 1). Target: < 5 ms.
// sim_suite_s: one `dextbench run` of every shipped scenario (scenarios/), each on the simulated
// rig of rigs/ that has its devices, end to end: Playwright, the engine, every simulated command
// through the sim's shims. Target: < 30 s.
// sim_*, channel_sim_*, io_sim_*: the simulated Mac end to end, see test/bench/sim.ts. Target:
// sim_command_ms <= 0.2 x node_start_ms (a simulated command costs at most a fifth of a Node start).
// ssh_cmd_ms vs ssh_fresh_cmd_ms, channel_ssh_rtt_per_s: the same sim over a real sshd (npm run
// sim:sshd), see test/bench/sim.ts. Target: a command over the master >= 10 x faster than fresh ssh.
// channel_inproc_*, raw_echo_rtt_per_s, prbs_verify_MBps, memcmp_MBps: see test/bench/channel.ts.
// Target: PRBS verification on the host >= 1000 MB/s on one core.
// attach_latency_events_ms vs attach_latency_poll_ms, usb_bulk_MBps vs usb_bulk_raw_MBps: the real-USB
// lane's QEMU guest, see test/bench/usb.ts (null, with the reason, without the lane's tools).
// Targets: polling >= 5 x events; harness loopback >= 0.8 x node-usb's bare transfers.
// history_query_ms vs history_insert_ms_per_run: the `dextbench history` summary over an embedded
// store of 365 runs x 20 scenarios, against appending one run; see test/bench/history.ts. No target.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChannelBenchmarks } from './channel.ts';
import { RUNS as HISTORY_RUNS, SCENARIOS as HISTORY_SCENARIOS, type HistoryBenchmarks } from './history.ts';
import type { SimBenchmarks } from './sim.ts';
import { POLL_INTERVAL_MS, SYSFS_WATCH_MS, type UsbBenchmarks } from './usb.ts';
import { median } from './support.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'harness/cli/bin.js');
const json = process.argv.includes('--json');
const MANY = 400;
const REPEATS = 3;
const COMMAND_RATIO_TARGET = 0.2;
const SSH_RATIO_TARGET = 10;
const ATTACH_RATIO_TARGET = 5;
const BULK_RATIO_TARGET = 0.8;

function runDextbench(args: string[], cwd: string): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, [bin, 'run', '--reporter', 'dot', ...args], { cwd, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`dextbench run ${args.join(' ')} exited ${r.status}`);
  }
  return seconds;
}

/**
 * A figures script (one JSON line) in a child process, on one CPU where taskset exists: on these
 * 2-vCPU VMs, a call's processes spread over both CPUs pay a cross-CPU wake-up per hop, and
 * whether the scheduler spreads them swung call rates 4x between runs. One CPU measures the path.
 */
const PIN = spawnSync('taskset', ['-c', '0', 'true']).status === 0 ? ['taskset', '-c', '0'] : [];

function figuresOnOneCpu<T>(script: string, pin: string[] = PIN): T {
  const argv = [...pin, process.execPath, '--import', 'tsx', join(root, 'test/bench', script)];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`${argv.join(' ')} exited ${r.status}`);
  }
  return JSON.parse(r.stdout) as T;
}

function scenario(steps: number): string {
  return [
    `name: ${steps} empty steps`,
    'steps:',
    ...Array.from({ length: steps }, () => '  - wait: 0ms'),
    '',
  ].join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'dextbench-bench-'));
try {
  writeFileSync(join(dir, 'one.yaml'), scenario(1));
  writeFileSync(join(dir, 'many.yaml'), scenario(MANY));
  const rig = ['--rig', join(root, 'rigs/sim.yaml')];
  const one: number[] = [];
  const many: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    one.push(runDextbench([...rig, join(dir, 'one.yaml')], dir));
    many.push(runDextbench([...rig, join(dir, 'many.yaml')], dir));
  }
  const overheadMs = ((median(many) - median(one)) * 1000) / (MANY - 1);
  // No --rig: each scenario runs once, on a simulated rig of the project that has its devices.
  const suite = runDextbench([join(root, 'scenarios')], dir);

  const sim = figuresOnOneCpu<SimBenchmarks>('sim.ts');
  const channel = figuresOnOneCpu<ChannelBenchmarks>('channel.ts');
  // Not pinned: the QEMU guest runs two vCPU threads.
  const usbFigures = figuresOnOneCpu<UsbBenchmarks>('usb.ts', []);
  const history = figuresOnOneCpu<HistoryBenchmarks>('history.ts');
  const oneCpu = PIN.length > 0;
  const figures = {
    engine_overhead_ms_per_step: Number(overheadMs.toFixed(3)),
    run_baseline_one_step_s: Number(median(one).toFixed(3)),
    sim_suite_s: Number(suite.toFixed(2)),
    ...sim,
    ...channel,
    channels_on_one_cpu: oneCpu,
    ...usbFigures,
    ...history,
  };
  const commandRatio = sim.sim_command_ms / sim.node_start_ms;
  const sshRatio = sim.ssh_fresh_cmd_ms / sim.ssh_cmd_ms;
  if (usbFigures.usb_null_why) console.error(`usb figures are null: ${usbFigures.usb_null_why}`);
  if (json) {
    console.log(JSON.stringify(figures));
  } else {
    const rows = [
      ['figure', 'value', 'what it crosses / baseline / target', 'ok'],
      ['engine_overhead_ms_per_step', figures.engine_overhead_ms_per_step.toFixed(3), `the engine per YAML step; < 5 ms (from ${MANY} vs 1 steps, median of ${REPEATS})`, overheadMs < 5 ? 'yes' : 'NO'],
      ['run_baseline_one_step_s', figures.run_baseline_one_step_s.toFixed(3), 'a one-step `dextbench run` on the sim: Playwright start-up, the sim, the rig', ''],
      ['sim_suite_s', figures.sim_suite_s.toFixed(2), `every shipped scenario in one run, each on a sim rig with its devices; < 30 s (= ${(suite / median(one)).toFixed(1)} x a one-step run)`, suite < 30 ? 'yes' : 'NO'],
      ['sim_command_ms', sim.sim_command_ms.toFixed(2), `sw_vers via LocalExec: shim, daemon, tool; <= ${COMMAND_RATIO_TARGET} x node_start_ms (${commandRatio.toFixed(3)} x)`, commandRatio <= COMMAND_RATIO_TARGET ? 'yes' : 'NO'],
      ['node_start_ms', sim.node_start_ms.toFixed(2), '`node -e 0` via the same LocalExec (what a Node shim costs at least)', ''],
      ['channel_sim_calls_per_s', String(sim.channel_sim_calls_per_s), `Pings, one in flight (as \`call\` steps): client, shim, daemon, C bridge, dext process; ${oneCpu ? 'all on one CPU' : 'unpinned'}`, ''],
      ['channel_sim_p50_us', String(sim.channel_sim_p50_us), 'latency of those calls, end to end', ''],
      ['channel_sim_p99_us', String(sim.channel_sim_p99_us), 'latency of those calls, end to end', ''],
      ['channel_sim_rtt_per_s', String(sim.channel_sim_rtt_per_s), 'the same path, 64 calls in flight', ''],
      ['ssh_cmd_ms', sim.ssh_cmd_ms.toFixed(2), 'sw_vers through the ssh Exec: one ControlMaster to sshd on 127.0.0.1, the perl wrapper, the sim\'s shim', ''],
      ['ssh_fresh_cmd_ms', sim.ssh_fresh_cmd_ms.toFixed(2), `a fresh \`ssh host sw_vers\` (key exchange each time), as shell-scripted rigs do; >= ${SSH_RATIO_TARGET} x ssh_cmd_ms (${sshRatio.toFixed(1)} x)`, sshRatio >= SSH_RATIO_TARGET ? 'yes' : 'NO'],
      ['channel_ssh_rtt_per_s', String(sim.channel_ssh_rtt_per_s), `channel_sim_rtt_per_s's pings through a bridge spawned over ssh, 64 in flight (${(sim.channel_ssh_rtt_per_s / sim.channel_sim_rtt_per_s).toFixed(2)} x channel_sim_rtt_per_s)`, ''],
      ['io_sim_MBps', String(sim.io_sim_MBps), '1 GiB PRBS31 loopback io in the simulated dext process (generate + verify), device pace lifted', ''],
      ['io_sim_status_p50_us', String(sim.io_sim_status_p50_us), 'IoStatus polls during that io, end to end (as the `io` step reports)', ''],
      ['io_sim_status_p99_us', String(sim.io_sim_status_p99_us), 'IoStatus polls during that io, end to end', ''],
      ['channel_inproc_rtt_per_s', String(channel.channel_inproc_rtt_per_s), `C bridge core with an in-process dext stand-in, no IOKit, 64 in flight (${(channel.channel_inproc_rtt_per_s / channel.raw_echo_rtt_per_s).toFixed(2)} x raw echo)`, ''],
      ['raw_echo_rtt_per_s', String(channel.raw_echo_rtt_per_s), 'the same frames echoed by cat, 64 in flight: that path\'s ceiling', ''],
      ['channel_inproc_p50_us', String(channel.channel_inproc_p50_us), 'one call in flight, in-process stand-in', ''],
      ['channel_inproc_p99_us', String(channel.channel_inproc_p99_us), 'one call in flight, in-process stand-in', ''],
      ['prbs_verify_MBps', String(channel.prbs_verify_MBps), `the host-side verifier the node-usb lane will use; >= 1000 MB/s (${(channel.prbs_verify_MBps / channel.memcmp_MBps).toFixed(2)} x memcmp)`, channel.prbs_verify_MBps >= 1000 ? 'yes' : 'NO'],
      ['memcmp_MBps', String(channel.memcmp_MBps), 'Buffer.compare of the same bytes: memory bandwidth', ''],
      ...usbRows(usbFigures),
      ['history_query_ms', String(history.history_query_ms), `\`dextbench history\`'s summary over an embedded (PGlite) store of ${HISTORY_RUNS} runs x ${HISTORY_SCENARIOS} scenarios x 2 measurements, median (= ${(history.history_query_ms / history.history_insert_ms_per_run).toFixed(0)} x appending a run)`, ''],
      ['history_insert_ms_per_run', String(history.history_insert_ms_per_run), 'appending one run to that store (its 20 results and 40 measurements, one transaction), mean over the seeding', ''],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The real-USB lane's rows: four figures with their targets, or one row saying why there are none. */
function usbRows(usb: UsbBenchmarks): string[][] {
  const { attach_latency_events_ms: events, attach_latency_poll_ms: poll, usb_bulk_MBps: bulk, usb_bulk_raw_MBps: raw } = usb;
  if (events === null || poll === null || bulk === null || raw === null) return [['usb_*', 'null', usb.usb_null_why ?? 'not measured', '']];
  const attachRatio = poll / events;
  const bulkRatio = bulk / raw;
  return [
    ['attach_latency_events_ms', events.toFixed(1), `UDC bind in the QEMU guest → harness/usb waitForDevice by hotplug events, median; <= poll / ${ATTACH_RATIO_TARGET} (${attachRatio.toFixed(2)} x faster)`, attachRatio >= ATTACH_RATIO_TARGET ? 'yes' : 'NO'],
    ['attach_latency_poll_ms', poll.toFixed(1), 'the same bind → findDevices polled every 250 ms (as rig scripts do), median', ''],
    ['attach_enumeration_ms', String(usb.attach_enumeration_ms), 'the same bind → the device\'s folder in sysfs (polled every 10 ms): the kernel\'s enumeration, the floor of both; '
      + `so a ${POLL_INTERVAL_MS} ms poll is at most ${((usb.attach_enumeration_ms! + POLL_INTERVAL_MS) / usb.attach_enumeration_ms!).toFixed(2)} x slower than any wait`, ''],
    ['attach_notice_events_ms', String(usb.attach_notice_events_ms), `the device in sysfs (a worker thread looks every ${SYSFS_WATCH_MS} ms) → the events wait noticing it, same runs: what the harness adds once the kernel is done (0 = within the watch's resolution)`, ''],
    ['attach_notice_poll_ms', String(usb.attach_notice_poll_ms), `the same for the ${POLL_INTERVAL_MS} ms poll`, ''],
    ['usb_bulk_MBps', bulk.toFixed(2), `harness/usb loopbackTraffic, 32 MiB PRBS31 every byte verified, Loopback gadget on dummy_hcd; >= ${BULK_RATIO_TARGET} x raw (${bulkRatio.toFixed(2)} x)`, bulkRatio >= BULK_RATIO_TARGET ? 'yes' : 'NO'],
    ['usb_bulk_raw_MBps', raw.toFixed(2), 'the same transfers through node-usb transferOut/transferIn in a bare loop, bytes counted only', ''],
    ['usb_guest_prbs_MBps', String(usb.usb_guest_prbs_MBps), 'PRBS31 generated and verified in the guest with no USB: the pattern work usb_bulk_MBps carries and raw does not', ''],
  ];
}
