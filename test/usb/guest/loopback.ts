// Runs INSIDE the QEMU guest (test/support/qemu/guest.ts), as root: presents a device as a configfs
// Loopback gadget (Linux's gadget zero: what the host writes to the bulk OUT endpoint comes back on
// bulk IN) on dummy_udc.0, and drives it through node-usb from the guest's host side of the same
// bus. It prints one JSON line, a LoopbackReport, for the test on the host to judge; it decides
// nothing itself except when a wait runs out. Argument: one JSON LoopbackJob.
/// <reference types="w3c-web-usb" />
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usb } from 'usb';
import type { UsbDevice } from 'usb/index.js';
import { createPatternGenerator, createPatternVerifier } from '../../../harness/channel/patterns.ts';
import { DeadlineError, pollUntil, withDeadline } from '../../../harness/common/time.ts';

export interface LoopbackJob {
  vendorId: number;
  productId: number;
  manufacturer: string;
  product: string;
  serial: string;
  /** Bytes through the loopback after the first bind. */
  bytes: number;
  /** How long to wait for a node-usb connect/disconnect event before calling it absent. */
  eventWaitMs: number;
}

export interface DeviceSeen {
  vendorId: number;
  productId: number;
  manufacturer: string | null;
  product: string | null;
  serial: string | null;
  speed: string | null;
}

export interface Loopback {
  bytes: number;
  errors: number;
  firstErrorOffset: number | null;
  ms: number;
}

export interface LoopbackReport {
  udc: string;
  /** /sys/bus/usb/devices/<port> of the enumerated device, as the kernel read its descriptors. */
  sysfs: { port: string; idVendor: string; idProduct: string; manufacturer: string; product: string; serial: string } | null;
  byIds: DeviceSeen | null;
  bySerial: DeviceSeen | null;
  /** Addresses node-usb reports for interface 0 (the UDC picks them, not the profile). */
  endpoints: { in: number; out: number };
  loopback: Loopback;
  /** ms from the UDC write to the node-usb event; null when none came within eventWaitMs. */
  attachEventMs: number | null;
  detach: { eventMs: number | null; foundAfter: boolean; sysfsAfter: boolean };
  reattach: { eventMs: number | null; loopback: Loopback };
}

const job = JSON.parse(process.argv[2] ?? '') as LoopbackJob;
const GADGET = '/sys/kernel/config/usb_gadget/loopback';
const UDC = readdirSync('/sys/class/udc')[0];
if (!UDC) throw new Error('no UDC in /sys/class/udc (is dummy_hcd loaded?)');
const CHUNK = 64 * 1024;

/** usb 3.x takes a timeout in ms as a third argument (default 1000 ms), which the WebUSB types leave out. */
interface TimedTransfers {
  transferIn(endpointNumber: number, length: number, timeoutMs: number): Promise<USBInTransferResult>;
  transferOut(endpointNumber: number, data: Uint8Array, timeoutMs: number): Promise<USBOutTransferResult>;
}
const TRANSFER_TIMEOUT_MS = 5000;

function write(path: string, value: string): void {
  writeFileSync(join(GADGET, path), value);
}

function makeGadget(): void {
  mkdirSync(GADGET);
  write('idVendor', `0x${job.vendorId.toString(16).padStart(4, '0')}`);
  write('idProduct', `0x${job.productId.toString(16).padStart(4, '0')}`);
  mkdirSync(join(GADGET, 'strings/0x409'));
  write('strings/0x409/manufacturer', job.manufacturer);
  write('strings/0x409/product', job.product);
  write('strings/0x409/serialnumber', job.serial);
  mkdirSync(join(GADGET, 'configs/c.1'));
  mkdirSync(join(GADGET, 'functions/Loopback.0'));
  symlinkSync(join(GADGET, 'functions/Loopback.0'), join(GADGET, 'configs/c.1/Loopback.0'));
}

/** The UDC write is the plug: the name binds, an empty line unbinds. */
const bind = (): void => write('UDC', UDC);
const unbind = (): void => write('UDC', '\n');

function sysfsDevice(): LoopbackReport['sysfs'] {
  const root = '/sys/bus/usb/devices';
  for (const port of readdirSync(root)) {
    const read = (name: string): string => (existsSync(join(root, port, name)) ? readFileSync(join(root, port, name), 'utf8').trim() : '');
    if (read('serial') === job.serial) {
      return { port, idVendor: read('idVendor'), idProduct: read('idProduct'), manufacturer: read('manufacturer'), product: read('product'), serial: read('serial') };
    }
  }
  return null;
}

const seen = (d: UsbDevice | undefined): DeviceSeen | null => (d ? {
  vendorId: d.vendorId, productId: d.productId, manufacturer: d.manufacturerName, product: d.productName, serial: d.serialNumber, speed: d.speed ?? null,
} : null);

/** Resolves with ms since `since` at the first `type` event for our serial, or null after eventWaitMs. */
function nextEvent(type: 'connect' | 'disconnect', since: () => number): Promise<number | null> {
  let listener: ((event: USBConnectionEvent) => void) | undefined;
  const event = new Promise<number>((resolve) => {
    listener = (ev) => { if (ev.device.serialNumber === job.serial) resolve(performance.now() - since()); };
    usb.addEventListener(type, listener);
  });
  return withDeadline(event, job.eventWaitMs, `node-usb ${type} event`)
    .catch((error: unknown) => { if (error instanceof DeadlineError) return null; throw error; })
    .finally(() => usb.removeEventListener(type, listener!));
}

/** Waits for node-usb to list the device (by polling: it must work with or without events). */
function found(present: boolean): Promise<UsbDevice | undefined> {
  return pollUntil(async () => {
    const device = await usb.findDeviceBySerial(job.serial);
    return { value: (device !== undefined) === present ? { device } : undefined, seen: device !== undefined };
  }, { timeoutMs: 10_000, describe: () => `node-usb still ${present ? 'does not list' : 'lists'} serial ${job.serial} after 10s` }).then((r) => r.device);
}

/** PRBS31 through OUT and back on IN, reads posted alongside the writes (the gadget buffers only qlen requests). */
async function loopback(usbDevice: UsbDevice, endpoints: { in: number; out: number }, bytes: number, seed: number): Promise<Loopback> {
  const device = usbDevice as unknown as TimedTransfers;
  const generator = createPatternGenerator('PRBS31', seed);
  const verifier = createPatternVerifier('PRBS31', seed);
  const started = performance.now();
  let received = 0;
  const reader = (async () => {
    while (received < bytes) {
      const r = await device.transferIn(endpoints.in & 0x0f, Math.min(CHUNK, bytes - received), TRANSFER_TIMEOUT_MS);
      if (!r.data || r.data.byteLength === 0) throw new Error(`bulk IN 0x${endpoints.in.toString(16)}: ${r.status} after ${received} bytes`);
      verifier.push(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength));
      received += r.data.byteLength;
    }
  })();
  for (let sent = 0; sent < bytes;) {
    const chunk = new Uint8Array(Math.min(CHUNK, bytes - sent));
    generator.fill(chunk);
    const r = await device.transferOut(endpoints.out, chunk, TRANSFER_TIMEOUT_MS);
    if (r.bytesWritten !== chunk.length) throw new Error(`bulk OUT 0x${endpoints.out.toString(16)}: ${r.bytesWritten} of ${chunk.length} bytes written (${r.status})`);
    sent += chunk.length;
  }
  await reader;
  const ms = performance.now() - started;
  const { errors, firstErrorOffset } = verifier.result();
  return { bytes: received, errors, firstErrorOffset, ms };
}

async function openLoopback(device: UsbDevice): Promise<{ in: number; out: number }> {
  await device.open();
  await device.claimInterface(0);
  const endpoints = device.configuration.interfaces[0]?.alternate.endpoints ?? [];
  const bulk = (direction: 'in' | 'out') => endpoints.find((e) => e.type === 'bulk' && e.direction === direction);
  const inEp = bulk('in');
  const outEp = bulk('out');
  if (!inEp || !outEp) throw new Error(`interface 0 has no bulk IN and OUT pair: ${JSON.stringify(endpoints)}`);
  return { in: 0x80 | inEp.endpointNumber, out: outEp.endpointNumber };
}

makeGadget();
let pluggedAt = 0;
const attach = nextEvent('connect', () => pluggedAt);
// addEventListener binds node-usb's netlink socket on a queue of its own; a bind before that is missed.
await (usb as unknown as { nativeEmitterQueue: Promise<void> }).nativeEmitterQueue;
pluggedAt = performance.now();
bind();
const [attachEventMs] = await Promise.all([attach, found(true)]);
const sysfs = sysfsDevice();
const byIds = await usb.findDeviceByIds(job.vendorId, job.productId);
const bySerial = await usb.findDeviceBySerial(job.serial);
if (!bySerial) throw new Error(`node-usb lost serial ${job.serial}`);
const endpoints = await openLoopback(bySerial);
const first = await loopback(bySerial, endpoints, job.bytes, 1);
await bySerial.close();

let unpluggedAt = 0;
const detachEvent = nextEvent('disconnect', () => unpluggedAt);
unpluggedAt = performance.now();
unbind();
const [detachEventMs] = await Promise.all([detachEvent, found(false)]);
const detach = { eventMs: detachEventMs, foundAfter: (await usb.findDeviceBySerial(job.serial)) !== undefined, sysfsAfter: sysfsDevice() !== null };

const reattachEvent = nextEvent('connect', () => pluggedAt);
pluggedAt = performance.now();
bind();
const [reattachEventMs, again] = await Promise.all([reattachEvent, found(true)]);
if (!again) throw new Error(`node-usb lost serial ${job.serial} after the second bind`);
const second = await loopback(again, await openLoopback(again), CHUNK * 4, 2);
await again.close();

const report: LoopbackReport = {
  udc: UDC,
  sysfs,
  byIds: seen(byIds),
  bySerial: seen(bySerial),
  endpoints,
  loopback: first,
  attachEventMs,
  detach,
  reattach: { eventMs: reattachEventMs, loopback: second },
};
console.log(JSON.stringify(report));
// node-usb's hotplug thread keeps the process alive while a listener is registered.
process.exit(0);
