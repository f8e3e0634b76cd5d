// loopbackTraffic's bookkeeping: the verifier's count of mismatched bytes, reads that come back in
// other sizes than the writes, the per-chunk latencies, and a failure part way. The "device" here
// is an in-memory echo and stands in for nothing else: the real traffic, timeouts and departures
// are proven against a real USB stack in test/usb/harness-usb.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopbackAborted, loopbackTraffic, percentile, UsbDeviceGone, UsbTimeout, type UsbHandle } from '../../harness/usb/index.ts';

/** Echoes OUT to IN; `corrupt` flips bytes at stream offsets; reads return at most `maxRead` bytes. */
function echo(options: { corrupt?: number[]; maxRead?: number; goneAfter?: number; delayMs?: number } = {}) {
  const queue: Uint8Array[] = [];
  let written = 0;
  let read = 0;
  let wake: (() => void) | undefined;
  const transfers = { out: [] as number[], in: [] as number[] };
  const handle = {
    name: 'in-memory echo',
    async bulkOut(_address: number, data: Uint8Array): Promise<number> {
      if (options.goneAfter !== undefined && written >= options.goneAfter) throw new UsbDeviceGone('in-memory echo: device gone during bulk OUT');
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const copy = Uint8Array.from(data);
      for (const at of options.corrupt ?? []) if (at >= written && at < written + copy.length) copy[at - written]! ^= 0x10;
      written += copy.length;
      transfers.out.push(copy.length);
      queue.push(copy);
      wake?.();
      return copy.length;
    },
    async bulkIn(_address: number, length: number): Promise<Uint8Array> {
      while (queue.length === 0) {
        if (options.goneAfter !== undefined && read >= options.goneAfter) throw new UsbDeviceGone('in-memory echo: device gone during bulk IN');
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 5); });
      }
      const take = Math.min(length, options.maxRead ?? Infinity, queue[0]!.length);
      const out = queue[0]!.subarray(0, take);
      queue[0] = queue[0]!.subarray(take);
      if (queue[0]!.length === 0) queue.shift();
      read += take;
      transfers.in.push(take);
      return out;
    },
  };
  return { handle: handle as unknown as UsbHandle, transfers };
}

const base = { outEndpoint: 0x02, inEndpoint: 0x81, pattern: 'PRBS31', seed: 7 };

test('every byte is checked: flipped bytes are counted, the first one located', async () => {
  const clean = await loopbackTraffic(echo().handle, { ...base, bytes: 300_000, chunk: 65_536 });
  assert.deepEqual([clean.bytes, clean.errors, clean.firstErrorOffset], [300_000, 0, null]);
  const bad = await loopbackTraffic(echo({ corrupt: [70_001, 299_999, 5] }).handle, { ...base, bytes: 300_000, chunk: 65_536 });
  assert.deepEqual([bad.bytes, bad.errors, bad.firstErrorOffset], [300_000, 3, 5]);
});

test('the same stream whatever the transfer sizes: reads shorter than writes, a last chunk shorter than the rest', async () => {
  const device = echo({ maxRead: 10_000 });
  const result = await loopbackTraffic(device.handle, { ...base, bytes: 100_000, chunk: 32_768 });
  assert.deepEqual([result.bytes, result.errors], [100_000, 0]);
  assert.deepEqual(device.transfers.out, [32_768, 32_768, 32_768, 1_696]);
  assert.ok(device.transfers.in.every((n) => n <= 10_000) && device.transfers.in.length >= 10);
});

test('latency percentiles of the chunks; throughput counts the bytes verified', async () => {
  const result = await loopbackTraffic(echo({ maxRead: 4096 }).handle, { ...base, bytes: 10 * 16_384 + 100, chunk: 16_384 });
  assert.ok(result.latencyP50Us > 0 && result.latencyP99Us >= result.latencyP50Us);
  assert.ok(result.MBps > 0);
  assert.equal(Math.round(result.MBps * 1e6 * result.seconds), 10 * 16_384 + 100);
  assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
  assert.equal(percentile([5, 1, 4, 2, 3], 0.99), 5);
  assert.equal(percentile([], 0.5), 0);
});

test('a failure part way ends the run with the classified cause and how far it got', async () => {
  const error = await loopbackTraffic(echo({ goneAfter: 50_000 }).handle, { ...base, bytes: 200_000, chunk: 10_000 }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof LoopbackAborted, String(error));
  assert.ok(error.cause instanceof UsbDeviceGone);
  assert.equal(error.partial.bytes, 50_000);
  assert.equal(error.partial.errors, 0);
  assert.match(error.message, /device gone during bulk (IN|OUT); after 50000 of 200000 bytes looped back \(0 mismatched\)$/);
  await assert.rejects(loopbackTraffic(echo().handle, { ...base, bytes: 0 }), /bytes must be a positive whole number, got 0/);
});

test('the run\'s own deadline: a device slower than it ends the run as a timeout, not later', async () => {
  const started = performance.now();
  const error = await loopbackTraffic(echo({ delayMs: 20 }).handle, { ...base, bytes: 1_000_000, chunk: 1000, timeoutMs: 200 }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof LoopbackAborted, String(error));
  assert.ok(error.cause instanceof UsbTimeout);
  assert.match(error.message, /^in-memory echo: loopback traffic ran past its 200ms deadline; after \d+ of 1000000 bytes/);
  assert.ok(performance.now() - started < 1000);
});
