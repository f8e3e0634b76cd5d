// Which device is meant: VID/PID, and optionally the serial and the bus location. Pure: what a
// device looks like here is a plain UsbDeviceInfo read once from node-usb (devices.ts).
//
// Location: the bus number and the port path, the way Linux (sysfs "1-1.4") and uhubctl write it,
// so a rig's hub location plus a port names a device. node-usb 3.x has no location field; it has
// `bus` and `ports` (nusb's bus_id and port_chain), and they read differently per platform:
// - Linux (measured, usb@3.1.0): bus is the bus number in 3 decimal digits ("001"), ports the
//   port numbers from the root hub down ([1] for 1-1).
// - macOS (nusb's IOKit backend, read in its source, not run here): bus is locationID >> 24 in 2
//   hex digits ("02"), ports the locationID's nibbles below the bus byte; the same numbers libusb
//   and uhubctl print there (see rig/usb-location.ts for what is confirmed about locationID).
// - elsewhere (Windows): no location; devices are told apart by VID/PID and serial only.
export interface UsbFilter {
  vendorId: number;
  productId: number;
  /** The iSerialNumber string, exactly. */
  serial?: string;
  /** Bus and port path as uhubctl and Linux name it: "1-1", "2-1.4". */
  location?: string;
}

export interface UsbDeviceInfo {
  vendorId: number;
  productId: number;
  /** null when the device has no serial string, or it could not be read. */
  serial: string | null;
  product: string | null;
  manufacturer: string | null;
  /** "1-1.4"; null where the platform gives none. */
  location: string | null;
  /** The address the host gave it: changes at every enumeration. */
  address: number;
  speed: string | null;
  /** node-usb's id for this enumeration of the device ("DeviceId(… bus: 1, addr: 2 …)"). */
  handle: string;
}

/** `bus` and `ports` as node-usb gives them → "1-1.4", or null when this platform's form is unknown. */
export function deviceLocation(bus: string, ports: readonly number[], platform: NodeJS.Platform = process.platform): string | null {
  const radix = platform === 'linux' ? 10 : platform === 'darwin' ? 16 : 0;
  if (radix === 0 || !/^[0-9a-f]+$/i.test(bus)) return null;
  const busNumber = Number.parseInt(bus, radix);
  // A root hub has no port path; uhubctl names it by its bus number alone.
  return ports.length === 0 ? String(busNumber) : `${busNumber}-${ports.join('.')}`;
}

export function matchesFilter(device: UsbDeviceInfo, filter: UsbFilter): boolean {
  return device.vendorId === filter.vendorId && device.productId === filter.productId
    && (filter.serial === undefined || device.serial === filter.serial)
    && (filter.location === undefined || device.location === filter.location);
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** "1d6b:0104 serial ECHO0001 at 1-1" */
export function describeFilter(filter: UsbFilter): string {
  return [`${hex4(filter.vendorId)}:${hex4(filter.productId)}`,
    ...(filter.serial !== undefined ? [`serial ${filter.serial}`] : []),
    ...(filter.location !== undefined ? [`at ${filter.location}`] : [])].join(' ');
}

/** "1d6b:0104 serial ECHO0001 at 1-1" (what the device has; "no serial" when it has none). */
export function describeDevice(device: UsbDeviceInfo): string {
  return [`${hex4(device.vendorId)}:${hex4(device.productId)}`,
    device.serial !== null ? `serial ${device.serial}` : 'no serial',
    ...(device.location !== null ? [`at ${device.location}`] : [])].join(' ');
}

/**
 * Why findDevice found no single device, in one line: the devices with the same VID/PID when
 * there are any (they differ in serial or location), else what is on the bus.
 */
export function notOneDeviceLine(filter: UsbFilter, matching: readonly UsbDeviceInfo[], all: readonly UsbDeviceInfo[]): string {
  const wanted = describeFilter(filter);
  const list = (devices: readonly UsbDeviceInfo[], describe: (d: UsbDeviceInfo) => string) => {
    const shown = devices.slice(0, 8).map(describe).join('; ');
    return devices.length > 8 ? `${shown}; and ${devices.length - 8} more` : shown;
  };
  if (matching.length > 1) {
    return `${matching.length} USB devices match ${wanted}: ${list(matching, describeDevice)}; tell them apart with serial or location`;
  }
  const sameIds = all.filter((d) => d.vendorId === filter.vendorId && d.productId === filter.productId);
  if (sameIds.length) return `no USB device ${wanted}; with ${hex4(filter.vendorId)}:${hex4(filter.productId)} there are: ${list(sameIds, describeDevice)}`;
  if (all.length === 0) return `no USB device ${wanted}; the bus has no devices`;
  return `no USB device ${wanted}; on the bus: ${list(all, (d) => `${hex4(d.vendorId)}:${hex4(d.productId)}${d.location !== null ? ` at ${d.location}` : ''}`)}`;
}
