// Host-side pattern traffic through a device that echoes its OUT endpoint on an IN endpoint (a
// loopback gadget, an echo firmware): every byte read back is checked against the pattern
// (common/patterns.ts), and the run gives MB/s and per-chunk latency percentiles.
//
// One OUT and one IN transfer are in flight at a time (the most usb 3.x allows per endpoint): the
// device buffers only a little (Linux's loopback function: qlen requests of bulk_buflen bytes), so
// writing everything before reading would stall. A chunk's latency runs from the start of its OUT
// transfer to the IN transfer that returns its last byte. The device decides its framing: with a
// loopback gadget, `chunk` and `bytes` should be multiples of its bulk_buflen, or a partly filled
// request waits for a short packet that never comes (and the IN side times out).
import { createPatternGenerator, createPatternVerifier } from '../common/patterns.ts';
import { formatMs } from '../common/time.ts';
import { UsbError, UsbTimeout } from './errors.ts';
import type { UsbHandle } from './handle.ts';

export interface LoopbackOptions {
  outEndpoint: number;
  inEndpoint: number;
  bytes: number;
  pattern: string;
  seed?: number | bigint;
  /** Bytes per transfer (default 1 MiB). */
  chunk?: number;
  /** Timeout of each transfer (default 5 s). */
  transferTimeoutMs?: number;
  /** Deadline of the whole run (default: none beyond the transfers' own). */
  timeoutMs?: number;
}

export interface LoopbackResult {
  bytes: number;
  /** Mismatched bytes. */
  errors: number;
  firstErrorOffset: number | null;
  seconds: number;
  /** 10^6 bytes per second, of bytes verified. */
  MBps: number;
  latencyP50Us: number;
  latencyP99Us: number;
}

/** The run stopped early: what failed (a classified UsbError) and how far it got. */
export class LoopbackAborted extends UsbError {
  constructor(readonly cause: UsbError, readonly partial: LoopbackResult, bytes: number) {
    super(`${cause.message}; after ${partial.bytes} of ${bytes} bytes looped back (${partial.errors} mismatched)`);
  }
}

const DEFAULT_CHUNK = 1024 * 1024;
const DEFAULT_TRANSFER_TIMEOUT_MS = 5000;

export async function loopbackTraffic(handle: UsbHandle, options: LoopbackOptions): Promise<LoopbackResult> {
  const { bytes, outEndpoint, inEndpoint } = options;
  const chunk = options.chunk ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsbError(`loopback traffic: bytes must be a positive whole number, got ${bytes}`);
  if (!Number.isSafeInteger(chunk) || chunk <= 0) throw new UsbError(`loopback traffic: chunk must be a positive whole number, got ${chunk}`);
  const seed = options.seed ?? 1;
  const generator = createPatternGenerator(options.pattern, seed);
  const verifier = createPatternVerifier(options.pattern, seed);
  const transfer = { timeoutMs: options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS };
  const started = performance.now();
  const deadline = options.timeoutMs !== undefined ? started + options.timeoutMs : Infinity;

  /** When each chunk's OUT transfer began, by chunk index. */
  const sentAt: number[] = [];
  const latenciesUs: number[] = [];
  let failure: UsbError | undefined;
  const fail = (error: unknown): void => {
    failure ??= error instanceof UsbError ? error : new UsbError(`loopback traffic: ${(error as Error).message}`);
  };
  const checkDeadline = (): void => {
    if (performance.now() > deadline) throw new UsbTimeout(`${handle.name}: loopback traffic ran past its ${formatMs(options.timeoutMs!)} deadline`);
  };

  // Two buffers: the next chunk is generated while the current one is in flight (a buffer is never
  // touched while its transfer runs), so pattern generation overlaps the bus instead of adding to it.
  const writer = (async () => {
    const size = Math.min(chunk, bytes);
    const buffers = [new Uint8Array(size), new Uint8Array(size)];
    const prepare = (index: number, offset: number): Uint8Array => {
      const view = buffers[index % 2]!.subarray(0, Math.min(chunk, bytes - offset));
      generator.fill(view);
      return view;
    };
    let view = prepare(0, 0);
    for (let sent = 0, index = 0; sent < bytes && !failure; index++) {
      checkDeadline();
      sentAt[index] = performance.now();
      const sending = handle.bulkOut(outEndpoint, view, transfer);
      const following = sent + view.length < bytes ? prepare(index + 1, sent + view.length) : undefined;
      const written = await sending;
      if (written !== view.length) throw new UsbError(`${handle.name}: bulk OUT wrote ${written} of ${view.length} bytes`);
      sent += view.length;
      if (following) view = following;
    }
  })().catch(fail);

  let received = 0;
  const reader = (async () => {
    while (received < bytes && !failure) {
      checkDeadline();
      const data = await handle.bulkIn(inEndpoint, Math.min(chunk, bytes - received), transfer);
      verifier.push(data);
      const before = received;
      received += data.length;
      // Every chunk whose last byte came with this transfer.
      for (let index = Math.floor(before / chunk); index * chunk < bytes; index++) {
        const end = Math.min((index + 1) * chunk, bytes);
        if (end > received) break;
        if (end > before) latenciesUs.push((performance.now() - (sentAt[index] ?? started)) * 1000);
      }
    }
  })().catch(fail);

  await Promise.all([writer, reader]);
  const seconds = (performance.now() - started) / 1000;
  const verified = verifier.result();
  const result: LoopbackResult = {
    bytes: verified.bytes,
    errors: verified.errors,
    firstErrorOffset: verified.firstErrorOffset,
    seconds,
    MBps: seconds > 0 ? verified.bytes / 1e6 / seconds : 0,
    latencyP50Us: percentile(latenciesUs, 0.5),
    latencyP99Us: percentile(latenciesUs, 0.99),
  };
  if (failure) throw new LoopbackAborted(failure, result, bytes);
  return result;
}

/** The value at rank ⌊p·n⌋ of the sorted values (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
