import { z } from 'zod';
import { byteSize, duration } from '../scenario/index.ts';
import { findDevice, hexAddress, LoopbackAborted, loopbackTraffic, open, type LoopbackResult } from '../usb/index.ts';
import { StepFailure, type StepContext } from './context.ts';
import { defineStep } from './step.ts';
import { ioShape } from './support/io.ts';
import { asStepFailure, localUsbDevice, usbFilterOf } from './support/usb-device.ts';

const endpointAddress = (direction: 'in' | 'out') => z.number().int().min(0).max(0xff).refine(
  (address) => (direction === 'in') === ((address & 0x80) !== 0),
  { error: (issue) => `expected an ${direction.toUpperCase()} endpoint address (${direction === 'in' ? '0x81 to 0x8f' : '0x01 to 0x0f'}), got 0x${Number(issue.input).toString(16)}` },
);

const positiveSize = byteSize.refine((n) => n > 0, { error: 'expected a size above 0, like 64MiB' });

export default defineStep({
  kind: 'usb.io',
  summary: 'Push pattern traffic from this machine through a device that echoes its bulk OUT endpoint on its bulk IN endpoint (a loopback device), over node-usb; every byte read back is verified; MB/s and per-chunk latency percentiles are measurements. Refused on an ssh rig: the USB bus there is the Mac\'s, not this machine\'s.',
  schema: z.strictObject({
    device: z.string().min(1),
    endpoints: z.strictObject({ out: endpointAddress('out'), in: endpointAddress('in') }),
    bytes: positiveSize,
    pattern: ioShape.pattern,
    seed: ioShape.seed,
    /** Bytes per transfer (default 1 MiB); with a loopback gadget, a multiple of its bulk_buflen. */
    chunk: positiveSize.optional(),
    /** Prefix of the measurements (default: usb_io). */
    name: z.string().regex(/^[A-Za-z][\w.-]*$/).optional(),
    expect: z.strictObject({
      /** Mismatched bytes. Default 0. */
      errors: z.number().int().min(0).optional(),
      /** Throughput floor in MB/s (10^6 bytes per second). */
      min_MBps: z.number().positive().optional(),
    }).optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 10 * 60_000,
  async run(args, ctx) {
    const device = localUsbDevice(ctx, 'usb.io', args.device);
    const name = args.name ?? 'usb_io';
    const timeoutMs = args.within ?? ctx.timeoutMs;
    let result: LoopbackResult;
    try {
      const found = await findDevice(usbFilterOf(ctx.rig.definition, device));
      const handle = await open(found, { endpoints: [args.endpoints.out, args.endpoints.in] });
      // Closed by the step, and by the cleanup stack too should the step be abandoned at its timeout.
      ctx.cleanup.release(`close USB device ${args.device}`, () => handle.close());
      try {
        result = await loopbackTraffic(handle, {
          outEndpoint: args.endpoints.out, inEndpoint: args.endpoints.in, bytes: args.bytes,
          pattern: args.pattern, seed: BigInt(args.seed), ...(args.chunk !== undefined ? { chunk: args.chunk } : {}), timeoutMs,
        });
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (error instanceof LoopbackAborted) record(ctx, name, args.device, error.partial, args.expect?.min_MBps, error.message);
      throw asStepFailure('usb.io', args.device, error);
    }
    record(ctx, name, args.device, result, args.expect?.min_MBps);
    const expect = args.expect ?? {};
    const pair = `${hexAddress(args.endpoints.out)} → ${hexAddress(args.endpoints.in)}`;
    const errors = expect.errors ?? 0;
    if (result.errors !== errors) {
      throw new StepFailure(`usb.io ${args.device} (${pair}): ${result.errors} mismatched bytes (first at byte ${result.firstErrorOffset}), expected ${errors}, of ${result.bytes} bytes`);
    }
    if (expect.min_MBps !== undefined && result.MBps < expect.min_MBps) {
      throw new StepFailure(`usb.io ${args.device} (${pair}): ${result.MBps.toFixed(1)} MB/s, below min_MBps ${expect.min_MBps}`);
    }
    return result;
  },
});

/** The io step's measurements, for host-driven traffic: MB/s and chunk round-trip percentiles. */
function record(ctx: StepContext, name: string, device: string, r: LoopbackResult, minMBps: number | undefined, aborted?: string): void {
  ctx.measure({ name: `${name}.MBps`, value: Number(r.MBps.toFixed(2)), unit: 'MB/s', ...(minMBps !== undefined ? { min: minMBps } : {}) });
  ctx.measure({ name: `${name}.latency_p50`, value: Math.round(r.latencyP50Us), unit: 'us' });
  ctx.measure({ name: `${name}.latency_p99`, value: Math.round(r.latencyP99Us), unit: 'us' });
  ctx.timeline.record({ type: 'usb-io', name, device, ...r, ...(aborted ? { aborted } : {}) });
}
