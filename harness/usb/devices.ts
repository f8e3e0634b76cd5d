// Finding devices on this machine's USB bus, and waiting for one to come or go.
import { DeadlineError, formatMs, pollUntil, withDeadline } from '../common/time.ts';
import { hotplugSupport, listNative, readInfo, usbBackend, type NativeDevice, type UsbBackend } from './backend.ts';
import { classifyUsbError, UsbNotFound, UsbTimeout } from './errors.ts';
import { describeFilter, matchesFilter, notOneDeviceLine, type UsbDeviceInfo, type UsbFilter } from './filter.ts';

/** A device as found on the bus: what it looks like, and node-usb's object for open(). */
export interface FoundDevice extends UsbDeviceInfo {
  readonly native: NativeDevice;
}

export type DeviceState = 'present' | 'absent';

export interface DeviceWait {
  /** How the change was seen: hotplug events, or polling where the platform sends none (`why`). */
  via: 'events' | 'polling';
  why?: string;
  /** From the call to the state being reached (0 when it already was). */
  ms: number;
  /** The device present at the end of a `present` wait; null for `absent`. */
  device: UsbDeviceInfo | null;
}

const POLL_MS = 100;
/** Registering or removing node-usb's hotplug callbacks is local work: this is generous. */
const EMITTER_MS = 5000;

/** Every device on the bus that matches. */
export async function findDevices(filter: UsbFilter): Promise<FoundDevice[]> {
  return (await scan(filter)).matching;
}

/** The one device that matches; UsbNotFound (one line naming the candidates) when none or several do. */
export async function findDevice(filter: UsbFilter): Promise<FoundDevice> {
  const { matching, all } = await scan(filter);
  if (matching.length !== 1) throw new UsbNotFound(notOneDeviceLine(filter, matching, all));
  return matching[0]!;
}

async function scan(filter: UsbFilter): Promise<{ matching: FoundDevice[]; all: UsbDeviceInfo[] }> {
  const all = (await listNative()).map((native) => found(native, filter));
  return { matching: all.filter((d) => matchesFilter(d, filter)), all };
}

/** Strings are read only for the filter's VID/PID: reading them may open the device. */
function found(native: NativeDevice, filter: UsbFilter): FoundDevice {
  const sameIds = native.vendorId === filter.vendorId && native.productId === filter.productId;
  return { ...readInfo(native, sameIds), native };
}

/**
 * Resolves once a device matching `filter` is present (or none is), by hotplug events; by polling
 * every 100 ms only where the platform sends none, and the result says which (`via`, `why`).
 * UsbTimeout after `timeoutMs`.
 */
export async function waitForDevice(filter: UsbFilter, state: DeviceState, options: { timeoutMs: number }): Promise<DeviceWait> {
  const backend = await usbBackend();
  const support = hotplugSupport();
  if (support.via === 'events') return await waitByEvents(backend, filter, state, options.timeoutMs);
  return await waitByPolling(filter, state, options.timeoutMs, support.why);
}

async function waitByEvents(backend: UsbBackend, filter: UsbFilter, state: DeviceState, timeoutMs: number): Promise<DeviceWait> {
  const started = performance.now();
  const emitter = backend.createEmitter();
  // The matching devices by node-usb handle. Events that arrive before the first listing are kept
  // and applied after it, in order, so a change between registration and listing is never lost.
  let present: Map<string, UsbDeviceInfo> | undefined;
  const early: (() => void)[] = [];
  let reached: (() => void) | undefined;
  const isReached = () => (state === 'present' ? present!.size > 0 : present!.size === 0);
  const onChange = (change: () => void) => {
    // A throw in a native callback would take the process down: nothing here may throw.
    try {
      if (!present) { early.push(change); return; }
      change();
      if (isReached()) reached?.();
    } catch { /* a device that cannot be read is not the one awaited */ }
  };
  let registered = false;
  try {
    await withDeadline(emitter.addAttach((native) => onChange(() => {
      const device = found(native, filter);
      if (matchesFilter(device, filter)) present!.set(device.handle, device);
    })), EMITTER_MS, 'registering for USB attach events');
    registered = true;
    await withDeadline(emitter.addDetach((handle) => onChange(() => { present!.delete(handle); })), EMITTER_MS, 'registering for USB detach events');
    present = new Map((await findDevices(filter)).map((d) => [d.handle, d]));
    for (const change of early.splice(0)) change();
    if (!isReached()) {
      const left = timeoutMs - (performance.now() - started);
      try {
        await withDeadline(new Promise<void>((resolve) => { reached = resolve; }), Math.max(0, left), 'usb wait');
      } catch (error) {
        if (!(error instanceof DeadlineError)) throw error;
        throw await noEventTimeout(filter, state, timeoutMs);
      }
    }
    const device = state === 'present' ? [...present.values()][0]! : null;
    return { via: 'events', ms: Math.round(performance.now() - started), device: device && info(device) };
  } catch (error) {
    if (error instanceof DeadlineError) throw new UsbTimeout(`${describeFilter(filter)}: ${error.message}`);
    throw classifyUsbError(error, { operation: `waiting for ${describeFilter(filter)} to be ${state}` });
  } finally {
    // A registered callback keeps the process alive: always removed, whatever happened.
    if (registered) {
      await withDeadline(Promise.allSettled([emitter.removeAttach(), emitter.removeDetach()]), EMITTER_MS, 'removing USB hotplug callbacks').catch(() => undefined);
    }
  }
}

/** The timeout of an event wait: a state reached without its event says the events are missing. */
async function noEventTimeout(filter: UsbFilter, state: DeviceState, timeoutMs: number): Promise<UsbTimeout> {
  const now = await findDevices(filter);
  const wanted = describeFilter(filter);
  if ((state === 'present') === (now.length > 0)) {
    return new UsbTimeout(`${wanted} is ${state} now, but no USB hotplug event said so within ${formatMs(timeoutMs)}: this host does not deliver node-usb's events (on Linux they come from udevd)`);
  }
  return new UsbTimeout(`${wanted} still ${state === 'present' ? 'absent' : 'present'} after ${formatMs(timeoutMs)} (waited for hotplug events)`);
}

async function waitByPolling(filter: UsbFilter, state: DeviceState, timeoutMs: number, why: string): Promise<DeviceWait> {
  const started = performance.now();
  try {
    const device = await pollUntil(async () => {
      const now = await findDevices(filter);
      const done = (state === 'present') === (now.length > 0);
      return { value: done ? { device: now[0] ? info(now[0]) : null } : undefined, seen: now.length };
    }, {
      timeoutMs, intervalMs: POLL_MS,
      describe: () => `${describeFilter(filter)} still ${state === 'present' ? 'absent' : 'present'} after ${formatMs(timeoutMs)} (polled every ${POLL_MS} ms: ${why})`,
    });
    return { via: 'polling', why, ms: Math.round(performance.now() - started), device: device.device };
  } catch (error) {
    if (error instanceof DeadlineError) throw new UsbTimeout(error.message);
    throw classifyUsbError(error, { operation: `waiting for ${describeFilter(filter)} to be ${state}` });
  }
}

/** The plain description, without node-usb's object. */
function info(device: FoundDevice | UsbDeviceInfo): UsbDeviceInfo {
  const { native: _native, ...rest } = device as FoundDevice;
  return rest;
}
