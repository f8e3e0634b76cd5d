// Where a rig device sits, as the Mac names it: a hub's uhubctl location plus the port gives the
// device's IOUSBHostDevice `locationID`, so two identical devices on one hub are two devices.
//
// What is confirmed (macos-formats.md §3, libusb's darwin backend):
// - libusb on macOS, which uhubctl is built on, takes the bus number as `locationID >> 24`
//   (darwin_usb.c, process_new_device), and uhubctl's location is `<bus>-<port>.<port>…`, the bus
//   and then libusb's port numbers hop by hop (driverkit-rigs-es-ne.md §C.1).
// - A device node's `@` suffix is its locationID in 8 hex digits (3-E: 0x01114000).
// - Below the bus byte, each hop down the tree takes the next hex digit: hub @00100000, its hub
//   @00140000, a device on that @00144000 (3-G, 3-H).
// INFERRED, not seen in a source: that the digit of each hop is the same port number libusb
// reports (its PortNum). Ports above 15 or trees deeper than six hops cannot be written this way;
// such a device gets no location and is told apart by VID/PID and serial only.

import type { HubSpec } from './types.ts';

const MAX_HOPS = 6;
const MAX_PORT = 0xf;

/** The locationID a device on `port` of the hub at uhubctl `hubLocation` has, or undefined when it cannot be written. */
export function locationIdAt(hubLocation: string, port: number): bigint | undefined {
  const m = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(hubLocation.trim());
  if (!m) return undefined;
  const bus = Number(m[1]);
  const hops = [...m[2]!.split('.').map(Number), port];
  if (bus > 0xff || hops.length > MAX_HOPS || hops.some((p) => !Number.isInteger(p) || p < 1 || p > MAX_PORT)) return undefined;
  let id = BigInt(bus) << 24n;
  hops.forEach((p, i) => { id |= BigInt(p) << BigInt(20 - 4 * i); });
  return id;
}

/** A hub's USB location in uhubctl's form, when the rig gives one (a gadget hub has none: its board is the device). */
export function hubLocationOf(hub: HubSpec | undefined): string | undefined {
  return hub !== undefined && 'location' in hub ? hub.location : undefined;
}

/** `0x01120000`, as ioreg writes it after the node name's `@`. */
export function formatLocationId(id: bigint): string {
  return `0x${id.toString(16).padStart(8, '0')}`;
}
