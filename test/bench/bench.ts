// npm run bench [-- --json]: performance figures, each against a baseline measured in the same run
// on the same machine (these machines are shared and noisy; nothing here is a timed test).
//
// engine_overhead_ms_per_step: the time the engine adds per YAML step (Playwright test.step,
// interpolation, timeline, deadline), from two real `dextbench run`s that differ only in the
// number of `wait: 0ms` steps: (T[many] - T[one]) / (many - 1). Target: < 5 ms.
// sim_suite_s: the shipped scenarios on the simulated rig, end to end. Target: < 30 s on 2 cores.
// channel_*, prbs_verify_MBps, memcmp_MBps: see test/bench/channel.ts. Targets: channel round trips
// >= 0.5 x a raw stdio echo of the same frames; PRBS verification >= 1000 MB/s on one core.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { channelBenchmarks } from './channel.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'harness/cli/bin.js');
const json = process.argv.includes('--json');
const MANY = 400;
const REPEATS = 3;

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

function scenario(steps: number): string {
  return [
    `name: ${steps} empty steps`,
    'steps:',
    ...Array.from({ length: steps }, () => '  - wait: 0ms'),
    '',
  ].join('\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
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
  const suite = runDextbench([...rig, join(root, 'scenarios')], dir);

  const channel = await channelBenchmarks();
  const figures = {
    engine_overhead_ms_per_step: Number(overheadMs.toFixed(3)),
    run_baseline_one_step_s: Number(median(one).toFixed(3)),
    sim_suite_s: Number(suite.toFixed(2)),
    ...channel,
  };
  const rttRatio = channel.channel_rtt_per_s / channel.raw_echo_rtt_per_s;
  if (json) {
    console.log(JSON.stringify(figures));
  } else {
    const rows = [
      ['figure', 'value', 'baseline / target', 'ok'],
      ['engine_overhead_ms_per_step', figures.engine_overhead_ms_per_step.toFixed(3), `< 5 ms (from ${MANY} vs 1 steps, median of ${REPEATS})`, overheadMs < 5 ? 'yes' : 'NO'],
      ['run_baseline_one_step_s', figures.run_baseline_one_step_s.toFixed(3), 'start-up of a run (Playwright, sim)', ''],
      ['sim_suite_s', figures.sim_suite_s.toFixed(2), `< 30 s (= ${(suite / median(one)).toFixed(1)} x a one-step run)`, suite < 30 ? 'yes' : 'NO'],
      ['channel_rtt_per_s', channel.channel_rtt_per_s.toFixed(0), `>= 0.5 x raw_echo_rtt_per_s (${rttRatio.toFixed(2)} x)`, rttRatio >= 0.5 ? 'yes' : 'NO'],
      ['raw_echo_rtt_per_s', channel.raw_echo_rtt_per_s.toFixed(0), 'the same frames echoed by cat, 64 in flight', ''],
      ['channel_sim_rtt_per_s', channel.channel_sim_rtt_per_s.toFixed(0), 'the same, through the sim\'s shim, daemon and dext process (no target)', ''],
      ['channel_p50_us', channel.channel_p50_us.toFixed(0), 'one call in flight', ''],
      ['channel_p99_us', channel.channel_p99_us.toFixed(0), 'one call in flight', ''],
      ['prbs_verify_MBps', channel.prbs_verify_MBps.toFixed(0), `>= 1000 MB/s (${(channel.prbs_verify_MBps / channel.memcmp_MBps).toFixed(2)} x memcmp)`, channel.prbs_verify_MBps >= 1000 ? 'yes' : 'NO'],
      ['memcmp_MBps', channel.memcmp_MBps.toFixed(0), 'Buffer.compare of the same bytes', ''],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
