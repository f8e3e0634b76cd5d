// Channel traffic: an IoStart, then IoStatus polls until the dext says the io ended. The dext
// generates and verifies every byte (loopback), so the harness reads the verdict, the byte count
// and the time; a terminated service ends the io as aborted instead of hanging.
import { z } from 'zod';
import { ServiceTerminatedError, type ChannelClient } from '../../channel/index.ts';
import { byteSize } from '../../scenario/index.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';

const POLL_MS = 50;

export const ioExpect = z.strictObject({
  /** Verification errors (mismatched bytes plus failed transfers). Default 0. */
  errors: z.number().int().min(0).optional(),
  /** Throughput floor in MB/s (10^6 bytes per second). */
  min_MBps: z.number().positive().optional(),
  /** How the io must end. Default done. */
  status: z.enum(['done', 'aborted', 'failed']).optional(),
});
export type IoExpect = z.output<typeof ioExpect>;

export const ioShape = {
  device: z.string().min(1),
  mode: z.enum(['loopback', 'endpoint']).default('loopback'),
  bytes: byteSize,
  pattern: z.enum(['prbs7', 'prbs15', 'prbs31', 'counter', 'zeros']).default('prbs31'),
  seed: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]).default(1),
  chunk: byteSize.optional(),
  endpoint: z.number().int().min(0).max(255).optional(),
  direction: z.enum(['in', 'out', 'both']).optional(),
};

export interface IoOutcome {
  ioId: bigint;
  state: 'done' | 'aborted' | 'failed' | 'running';
  bytesDone: bigint;
  byteCount: bigint;
  errors: bigint;
  firstErrorOffset: bigint | null;
  seconds: number;
  MBps: number;
  statusRttP50Us: number;
  statusRttP99Us: number;
  reason?: string;
}

/** What a background io leaves under its `as:` name for `io.await`: `name` (else that `as:` name) prefixes its measurements. */
export class IoRun {
  constructor(readonly device: string, readonly name: string | undefined, readonly outcome: Promise<IoOutcome>) {}
}

export async function startIo(client: ChannelClient, args: {
  mode: string; bytes: number; pattern: string; seed: number | string; chunk?: number; endpoint?: number; direction?: string;
}): Promise<bigint> {
  const started = await client.call('IoStart', {
    mode: `IO_MODE_${args.mode.toUpperCase()}`,
    byteCount: String(args.bytes),
    pattern: `PATTERN_${args.pattern.toUpperCase()}`,
    seed: String(args.seed),
    ...(args.chunk !== undefined ? { chunkSize: args.chunk } : {}),
    ...(args.endpoint !== undefined ? { endpoint: args.endpoint } : {}),
    ...(args.direction !== undefined ? { direction: `DIRECTION_${args.direction.toUpperCase()}` } : {}),
  });
  return BigInt(started['ioId'] as bigint);
}

/** Polls IoStatus until the io ends, the service terminates, or the deadline passes. Never rejects. */
export async function followIo(client: ChannelClient, ioId: bigint, byteCount: bigint, timeoutMs: number): Promise<IoOutcome> {
  const started = performance.now();
  const rtts: number[] = [];
  let last: Record<string, unknown> | undefined;
  const outcome = (state: IoOutcome['state'], reason?: string): IoOutcome => {
    const bytesDone = BigInt((last?.['bytesDone'] as bigint | undefined) ?? 0n);
    const elapsedNs = BigInt((last?.['elapsedNs'] as bigint | undefined) ?? 0n);
    const seconds = elapsedNs > 0n ? Number(elapsedNs) / 1e9 : (performance.now() - started) / 1000;
    const errors = BigInt((last?.['errors'] as bigint | undefined) ?? 0n);
    return {
      ioId, state, bytesDone, byteCount, errors, reason,
      firstErrorOffset: errors > 0n ? BigInt((last?.['firstErrorOffset'] as bigint | undefined) ?? 0n) : null,
      seconds, MBps: seconds > 0 ? Number(bytesDone) / 1e6 / seconds : 0,
      statusRttP50Us: percentile(rtts, 0.5), statusRttP99Us: percentile(rtts, 0.99),
    };
  };
  for (;;) {
    const callStarted = performance.now();
    try {
      last = await client.call('IoStatus', { ioId: ioId.toString() }, { timeoutMs: Math.max(1000, timeoutMs - (performance.now() - started)) });
    } catch (error) {
      if (error instanceof ServiceTerminatedError) return outcome('aborted', `service terminated: ${error.message}`);
      return outcome('running', (error as Error).message);
    }
    rtts.push((performance.now() - callStarted) * 1000);
    const state = String(last['state'] ?? '');
    if (state.endsWith('DONE')) return outcome('done');
    if (state.endsWith('ABORTED')) return outcome('aborted');
    if (state.endsWith('FAILED')) return outcome('failed');
    if (performance.now() - started > timeoutMs) return outcome('running', `still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Records the io's measurements and checks it against `expect` (default: done, 0 errors). */
export function finishIo(ctx: StepContext, name: string, o: IoOutcome, expect: IoExpect = {}): void {
  ctx.measure({ name: `${name}.MBps`, value: round(o.MBps, 2), unit: 'MB/s', min: expect.min_MBps });
  ctx.measure({ name: `${name}.status_rtt_p50`, value: Math.round(o.statusRttP50Us), unit: 'us' });
  ctx.measure({ name: `${name}.status_rtt_p99`, value: Math.round(o.statusRttP99Us), unit: 'us' });
  ctx.timeline.record({ type: 'io', name, ...o });
  const status = expect.status ?? 'done';
  const done = `${o.bytesDone} of ${o.byteCount} bytes`;
  if (o.state !== status) {
    throw new StepFailure(`io ${name} ended ${o.state}${o.reason ? ` (${o.reason})` : ''} after ${done}, expected ${status}`);
  }
  const errors = BigInt(expect.errors ?? 0);
  if (o.errors !== errors) {
    throw new StepFailure(`io ${name}: ${o.errors} verification errors (first at byte ${o.firstErrorOffset}), expected ${errors}, after ${done}`);
  }
  if (expect.min_MBps !== undefined && o.MBps < expect.min_MBps) {
    throw new StepFailure(`io ${name}: ${round(o.MBps, 1)} MB/s, below min_MBps ${expect.min_MBps}`);
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}
