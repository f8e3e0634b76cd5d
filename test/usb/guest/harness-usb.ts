// Runs INSIDE the QEMU guest (test/support/qemu/guest.ts), as root: harness/usb and the usb.* steps
// against devices/echo.yaml played by a configfs Loopback gadget on the guest's dummy_hcd bus.
// It prints one JSON line, a HarnessUsbReport, for test/usb/harness-usb.test.ts to judge; it
// decides nothing itself. It does not call process.exit: the guest waits for it to end by itself,
// so a hotplug callback or a transfer left behind shows as a hang.
//
// argv[2]: a JSON HarnessUsbJob, or `child-open <vid> <pid> <serial>` for the access check (this
// same bundle, run again as the user nobody).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { RigSession } from '../../../harness/rig/connect.ts';
import { loadDeviceProfile } from '../../../harness/scenario/index.ts';
import type { Measurement, StepContext, StepDefinition, TimelineEvent } from '../../../harness/steps/index.ts';
import usbExpect from '../../../harness/steps/usb-expect.ts';
import usbIo from '../../../harness/steps/usb-io.ts';
import {
  findDevice, findDevices, LoopbackAborted, loopbackTraffic, open, UsbError, waitForDevice, type DeviceWait, type LoopbackResult,
  type UsbFilter,
} from '../../../harness/usb/index.ts';
import type { Scenario } from '../../../harness/scenario/index.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { Gadget, HID_REPORT_BYTES } from './harness-gadget.ts';

export interface HarnessUsbJob {
  /** Bytes of the PRBS31 loopback through harness/usb directly. */
  bytes: number;
  /** Bytes through the usb.io step. */
  stepBytes: number;
  /** Bytes asked for in the unplug run (the unbind comes long before they are through). */
  unplugBytes: number;
  /** ms after the unplug run's start that the UDC is unbound. */
  unplugAfterMs: number;
  /**
   * Without udevd: at the end, put an empty /run/udev/control in place (what harness/usb takes for
   * a running udevd), so the wait listens for events that never come, across one more unbind.
   */
  fakeUdevControl?: boolean;
}

export interface Failure { class: string; message: string }

export interface HarnessUsbReport {
  udevRunning: boolean;
  attach: DeviceWait;
  found: { location: string | null; serial: string | null; address: number; speed: string | null };
  byLocation: number;
  elsewhere: number;
  wrongSerial: Failure | null;
  endpoints: { in: number; out: number };
  control: { deviceDescriptor: string; stall: Failure | null };
  timeout: { failure: Failure | null; ms: number; loopbackAfter: LoopbackResult };
  /** Two bulk INs on one endpoint at once (node-usb allows one): queued, each its own full timeout. */
  concurrentIn: { failures: (Failure | null)[]; ms: number };
  loopback: LoopbackResult;
  steps: { present: unknown; io: unknown; measurements: Measurement[]; events: TimelineEvent[]; absent: unknown };
  unplug: {
    failure: Failure | null;
    cause: Failure | null;
    partialBytes: number | null;
    /** From the UDC unbind to the traffic's rejection. */
    settledMs: number;
    afterwards: Failure | null;
    detach: DeviceWait;
  };
  reattach: { wait: DeviceWait; address: number };
  accessDenied: Failure | { unexpected: string };
  /** fakeUdevControl's wait for the device to be absent: no event comes. */
  withoutEvents: Failure | null;
  /** A HID gadget's interrupt IN endpoint: a read with nothing sent, then a report the gadget sends. */
  interrupt: { endpoint: number; idle: Failure | null; sent: string; received: string };
}

const failure = (error: unknown): Failure => ({ class: (error as Error).constructor.name, message: (error as Error).message });
const rejection = async (promise: Promise<unknown>): Promise<Failure | null> => promise.then(() => null, failure);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[2] === 'child-open') {
  // Run as nobody: the usbfs node is root's, so opening it must be refused with the fix line.
  const [vendorId, productId] = [Number(process.argv[3]), Number(process.argv[4])];
  try {
    const device = await findDevice({ vendorId, productId, serial: process.argv[5]! });
    const handle = await open(device);
    await handle.close();
    console.log(JSON.stringify({ unexpected: 'opened' }));
  } catch (error) {
    console.log(JSON.stringify(error instanceof UsbError ? failure(error) : { unexpected: String((error as Error).stack) }));
  }
} else {
  await main(JSON.parse(process.argv[2] ?? '') as HarnessUsbJob);
}

async function main(job: HarnessUsbJob): Promise<void> {
  const profile = loadDeviceProfile('devices/echo.yaml');
  const gadget = new Gadget('echo', profile.usb, { loopback: {} });
  const filter: UsbFilter = { vendorId: profile.usb.vendorId, productId: profile.usb.productId, serial: profile.usb.serial! };

  // Plug: the wait is registered before the bind, so it sees the change, not a device already there.
  const attaching = waitForDevice(filter, 'present', { timeoutMs: 20_000 });
  await sleep(300);
  gadget.bind();
  const attach = await attaching;

  const device = await findDevice(filter);
  const byLocation = (await findDevices({ vendorId: filter.vendorId, productId: filter.productId, location: device.location! })).length;
  const elsewhere = (await findDevices({ vendorId: filter.vendorId, productId: filter.productId, location: '9-9' })).length;
  const wrongSerial = await rejection(findDevice({ ...filter, serial: 'NOT-THIS-ONE' }));

  let handle = await open(device);
  const bulk = (direction: 'in' | 'out') => handle.endpoints().find((e) => e.type === 'bulk' && (e.address & 0x80 ? 'in' : 'out') === direction)!.address;
  const endpoints = { in: bulk('in'), out: bulk('out') };
  const descriptor = await handle.controlIn({ requestType: 'standard', recipient: 'device', request: 0x06, value: 0x0100, index: 0 }, 18);
  const stall = await rejection(handle.controlIn({ requestType: 'vendor', recipient: 'device', request: 0x77, value: 0, index: 0 }, 8));
  // Nothing was written, so nothing comes back: the IN transfer runs out and is cancelled.
  const timeoutStarted = performance.now();
  const timeoutFailure = await rejection(handle.bulkIn(endpoints.in, 4096, { timeoutMs: 300 }));
  const timeoutMs = performance.now() - timeoutStarted;
  const concurrentStarted = performance.now();
  const concurrent = await Promise.all([1, 2].map(() => rejection(handle.bulkIn(endpoints.in, 4096, { timeoutMs: 300 }))));
  const concurrentIn = { failures: concurrent, ms: performance.now() - concurrentStarted };
  const loopbackAfter = await loopbackTraffic(handle, { outEndpoint: endpoints.out, inEndpoint: endpoints.in, bytes: 1 << 20, pattern: 'PRBS7', seed: 5 });
  const loopback = await loopbackTraffic(handle, { outEndpoint: endpoints.out, inEndpoint: endpoints.in, bytes: job.bytes, pattern: 'PRBS31', seed: 1 });
  await handle.close();

  const steps = await runSteps(profile, endpoints, job.stepBytes);

  // Unplug in the middle of traffic: the run must end with the device gone, soon, and the handle
  // must refuse more work without hanging.
  handle = await open(await findDevice(filter));
  const detaching = waitForDevice(filter, 'absent', { timeoutMs: 20_000 });
  let unboundAt = 0;
  const unbinding = sleep(job.unplugAfterMs).then(() => { unboundAt = performance.now(); gadget.unbind(); });
  const traffic = await loopbackTraffic(handle, { outEndpoint: endpoints.out, inEndpoint: endpoints.in, bytes: job.unplugBytes, pattern: 'PRBS31', seed: 9 })
    .then(() => null, (error: unknown) => error);
  const settledMs = performance.now() - unboundAt;
  await unbinding;
  const afterwards = await rejection(handle.bulkOut(endpoints.out, new Uint8Array(4096)));
  await handle.close();
  const detach = await detaching;
  const absent = await runStep(stepContext(profile), 'usb.expect', { device: 'echo', state: 'absent', within: '2s' });
  steps.absent = absent.result;

  const reattaching = waitForDevice(filter, 'present', { timeoutMs: 20_000 });
  await sleep(300);
  gadget.bind();
  const reattach = { wait: await reattaching, address: (await findDevice(filter)).address };

  const child = spawnSync(process.execPath, [process.argv[1]!, 'child-open', String(filter.vendorId), String(filter.productId), filter.serial!], {
    uid: 65534, gid: 65534, encoding: 'utf8', timeout: 60_000,
  });
  const accessDenied = child.status === 0 ? JSON.parse(child.stdout.trim().split('\n').at(-1)!) : { unexpected: `child exited ${child.status}: ${child.stderr}` };

  let withoutEvents: Failure | null = null;
  const udevRunning = existsSync('/run/udev/control');
  if (job.fakeUdevControl && !udevRunning) {
    mkdirSync('/run/udev', { recursive: true });
    writeFileSync('/run/udev/control', '');
    const waiting = waitForDevice(filter, 'absent', { timeoutMs: 3000 });
    await sleep(300);
    gadget.unbind();
    withoutEvents = await rejection(waiting);
    rmSync('/run/udev/control');
  }
  const interrupt = await interruptPhase(gadget);

  const report: HarnessUsbReport = {
    udevRunning,
    attach,
    found: { location: device.location, serial: device.serial, address: device.address, speed: device.speed },
    byLocation, elsewhere, wrongSerial, endpoints,
    control: { deviceDescriptor: Buffer.from(descriptor).toString('hex'), stall },
    timeout: { failure: timeoutFailure, ms: timeoutMs, loopbackAfter },
    concurrentIn,
    loopback,
    steps,
    unplug: {
      failure: traffic === null ? null : failure(traffic),
      cause: traffic instanceof LoopbackAborted ? failure(traffic.cause) : null,
      partialBytes: traffic instanceof LoopbackAborted ? traffic.partial.bytes : null,
      settledMs, afterwards, detach,
    },
    reattach,
    accessDenied,
    withoutEvents,
    interrupt,
  };
  console.log(JSON.stringify(report));
}

/** Interrupt IN, against a HID gadget on the one UDC (the echo gadget is unbound first). */
async function interruptPhase(echoGadget: Gadget): Promise<HarnessUsbReport['interrupt']> {
  if (echoGadget.bound()) echoGadget.unbind();
  const identity = { vendorId: 0x1d6b, productId: 0x0106, manufacturer: 'dextbench', product: 'HID', serial: 'HID0001' };
  const hid = new Gadget('hid', identity, { hid: true });
  const filter = { vendorId: identity.vendorId, productId: identity.productId, serial: identity.serial };
  const attaching = waitForDevice(filter, 'present', { timeoutMs: 20_000 });
  await sleep(300);
  hid.bind();
  await attaching;
  const handle = await open(await findDevice(filter));
  try {
    const endpoint = handle.endpoints().find((e) => e.type === 'interrupt' && e.address & 0x80)!.address;
    const idle = await rejection(handle.interruptIn(endpoint, HID_REPORT_BYTES, { timeoutMs: 300 }));
    const sent = Buffer.from(Array.from({ length: HID_REPORT_BYTES }, (_, i) => (i * 7 + 3) & 0xff));
    const [received] = await Promise.all([handle.interruptIn(endpoint, HID_REPORT_BYTES, { timeoutMs: 5000 }), writeFile(hid.hidDevice(), sent)]);
    return { endpoint, idle, sent: sent.toString('hex'), received: Buffer.from(received).toString('hex') };
  } finally {
    await handle.close();
  }
}

type Profile = ReturnType<typeof loadDeviceProfile>;

/**
 * A scenario's context on a rig whose host is this machine, with the device on its bus. The usb.*
 * steps read only the rig's definition and devices; the rest of a RigSession (its Exec, the macOS
 * tools) is left out, and with it the host parsers, whose lossless-json the guest's bundle
 * (test/support/qemu/guest.ts resolves packages with require's conditions) cannot load.
 */
function stepContext(profile: Profile): StepContext & { measurements: Measurement[]; events: TimelineEvent[] } {
  const definition = simRig({ host: { kind: 'local' }, devices: [{ role: 'echo', profile, port: { hub: 'hub1', port: 2 } }] });
  const rig = { definition, devices: new Map(definition.devices.map((d) => [d.role, d])) } as Partial<RigSession> as RigSession;
  const measurements: Measurement[] = [];
  const events: TimelineEvent[] = [];
  return {
    rig,
    scenario: { file: '/x/usb.yaml', name: 'usb', tags: [], timeoutMs: 60_000, vars: {}, uses: { devices: ['echo'], extensions: {} }, setup: [], steps: [], cleanup: [] } as unknown as Scenario,
    extensions: {},
    timeline: { record: (e) => { events.push(e); } },
    cleanup: { push: () => undefined, release: () => undefined },
    results: new Map(),
    startedAt: new Date(),
    timeoutMs: 60_000,
    measure: (m) => { measurements.push(m); },
    matchedProviders: new Map(),
    servingDexts: new Map(),
    channels: new Map(),
    codecFor: () => { throw new Error('no channel in this test'); },
    verifyLease: async () => undefined,
    measurements,
    events,
  };
}

/** As the engine runs a step: the arguments through the kind's schema, then its run. */
async function runStep(ctx: StepContext, kind: 'usb.expect' | 'usb.io', args: unknown): Promise<{ result: unknown }> {
  const definition = (kind === 'usb.io' ? usbIo : usbExpect) as unknown as StepDefinition;
  try {
    return { result: await definition.run(definition.schema.parse(args), ctx) };
  } catch (error) {
    return { result: failure(error) };
  }
}

async function runSteps(profile: Profile, endpoints: { in: number; out: number }, bytes: number): Promise<HarnessUsbReport['steps']> {
  const ctx = stepContext(profile);
  const present = (await runStep(ctx, 'usb.expect', { device: 'echo', within: '5s' })).result;
  const io = (await runStep(ctx, 'usb.io', {
    device: 'echo', endpoints: { out: endpoints.out, in: endpoints.in }, bytes, pattern: 'prbs15', seed: 3, chunk: 256 * 1024,
    expect: { errors: 0, min_MBps: 0.1 },
  })).result;
  return { present, io, measurements: ctx.measurements, events: ctx.events, absent: null };
}

