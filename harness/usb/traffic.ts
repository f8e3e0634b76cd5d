// Host-side pattern traffic through a device that echoes its OUT endpoint on an IN endpoint (a
// loopback gadget, an echo firmware): every byte read back is checked against the pattern
// (common/patterns.ts), and the run gives MB/s and per-chunk latency percentiles.
//
// The pattern is generated once per chunk and kept until the chunk is both sent and checked: the
// bytes read back are compared with it (memcmp), not with a second generator. In the QEMU lane
// (npm run bench, usb_bulk_MBps against usb_bulk_raw_MBps) that took the harness from 0.67 x raw
// to 0.76 x, and generating in slices (ExpectedStream.prepare) to 0.83-0.84 x.
//
// One OUT and one IN transfer are in flight at a time (the most usb 3.x allows per endpoint): the
// device buffers only a little (Linux's loopback function: qlen requests of bulk_buflen bytes), so
// writing everything before reading would stall. A chunk's latency runs from the start of its OUT
// transfer to the IN transfer that returns its last byte. The device decides its framing: with a
// loopback gadget, `chunk` and `bytes` should be multiples of its bulk_buflen, or a partly filled
// request waits for a short packet that never comes (and the IN side times out).
import { createPatternGenerator, type PatternGenerator } from '../common/patterns.ts';
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
  const expected = new ExpectedStream(createPatternGenerator(options.pattern, seed), chunk, bytes);
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

  // The next chunk is generated while the current one is in flight, so pattern generation overlaps
  // the bus instead of adding to it (a chunk's bytes are never touched while its transfer runs).
  const chunks = Math.ceil(bytes / chunk);
  const writer = (async () => {
    for (let index = 0; index < chunks && !failure; index++) {
      checkDeadline();
      const view = expected.chunk(index);
      sentAt[index] = performance.now();
      const sending = handle.bulkOut(outEndpoint, view, transfer);
      if (index + 1 < chunks) await expected.prepare(index + 1);
      const written = await sending;
      if (written !== view.length) throw new UsbError(`${handle.name}: bulk OUT wrote ${written} of ${view.length} bytes`);
      expected.done(index, 'sent');
    }
  })().catch(fail);

  let received = 0;
  let errors = 0;
  let firstErrorOffset: number | null = null;
  const reader = (async () => {
    while (received < bytes && !failure) {
      checkDeadline();
      const data = await handle.bulkIn(inEndpoint, Math.min(chunk, bytes - received), transfer);
      const before = received;
      received += data.length;
      // Compared chunk by chunk with what was generated for those offsets.
      for (let offset = before; offset < received;) {
        const index = Math.floor(offset / chunk);
        const end = Math.min((index + 1) * chunk, received);
        const got = data.subarray(offset - before, end - before);
        const want = expected.chunk(index).subarray(offset - index * chunk, end - index * chunk);
        if (Buffer.compare(got, want) !== 0) {
          for (let i = 0; i < got.length; i++) {
            if (got[i] === want[i]) continue;
            errors++;
            firstErrorOffset ??= offset + i;
          }
        }
        if (end === Math.min((index + 1) * chunk, bytes)) {
          expected.done(index, 'checked');
          // Its last byte came with this transfer.
          latenciesUs.push((performance.now() - (sentAt[index] ?? started)) * 1000);
        }
        offset = end;
      }
    }
  })().catch(fail);

  await Promise.all([writer, reader]);
  const seconds = (performance.now() - started) / 1000;
  const result: LoopbackResult = {
    bytes: received,
    errors,
    firstErrorOffset,
    seconds,
    MBps: seconds > 0 ? received / 1e6 / seconds : 0,
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

/**
 * The pattern in chunks, generated in order, once, by whichever side needs a chunk first (the writer,
 * unless a device answers before it was written to), and let go of when it is both sent and checked.
 */
class ExpectedStream {
  private readonly kept = new Map<number, { bytes: Uint8Array; filled: number; sent: boolean; checked: boolean }>();
  /** Chunks begun so far; all but the last are complete (the generator is one sequential stream). */
  private begun = 0;

  constructor(private readonly generator: PatternGenerator, private readonly size: number, private readonly total: number) {}

  /** The chunk, complete (finishing what `prepare` has not filled yet). */
  chunk(index: number): Uint8Array {
    this.completeBelow(index + 1);
    const kept = this.kept.get(index);
    if (!kept) throw new UsbError(`loopback traffic: chunk ${index} was asked for after it was sent and checked`);
    return kept.bytes;
  }

  /**
   * Generates the chunk a slice at a time, yielding between slices: generating a whole chunk at once
   * held up the reader's completions for its duration, and the device's small buffer then stalled
   * the OUT side (0.76 x raw whole, 0.83 x in 64 KiB slices, in the QEMU lane).
   */
  async prepare(index: number): Promise<void> {
    this.completeBelow(index);
    const entry = this.begin(index);
    while (entry && entry.filled < entry.bytes.length) {
      this.fill(entry, Math.min(entry.bytes.length, entry.filled + SLICE));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  done(index: number, what: 'sent' | 'checked'): void {
    const kept = this.kept.get(index);
    if (!kept) return;
    kept[what] = true;
    if (kept.sent && kept.checked) this.kept.delete(index);
  }

  private completeBelow(end: number): void {
    for (let index = 0; index < end; index++) {
      const entry = this.begin(index);
      if (entry) this.fill(entry, entry.bytes.length);
    }
  }

  private begin(index: number) {
    for (; this.begun <= index; this.begun++) {
      const bytes = new Uint8Array(Math.min(this.size, this.total - this.begun * this.size));
      this.kept.set(this.begun, { bytes, filled: 0, sent: false, checked: false });
    }
    return this.kept.get(index);
  }

  private fill(entry: { bytes: Uint8Array; filled: number }, end: number): void {
    if (end <= entry.filled) return;
    this.generator.fill(entry.bytes.subarray(entry.filled, end));
    entry.filled = end;
  }
}

const SLICE = 64 * 1024;
