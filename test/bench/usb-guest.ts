// Runs INSIDE the QEMU guest (test/support/qemu/guest.ts, with udevd), as root, for test/bench/usb.ts:
// devices/echo.yaml played as a configfs Loopback gadget (harness/emulate) on dummy_udc.0, measured
// from the guest's host side of the same bus. Prints one JSON line, a UsbGuestFigures.
//
// Attach latency, both ways from the same instant, the UDC write (emulate's bind() checks configfs
// and the UDCs with several commands before it writes; those are not what is measured):
//  events   harness/usb waitForDevice(present), which must say via: 'events' (udevd's hotplug)
//  polling  findDevices every 250 ms, as rig scripts poll lsusb; the first look at a random point of
//           the first 250 ms, since a script's poll loop does not know when the plug comes
//  kernel   the device's folder in /sys/bus/usb/devices (with our serial) polled every 10 ms: when
//           the kernel has enumerated it, before udevd and node-usb hear of it; the floor of both
// While events and polling wait, sysfs is watched every 10 ms as well, so each run also says how long
// after the kernel's enumeration it noticed the device: the part the harness decides.
// The three alternate, so all see the same load; between runs the gadget is unbound and the device
// seen gone.
// Bulk loopback, the same bytes, chunk and concurrency (one OUT and one IN transfer in flight), alternating:
//  harness  harness/usb open + loopbackTraffic: PRBS31 generated per chunk, every byte read back
//           verified, per-endpoint queues, per-transfer timeouts and classification
//  raw      node-usb's WebUSB device: open, claimInterface(0), then transferOut of one pattern chunk
//           generated once before the clock starts, and transferIn, counting bytes only
// prbs: PRBS31 generated and verified in the same chunks with no USB at all, to tell the harness's
// pattern work in the guest's emulated CPU from its transfer path.
// Argument: one JSON UsbGuestJob.
/// <reference types="w3c-web-usb" />
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { usb } from 'usb';
import type { UsbDevice } from 'usb/index.js';
import { createPatternGenerator, createPatternVerifier } from '../../harness/common/patterns.ts';
import { DeadlineError, sleep } from '../../harness/common/time.ts';
import { createGadget, gadgetPlan, GADGETS_DIR, removeGadget, unbind } from '../../harness/emulate/index.ts';
import { LocalExec } from '../../harness/host/exec.ts';
import type { DeviceProfile } from '../../harness/rig/types.ts';
import { findDevice, findDevices, loopbackTraffic, open, waitForDevice, type UsbFilter } from '../../harness/usb/index.ts';

export interface UsbGuestJob {
  profile: DeviceProfile;
  /** Binds measured each way. */
  attachRuns: number;
  pollIntervalMs: number;
  bulkBytes: number;
  bulkChunk: number;
  /** Loopback runs each way. */
  bulkRuns: number;
}

export interface UsbGuestFigures {
  attachEventsMs: number[];
  attachPollMs: number[];
  attachKernelMs: number[];
  /** Per run, from the device's folder in sysfs to the events wait / the poll noticing it. */
  attachEventsAfterKernelMs: number[];
  attachPollAfterKernelMs: number[];
  /** What each events wait said it used (all 'events', or the figure is not what it claims). */
  eventsVia: string[];
  bulkMBps: number[];
  bulkErrors: number[];
  bulkRawMBps: number[];
  prbsMBps: number[];
}

const job = JSON.parse(process.argv[2] ?? '') as UsbGuestJob;
const exec = new LocalExec();
const NAME = 'bench';
const filter: UsbFilter = { vendorId: job.profile.usb.vendorId, productId: job.profile.usb.productId, serial: job.profile.usb.serial };
const WAIT_MS = 15_000;
const TRANSFER_TIMEOUT_MS = 5000;
/** Lets udevd finish with the unbind's uevents before the next bind. */
const SETTLE_MS = 200;
const UDC = readdirSync('/sys/class/udc')[0];
if (!UDC) throw new Error('no UDC in /sys/class/udc (is dummy_hcd loaded?)');

/** The plug instant itself: the UDC write (see the header). */
const bindNow = (): void => writeFileSync(`${GADGETS_DIR}/${NAME}/UDC`, UDC);

async function unplugged(): Promise<void> {
  await unbind(exec, NAME);
  await waitForDevice(filter, 'absent', { timeoutMs: WAIT_MS });
  await sleep(SETTLE_MS);
}

const KERNEL_POLL_MS = 10;

interface Attach {
  /** UDC write → noticed. */
  ms: number;
  /** The device's folder in sysfs (watched every 10 ms meanwhile) → noticed: what is left once the kernel is done. */
  afterKernelMs: number;
}

/**
 * Watches sysfs for the device every 10 ms in a worker thread, so a look is never held up by the
 * main thread (a blocking getDevices would otherwise make the poll seem to notice at the kernel's
 * own instant). `seen`: the instant (ms since the epoch, comparable across threads) it saw the device.
 */
async function watchSysfs(serial: string, stop: Int32Array): Promise<{ seen: Promise<number | undefined> }> {
  const worker = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const { existsSync, readdirSync, readFileSync } = require('node:fs');
    const root = '/sys/bus/usb/devices';
    parentPort.postMessage('ready');
    const seen = () => readdirSync(root).some((p) => existsSync(root + '/' + p + '/serial') && readFileSync(root + '/' + p + '/serial', 'utf8').trim() === workerData.serial);
    while (Atomics.load(workerData.stop, 0) === 0) {
      if (seen()) { parentPort.postMessage(performance.timeOrigin + performance.now()); break; }
      Atomics.wait(workerData.stop, 0, 0, ${KERNEL_POLL_MS});
    }
    parentPort.postMessage(undefined);`, { eval: true, workerData: { serial, stop } });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  // Its start takes a while in the guest's emulated CPU: the plug waits for its first look.
  await Promise.race([new Promise((resolve) => worker.once('message', resolve)), failed]);
  const seen = Promise.race([new Promise<number | undefined>((resolve) => worker.once('message', resolve)), failed]);
  void seen.finally(() => worker.terminate()).catch(() => undefined);
  return { seen };
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** Binds, runs `notice` until it sees the device, and watches sysfs meanwhile. */
async function attach(notice: (started: number) => Promise<void>): Promise<Attach> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const watcher = (await watchSysfs(job.profile.usb.serial!, stop)).seen;
  const started = performance.now();
  const startedEpoch = epochNow();
  bindNow();
  await notice(started);
  const noticedEpoch = epochNow();
  // The watcher has seen it by now or sees it within its next look (10 ms).
  const kernelAt = await Promise.race([watcher, sleep(KERNEL_POLL_MS * 5).then(() => undefined)]);
  Atomics.store(stop, 0, 1);
  Atomics.notify(stop, 0);
  if (kernelAt === undefined) throw new Error(`the sysfs watcher did not see ${JSON.stringify(filter)} within ${KERNEL_POLL_MS * 5} ms of it being noticed`);
  return { ms: noticedEpoch - startedEpoch, afterKernelMs: Math.max(0, noticedEpoch - kernelAt) };
}

async function attachByEvents(): Promise<Attach & { via: string }> {
  let via = '';
  const figures = await attach(async () => {
    via = (await waitForDevice(filter, 'present', { timeoutMs: WAIT_MS })).via;
  });
  return { ...figures, via };
}

/** A rig script's poll loop runs on its own clock: the plug lands at a random point of its cycle. */
function attachByPolling(): Promise<Attach> {
  return attach(async (started) => {
    await sleep(Math.random() * job.pollIntervalMs);
    for (;;) {
      if ((await findDevices(filter)).length > 0) return;
      if (performance.now() - started > WAIT_MS) throw new DeadlineError(`polling: ${JSON.stringify(filter)} absent after ${WAIT_MS} ms`);
      await sleep(job.pollIntervalMs);
    }
  });
}

function inSysfs(): boolean {
  const root = '/sys/bus/usb/devices';
  return readdirSync(root).some((port) => existsSync(`${root}/${port}/serial`) && readFileSync(`${root}/${port}/serial`, 'utf8').trim() === job.profile.usb.serial);
}

async function attachInKernel(): Promise<number> {
  const started = performance.now();
  bindNow();
  for (;;) {
    if (inSysfs()) return performance.now() - started;
    if (performance.now() - started > WAIT_MS) throw new DeadlineError(`sysfs: serial ${job.profile.usb.serial} absent after ${WAIT_MS} ms`);
    await sleep(KERNEL_POLL_MS);
  }
}

/** MB/s of generating and verifying bulkBytes of PRBS31 in bulkChunk pieces, as loopbackTraffic does, without USB. */
function prbsOnly(seed: number): number {
  const generator = createPatternGenerator('PRBS31', seed);
  const verifier = createPatternVerifier('PRBS31', seed);
  const chunk = new Uint8Array(job.bulkChunk);
  const started = performance.now();
  for (let done = 0; done < job.bulkBytes; done += chunk.length) {
    generator.fill(chunk);
    verifier.push(chunk);
  }
  if (verifier.result().errors !== 0) throw new Error('PRBS31 did not verify against itself');
  return job.bulkBytes / 1e6 / ((performance.now() - started) / 1000);
}

async function bulkHarness(seed: number): Promise<{ MBps: number; errors: number }> {
  const handle = await open(await findDevice(filter));
  try {
    const bulk = (dir: number) => handle.endpoints().find((e) => e.type === 'bulk' && (e.address & 0x80) === dir)!.address;
    const r = await loopbackTraffic(handle, { outEndpoint: bulk(0), inEndpoint: bulk(0x80), bytes: job.bulkBytes, pattern: 'PRBS31', seed, chunk: job.bulkChunk, transferTimeoutMs: TRANSFER_TIMEOUT_MS });
    return { MBps: r.MBps, errors: r.errors };
  } finally {
    await handle.close();
  }
}

/** usb 3.x takes a timeout in ms as a third argument (default 1000 ms), which the WebUSB types leave out. */
interface TimedTransfers {
  transferIn(endpointNumber: number, length: number, timeoutMs: number): Promise<USBInTransferResult>;
  transferOut(endpointNumber: number, data: Uint8Array, timeoutMs: number): Promise<USBOutTransferResult>;
}

async function bulkRaw(): Promise<number> {
  const device = await usb.findDeviceBySerial(job.profile.usb.serial!) as UsbDevice | undefined;
  if (!device) throw new Error(`node-usb does not list serial ${job.profile.usb.serial}`);
  await device.open();
  try {
    await device.claimInterface(0);
    const endpoints = device.configuration.interfaces[0]!.alternate.endpoints;
    const inEp = endpoints.find((e) => e.type === 'bulk' && e.direction === 'in')!.endpointNumber;
    const outEp = endpoints.find((e) => e.type === 'bulk' && e.direction === 'out')!.endpointNumber;
    const timed = device as unknown as TimedTransfers;
    const chunk = new Uint8Array(job.bulkChunk);
    createPatternGenerator('PRBS31', 3).fill(chunk);
    const started = performance.now();
    let received = 0;
    const reader = (async () => {
      while (received < job.bulkBytes) {
        const r = await timed.transferIn(inEp, Math.min(job.bulkChunk, job.bulkBytes - received), TRANSFER_TIMEOUT_MS);
        if (!r.data || r.data.byteLength === 0) throw new Error(`raw bulk IN: ${r.status} after ${received} bytes`);
        received += r.data.byteLength;
      }
    })();
    for (let sent = 0; sent < job.bulkBytes;) {
      const view = chunk.subarray(0, Math.min(job.bulkChunk, job.bulkBytes - sent));
      const r = await timed.transferOut(outEp, view, TRANSFER_TIMEOUT_MS);
      if (r.bytesWritten !== view.length) throw new Error(`raw bulk OUT: ${r.bytesWritten} of ${view.length} bytes (${r.status})`);
      sent += view.length;
    }
    await reader;
    return received / 1e6 / ((performance.now() - started) / 1000);
  } finally {
    await device.releaseInterface(0).catch(() => undefined);
    await device.close();
  }
}

const plan = gadgetPlan(job.profile, NAME);
await createGadget(exec, plan);
try {
  const figures: UsbGuestFigures = { attachEventsMs: [], attachPollMs: [], attachKernelMs: [], attachEventsAfterKernelMs: [], attachPollAfterKernelMs: [], eventsVia: [], bulkMBps: [], bulkErrors: [], bulkRawMBps: [], prbsMBps: [] };
  for (let i = 0; i < job.attachRuns; i++) {
    const byEvents = await attachByEvents();
    figures.attachEventsMs.push(byEvents.ms);
    figures.attachEventsAfterKernelMs.push(byEvents.afterKernelMs);
    figures.eventsVia.push(byEvents.via);
    await unplugged();
    const byPolling = await attachByPolling();
    figures.attachPollMs.push(byPolling.ms);
    figures.attachPollAfterKernelMs.push(byPolling.afterKernelMs);
    await unplugged();
    figures.attachKernelMs.push(await attachInKernel());
    await unplugged();
  }
  bindNow();
  await waitForDevice(filter, 'present', { timeoutMs: WAIT_MS });
  for (let i = 0; i < job.bulkRuns; i++) {
    const harness = await bulkHarness(i + 1);
    figures.bulkMBps.push(harness.MBps);
    figures.bulkErrors.push(harness.errors);
    figures.bulkRawMBps.push(await bulkRaw());
    figures.prbsMBps.push(prbsOnly(i + 1));
  }
  console.log(JSON.stringify(figures));
} finally {
  await unbind(exec, NAME).catch(() => undefined);
  await removeGadget(exec, plan);
}
