// node-usb (`usb` 3.x), loaded on first use: most runs never touch the USB bus, and a machine
// where the native part does not load must get one line, not a crash at import time.
//
// usb 3.x is a WebUSB-only API on nusb (npm-packages.md §1): `usb.getDevices()`, no
// getDeviceList(), no usb.on('attach'). Hotplug here uses the package's native `Emitter` (the one
// its WebUSB `connect`/`disconnect` events are built on) directly, because the WebUSB wrapper
// registers it on a queue of its own and throws its failures from a timer (an uncaught exception),
// and lists the known devices with an unhandled promise (which crashes Node 20 on a host without
// USB). With the Emitter, registration is awaited, so no event after it can be missed, and a
// failure is a rejection this module handles.
import { existsSync } from 'node:fs';
import type { UsbDevice } from 'usb/index.js';
import { classifyUsbError, UsbUnavailable } from './errors.ts';
import { deviceLocation, type UsbDeviceInfo } from './filter.ts';

export type NativeDevice = UsbDevice;

export interface NativeEmitter {
  addAttach(callback: (device: UsbDevice) => void): Promise<void>;
  removeAttach(): Promise<void>;
  addDetach(callback: (handle: string) => void): Promise<void>;
  removeDetach(): Promise<void>;
}

export interface UsbBackend {
  getDevices(): Promise<NativeDevice[]>;
  createEmitter(): NativeEmitter;
}

let loading: Promise<UsbBackend> | undefined;

/** node-usb, or UsbUnavailable when its native binding does not load on this machine. */
export function usbBackend(): Promise<UsbBackend> {
  loading ??= (async () => {
    try {
      const [webusb, native] = await Promise.all([import('usb'), import('usb/index.js')]);
      const usb = webusb.usb;
      const Emitter = (native as unknown as { Emitter: new () => NativeEmitter }).Emitter;
      return { getDevices: () => usb.getDevices(), createEmitter: () => new Emitter() };
    } catch (error) {
      throw new UsbUnavailable(`no USB on this host (node-usb's native part does not load for ${process.platform}-${process.arch}: ${(error as Error).message.split('\n')[0]})`);
    }
  })();
  return loading;
}

/** Every device on the bus; UsbUnavailable when the host has no USB subsystem. */
export async function listNative(): Promise<NativeDevice[]> {
  const backend = await usbBackend();
  try {
    return await backend.getDevices();
  } catch (error) {
    throw classifyUsbError(error, { operation: 'listing USB devices' });
  }
}

/**
 * Why a device could not be opened when it was listed: on Linux, the usbfs nodes live in
 * /dev/bus/usb, which a container or a VM without USB lacks (nusb then says "not found", as for
 * a device that is gone).
 */
export function missingDeviceNodes(platform: NodeJS.Platform = process.platform): string | undefined {
  return platform === 'linux' && !existsSync('/dev/bus/usb') ? 'no /dev/bus/usb (no usbfs device nodes)' : undefined;
}

/**
 * What a device looks like, read once. The string getters of usb 3.x open the device when the
 * platform did not cache the string (a device without a serial on Linux), and that can throw;
 * `withStrings: false` skips them for devices that cannot match anyway.
 */
export function readInfo(device: NativeDevice, withStrings: boolean): UsbDeviceInfo {
  const text = (read: () => string | null): string | null => {
    if (!withStrings) return null;
    try {
      return read() ?? null;
    } catch {
      return null;
    }
  };
  return {
    vendorId: device.vendorId,
    productId: device.productId,
    serial: text(() => device.serialNumber),
    product: text(() => device.productName),
    manufacturer: text(() => device.manufacturerName),
    location: deviceLocation(device.bus, device.ports),
    address: device.address,
    speed: device.speed ?? null,
    handle: device.handle,
  };
}

/**
 * Whether this platform delivers hotplug events to node-usb. On Linux nusb listens only to udevd's
 * netlink group (it re-broadcasts the kernel's uevents), so without a running udevd (its control
 * socket /run/udev/control) no event ever comes: a busybox VM, most containers.
 */
export function hotplugSupport(
  platform: NodeJS.Platform = process.platform,
  udevRunning: () => boolean = () => existsSync('/run/udev/control'),
): { via: 'events' } | { via: 'polling'; why: string } {
  if (platform === 'darwin' || platform === 'win32') return { via: 'events' };
  if (platform === 'linux') {
    return udevRunning() ? { via: 'events' } : { via: 'polling', why: 'no udevd on this host (/run/udev/control is missing): node-usb hears hotplug only from udevd' };
  }
  return { via: 'polling', why: `node-usb has no hotplug events on ${platform}` };
}
