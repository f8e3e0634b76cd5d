// Runs INSIDE the QEMU guest (test/support/qemu/guest.ts), as root, with udevd: a YKUSH-like HID
// device served through FunctionFS (harness/emulate/functionfs.ts, test/usb/guest/ykush-device.ts)
// on dummy_udc.0, driven from the guest's host side first directly through node-usb (the device's
// own protocol, as an oracle), then by the YKUSH hub driver (harness/power/ykush.ts) exactly as a
// rig would call it. It prints one JSON line, a YkushReport, for test/usb/ykush.test.ts to judge.
//
// Two roles in one bundle (the lane bundles one script): with `--device <dir> <state file>` it is
// the device, a process of its own as the FunctionFS server wants (UV_THREADPOOL_SIZE set by the
// parent); otherwise it is the test, with one JSON YkushJob argument.
/// <reference types="w3c-web-usb" />
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { usb } from 'usb';
import type { UsbDevice } from 'usb/index.js';
import { DeadlineError, sleep, withDeadline } from '../../../harness/common/time.ts';
import {
  bind, createGadget, endServerProcess, functionFsThreadpoolSize, gadgetPlan, mountFunctionFs, removeGadget, serveFunctionFs, unbind, unmountFunctionFs,
} from '../../../harness/emulate/index.ts';
import { LocalExec, type Exec, type ExecOptions, type ExecProcess, type ExecRecord, type ExecResult } from '../../../harness/host/exec.ts';
import { ykushDriver } from '../../../harness/power/ykush.ts';
import type { DeviceProfile } from '../../../harness/rig/types.ts';
import { waitForDevice } from '../../../harness/usb/index.ts';
import { IN_EP, OUT_EP, REPORT_SIZE, ykushDescriptors, ykushHandler, YKUSH_STRINGS, type YkushLine } from './ykush-device.ts';

export interface YkushJob {
  profile: DeviceProfile;
}

export interface SysfsView {
  idVendor: string; idProduct: string; serial: string; manufacturer: string; product: string;
  interfaceClass: string; interfaceDriver: string | null; endpoints: string[];
}

export interface DriverStep {
  what: string;
  ms: number;
  /** The driver's status() after the step, or its error. */
  status: Array<{ port: number; powered: boolean }> | null;
  error: string | null;
  /** The ports the device's state file last recorded. */
  device: boolean[] | null;
  /** Port changes the device recorded during the step. */
  changes: Array<{ port: number | 'all'; powered: boolean }>;
}

export interface YkushReport {
  udc: string;
  files: { mounted: string[]; served: string[] };
  errors: { mountMissing: string; mountNotRoot: string; threadpool: string; bindBeforeServer: string; mountedTwice: string; secondServer: string };
  serverReadyMs: number;
  attach: { ms: number; via: string };
  sysfs: SysfsView | null;
  /** Whether the guest's usbhid module was loaded when the device enumerated. */
  usbhidLoaded: boolean;
  direct: {
    reportDescriptor: string; hidDescriptor: string; setIdle: string; unknownRequest: string;
    /** [command, reply's first 4 bytes] in hex, for commands sent on the interrupt OUT endpoint, in order. */
    replies: Array<[string, string]>;
    /** The reply to a command sent by SET_REPORT on ep0 instead, read from interrupt IN. */
    setReport: string;
  };
  driver: {
    steps: DriverStep[];
    /** The driver's error, and how many lines the device wrote meanwhile. */
    outOfRange: { error: string; deviceLines: number };
    unplugged: { error: string; ms: number };
    replugged: DriverStep;
  };
  stop: { signal: string | null; exitCode: number | null; closed: unknown; ms: number; umount: string; gadgetRemoved: boolean };
  deviceStderr: string;
  state: YkushLine[];
}

const GADGET = 'ykush';
const FFS_DIR = '/dev/ffs/ykush';
const WAIT_MS = 10_000;
const DEVICE_READY_MS = 15_000;

/** The device's process: serves until SIGTERM, then says what stayed parked and ends. */
async function runDevice(dir: string, stateFile: string): Promise<void> {
  const server = await serveFunctionFs(dir, { descriptors: ykushDescriptors(), strings: YKUSH_STRINGS, handler: ykushHandler(stateFile) }).catch((error: Error) => {
    // Nothing is parked yet: a plain exit ends the process.
    console.error(error.message);
    process.exit(1);
  });
  console.log(JSON.stringify({ ready: server.endpoints.map((e) => `ep${e.index} ${e.direction} ${e.transfer}`) }));
  const stop = async (exitCode: number): Promise<void> => {
    const closed = await server.close();
    console.log(JSON.stringify({ closed }));
    endServerProcess(closed, exitCode);
  };
  process.once('SIGTERM', () => void stop(0));
  void server.ended.then((error) => { if (error) void stop(1); });
}

async function runTest(job: YkushJob): Promise<void> {
  const exec = new LocalExec();
  const profile = job.profile;
  const udc = readdirSync('/sys/class/udc')[0] ?? '(none)';
  const stateFile = join(process.env.TMPDIR ?? '/run/guest', 'ykush-state.jsonl');
  const plan = gadgetPlan(profile, GADGET);
  await createGadget(exec, plan);

  // Refusals first, while nothing is served.
  mkdirSync('/dev/ffs-nobody', { recursive: true });
  const mountMissing = await message(mountFunctionFs(exec, 'nosuch', '/dev/ffs/nosuch'));
  const mountNotRoot = await message(mountFunctionFs(asNobody(exec), GADGET, '/dev/ffs-nobody'));
  await mountFunctionFs(exec, GADGET, FFS_DIR);
  await mountFunctionFs(exec, GADGET, FFS_DIR); // mounted already: nothing to do
  const mountedTwice = await message(mountFunctionFs(exec, GADGET, '/dev/ffs-nobody'));
  const mounted = readdirSync(FFS_DIR).sort();
  const bindBeforeServer = await message(bind(exec, GADGET));
  const threadpool = await message(serveFunctionFs(FFS_DIR, { descriptors: ykushDescriptors(), strings: YKUSH_STRINGS, handler: ykushHandler('/dev/null') }));

  const started = performance.now();
  const device = startDevice(stateFile);
  await device.ready;
  const serverReadyMs = Math.round(performance.now() - started);
  const served = readdirSync(FFS_DIR).sort();
  const second = startDevice(`${stateFile}.second`);
  const secondServer = await second.ready.then(() => '(it served)', () => second.stderr());
  await second.stop();

  const ids = { vendorId: profile.usb.vendorId, productId: profile.usb.productId, serial: profile.usb.serial! };
  // usbhid loaded, as on any Linux host: the HID core still leaves 04d8:f2f7 alone (it is on its
  // hid_ignore_list as USB_DEVICE_ID_PICK16F1454_V2), so user space (libusb) has the interface.
  await exec.run(['modprobe', 'usbhid'], { nothrow: true, timeoutMs: WAIT_MS });
  const usbhidLoaded = existsSync('/sys/module/usbhid');
  await bind(exec, GADGET);
  const attached = await waitForDevice(ids, 'present', { timeoutMs: WAIT_MS });
  // Interface drivers bind while udevd works through the device's events: after them, the binding is final.
  await exec.run(['udevadm', 'settle', '--timeout=5'], { nothrow: true, timeoutMs: WAIT_MS });
  const sysfs = sysfsView(profile.usb.serial!);
  const direct = await directChecks(profile.usb.serial!);

  const state = new StateFile(stateFile);
  const driver = ykushDriver({ id: 'yk', driver: 'ykush' });
  const step = async (what: string, run: () => Promise<void>): Promise<DriverStep> => {
    const mark = state.lines().length;
    const t0 = performance.now();
    let error: string | null = null;
    try { await run(); } catch (e) { error = (e as Error).message; }
    const ms = Math.round(performance.now() - t0);
    const status = error === null ? (await driver.status()).map(({ port, powered }) => ({ port, powered })) : null;
    const changes = state.lines().slice(mark).flatMap((l) => ('ports' in l && l.change !== 'initial' ? [{ port: l.change.port, powered: l.change.powered }] : []));
    return { what, ms, status, error, device: state.ports(), changes };
  };
  const steps = [
    await step('status', async () => undefined),
    await step('port 2 off', () => driver.setPort(2, false)),
    await step('port 2 on', () => driver.setPort(2, true)),
    await step('cycle port 1 (300 ms off)', () => driver.cyclePort(1, 300)),
  ];
  const beforeOutOfRange = state.lines().length;
  const outOfRange = { error: await message(driver.setPort(4, false)), deviceLines: state.lines().length - beforeOutOfRange };

  await unbind(exec, GADGET);
  await waitForDevice(ids, 'absent', { timeoutMs: WAIT_MS });
  const t0 = performance.now();
  const unpluggedError = await message(withDeadline(driver.setPort(1, false), 20_000, 'the driver on an unplugged YKUSH'));
  const unplugged = { error: unpluggedError, ms: Math.round(performance.now() - t0) };
  await bind(exec, GADGET);
  await waitForDevice(ids, 'present', { timeoutMs: WAIT_MS });
  const replugged = await step('after rebind: port 3 off', () => driver.setPort(3, false));
  await driver.close();

  await unbind(exec, GADGET);
  const stopped = performance.now();
  const exit = await device.stop();
  const stopMs = Math.round(performance.now() - stopped);
  const umount = await message(unmountFunctionFs(exec, FFS_DIR));
  await removeGadget(exec, plan);

  const report: YkushReport = {
    udc,
    files: { mounted, served },
    errors: { mountMissing, mountNotRoot, threadpool, bindBeforeServer, mountedTwice, secondServer },
    serverReadyMs,
    attach: { ms: attached.ms, via: attached.via },
    sysfs,
    usbhidLoaded,
    direct,
    driver: { steps, outOfRange, unplugged, replugged },
    stop: { ...exit, ms: stopMs, umount, gadgetRemoved: !existsSync(plan.dir) },
    deviceStderr: device.stderr(),
    state: state.lines(),
  };
  console.log(JSON.stringify(report));
  // node-usb's hotplug thread keeps the process alive while a listener is registered.
  process.exit(0);
}

/** The error's message, or '(no error)': a refusal is what is being looked at. */
function message(p: Promise<unknown>): Promise<string> {
  return p.then(() => '(no error)', (e: Error) => e.message);
}

/** The device in a process of its own, its threadpool sized for its files. */
function startDevice(stateFile: string) {
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', process.argv[1]!, '--device', FFS_DIR, stateFile], {
    env: { ...process.env, UV_THREADPOOL_SIZE: String(functionFsThreadpoolSize(2)) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<{ signal: string | null; exitCode: number | null }>((resolve) => {
    child.on('exit', (exitCode, signal) => resolve({ exitCode, signal }));
  });
  const line = (key: string): Promise<unknown> => new Promise((resolve, reject) => {
    const look = () => {
      for (const l of stdout.split('\n')) {
        try { const parsed = JSON.parse(l) as Record<string, unknown>; if (key in parsed) { resolve(parsed[key]); return true; } } catch { /* not a JSON line */ }
      }
      return false;
    };
    child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); look(); });
    void exited.then((e) => { if (!look()) reject(new Error(`the device exited (${JSON.stringify(e)}) before printing ${key}: ${stderr.trim()}`)); });
  });
  const ready = line('ready');
  const closed = line('closed');
  return {
    ready: withDeadline(ready, DEVICE_READY_MS, 'the device\'s ready line'),
    stderr: () => stderr.trim(),
    /** SIGTERM, then the exit within 5 s (SIGKILL after that, which the report shows). */
    async stop() {
      child.kill('SIGTERM');
      const exit = await withDeadline(exited, 5000, 'the device\'s exit').catch(async (error: unknown) => {
        if (!(error instanceof DeadlineError)) throw error;
        child.kill('SIGKILL');
        return { ...(await exited), signal: 'SIGKILL (did not end within 5 s of SIGTERM)' };
      });
      return { ...exit, closed: await withDeadline(closed, 100, 'closed line').catch(() => null) };
    },
  };
}

/** The device's state file, as JSON lines. */
class StateFile {
  constructor(private readonly path: string) {}
  lines(): YkushLine[] {
    return existsSync(this.path) ? readFileSync(this.path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as YkushLine) : [];
  }
  ports(): boolean[] | null {
    const last = this.lines().filter((l): l is Extract<YkushLine, { ports: boolean[] }> => 'ports' in l).at(-1);
    return last ? last.ports : null;
  }
}

/** The same Exec, each command run as user nobody (setpriv): what a board gives a non-root user. */
function asNobody(exec: Exec): Exec {
  const wrap = (argv: string[]) => ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv];
  return {
    where: `${exec.where} as nobody`,
    run: (argv: string[], options?: ExecOptions): Promise<ExecResult> => exec.run(wrap(argv), options),
    spawn: (argv: string[], options?: Omit<ExecOptions, 'nothrow' | 'stdin' | 'onLine'>): ExecProcess => exec.spawn(wrap(argv), options),
    onRecord: (listener: (record: ExecRecord) => void) => exec.onRecord(listener),
    close: () => exec.close(),
  };
}

function sysfsView(serial: string): SysfsView | null {
  const root = '/sys/bus/usb/devices';
  const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8').trim() : '');
  for (const port of readdirSync(root)) {
    if (read(join(root, port, 'serial')) !== serial) continue;
    const iface = join(root, `${port}:1.0`);
    const driverLink = join(iface, 'driver');
    return {
      idVendor: read(join(root, port, 'idVendor')), idProduct: read(join(root, port, 'idProduct')), serial,
      manufacturer: read(join(root, port, 'manufacturer')), product: read(join(root, port, 'product')),
      interfaceClass: read(join(iface, 'bInterfaceClass')),
      interfaceDriver: existsSync(driverLink) ? basename(readlinkSync(driverLink)) : null,
      endpoints: readdirSync(iface).filter((n) => n.startsWith('ep_')).sort().map((ep) => `${ep} ${read(join(iface, ep, 'type'))} ${read(join(iface, ep, 'wMaxPacketSize'))}`),
    };
  }
  return null;
}

const hex = (bytes: Uint8Array | null | undefined, count = bytes?.length ?? 0): string => (bytes ? [...bytes.subarray(0, count)].map((b) => b.toString(16).padStart(2, '0')).join(' ') : '(none)');

/**
 * The device's own protocol through node-usb directly (not the driver): descriptors, a stalled
 * request, commands on the interrupt OUT endpoint with their replies on interrupt IN, and one by
 * SET_REPORT on ep0. Every port command it sends is undone, so the driver starts from all up.
 */
async function directChecks(serial: string): Promise<YkushReport['direct']> {
  const device = await usb.findDeviceBySerial(serial) as UsbDevice | undefined;
  if (!device) throw new Error(`node-usb does not list serial ${serial}`);
  await device.open();
  // usbhid may hold the HID interface (udevd loads it for the new device): node-usb cannot claim it then.
  await device.detachKernelDriver(0).catch(() => undefined);
  await device.claimInterface(0);
  const controlIn = (requestType: 'standard' | 'class' | 'vendor', request: number, value: number, length: number) =>
    device.nativeControlTransferIn({ requestType, recipient: 'interface', request, value, index: 0 }, 1000, length);
  const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: Error) => e.message);
  const exchange = async (command: number[]): Promise<string> => {
    const report = new Uint8Array(REPORT_SIZE);
    report.set(command);
    await device.nativeTransferOut(OUT_EP, 1000, report);
    return hex(await device.nativeTransferIn(IN_EP, 1000, REPORT_SIZE), 4);
  };
  try {
    const reportDescriptor = hex(await controlIn('standard', 0x06, 0x2200, 256));
    const hidDescriptor = hex(await controlIn('standard', 0x06, 0x2100, 9));
    const setIdle = await failure(device.nativeControlTransferOut({ requestType: 'class', recipient: 'interface', request: 0x0a, value: 0, index: 0 }, 1000, new Uint8Array(0)));
    const unknownRequest = await failure(controlIn('vendor', 0x42, 0, 8));
    const replies: Array<[string, string]> = [];
    for (const command of [0xf1, 0xf0, 0x2a, 0x22, 0x02, 0x22, 0x2a, 0x12, 0x77]) replies.push([hex(Uint8Array.of(command)), await exchange([command])]);
    const setReportCommand = new Uint8Array(REPORT_SIZE);
    setReportCommand[0] = 0xf1;
    await device.nativeControlTransferOut({ requestType: 'class', recipient: 'interface', request: 0x09, value: 0x0200, index: 0 }, 1000, setReportCommand);
    const setReport = hex(await device.nativeTransferIn(IN_EP, 1000, REPORT_SIZE), 4);
    return { reportDescriptor, hidDescriptor, setIdle, unknownRequest, replies, setReport };
  } finally {
    await device.releaseInterface(0).catch(() => undefined);
    await device.close().catch(() => undefined);
    await sleep(0);
  }
}

// Last, once every const above is initialised.
if (process.argv[2] === '--device') await runDevice(process.argv[3]!, process.argv[4]!);
else await runTest(JSON.parse(process.argv[2] ?? '') as YkushJob);
