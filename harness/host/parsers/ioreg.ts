// `ioreg -a` (XML plist) output and views over it (reference/macos-formats.md §3). Each registry
// entry is a dict holding its properties plus IOObjectClass, IORegistryEntryName,
// IORegistryEntryID…, with its children under IORegistryEntryChildren.
import { parsePlist, type PlistDict, type PlistValue } from './plist.ts';

/** One IORegistry entry. */
export interface IoregEntry {
  /** Every key of the entry's dict (IOObjectClass, IORegistryEntryID… included) except IORegistryEntryChildren. */
  properties: Record<string, PlistValue>;
  children: IoregEntry[];
}

const CHILDREN_KEY = 'IORegistryEntryChildren';

/**
 * Parses `ioreg -a …` output. The root is an array of entry dicts (`-r` searches) or one dict
 * (the whole plane from Root): both give an array of entries.
 *
 * @throws Error with a one-line message naming line:col for malformed XML, or the shape problem.
 */
export function parseIoregPlist(xml: string): IoregEntry[] {
  const root = parsePlist(xml);
  if (Array.isArray(root)) return root.map((item, i) => toEntry(item, `root[${i}]`));
  return [toEntry(root, 'root')];
}

function toEntry(value: PlistValue, where: string): IoregEntry {
  if (!isDict(value)) throw new Error(`ioreg plist: ${where} is not a dict (an IORegistry entry)`);
  const properties: Record<string, PlistValue> = {};
  let children: IoregEntry[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (key !== CHILDREN_KEY) {
      Object.defineProperty(properties, key, { value: item, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (!Array.isArray(item)) throw new Error(`ioreg plist: ${where}.${CHILDREN_KEY} is not an array`);
    children = item.map((child, i) => toEntry(child, `${where}.children[${i}]`));
  }
  return { properties, children };
}

function isDict(value: PlistValue | undefined): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
}

/** One step of {@link walkIoreg}. */
export interface IoregVisit {
  entry: IoregEntry;
  /** null for the entries passed in. */
  parent: IoregEntry | null;
  /** 0 for the entries passed in. */
  depth: number;
}

/** Depth-first, pre-order walk over entries and all their descendants. */
export function* walkIoreg(entries: readonly IoregEntry[]): Generator<IoregVisit> {
  const stack: IoregVisit[] = [...entries].reverse().map((entry) => ({ entry, parent: null, depth: 0 }));
  while (stack.length > 0) {
    const visit = stack.pop()!;
    yield visit;
    for (let i = visit.entry.children.length - 1; i >= 0; i--) {
      stack.push({ entry: visit.entry.children[i]!, parent: visit.entry, depth: visit.depth + 1 });
    }
  }
}

/** A dext-side object (has `IOUserClass`): an IOUserService, IOUserSerial, … */
export interface DextServiceView {
  /** IORegistryEntryID; 0n when the entry carries none (only in edited samples). */
  registryId: bigint;
  /** IORegistryEntryName: for a dext object, its IOUserClass name. */
  name: string;
  /** Kernel-side class (IOObjectClass, else IOClass): `IOUserService`, `IOUserSerial`… */
  ioClass: string;
  /** IOUserClass: the dext's class. */
  userClass: string;
  /** IOUserServerName: the dext bundle id for third-party dexts. */
  serverName?: string;
  /** CFBundleIdentifier. */
  bundleId?: string;
  /** IOUserServerCDHash: 40 lowercase hex digits of the running dext binary. */
  cdhash?: string;
  properties: Record<string, PlistValue>;
}

/** A USB device (IOUSBHostDevice, or AppleUSBDevice on the pre-11 stack). */
export interface UsbDeviceView {
  registryId: bigint;
  name: string;
  className: string;
  locationId: bigint | null;
  /** sessionID: changes on every enumeration. */
  sessionId: bigint | null;
  /** idVendor; 0 when absent. */
  vendorId: number;
  /** idProduct; 0 when absent. */
  productId: number;
  /** kUSBProductString (raw), else "USB Product Name" (where `/` became `_`). */
  product?: string;
  vendor?: string;
  serial?: string;
  address?: number;
  /** Dext objects anywhere below the device (under its interfaces too), not below nested devices. */
  services: DextServiceView[];
  properties: Record<string, PlistValue>;
}

/** An IOUserServer node: the kernel's object for a running dext process. */
export interface UserServerView {
  registryId: bigint;
  /** IOUserServerName, else the `<server>` of the registry name `IOUserServer(<server>-0x<tag>)`. */
  serverName: string;
  /** IOUserServerTag (= registry id of the first service served), else from the registry name. */
  tag: bigint | null;
  /** From IOUserClientCreator `"pid 1227, org.eof.tools.VS"` (the name is cut to 16 characters). */
  pid: number | null;
  /** IOAssociatedServices: registry ids of the services this process serves. */
  associatedServices: bigint[];
  properties: Record<string, PlistValue>;
}

const USB_DEVICE_CLASSES = new Set(['IOUSBHostDevice', 'AppleUSBDevice']);
const SERVER_NAME = /^IOUserServer\((.*)-0x([0-9a-fA-F]+)\)$/;

/** USB devices anywhere in the entries, each with the dext services found below it. */
export function usbDevicesFromIoreg(entries: readonly IoregEntry[]): UsbDeviceView[] {
  const devices: UsbDeviceView[] = [];
  for (const { entry } of walkIoreg(entries)) {
    const className = objectClass(entry);
    if (!USB_DEVICE_CLASSES.has(className)) continue;
    const p = entry.properties;
    devices.push({
      registryId: registryIdOf(entry),
      name: stringProp(p, 'IORegistryEntryName') ?? '',
      className,
      locationId: bigintProp(p, 'locationID'),
      sessionId: bigintProp(p, 'sessionID'),
      vendorId: numberProp(p, 'idVendor') ?? 0,
      productId: numberProp(p, 'idProduct') ?? 0,
      ...optional('product', stringProp(p, 'kUSBProductString') ?? stringProp(p, 'USB Product Name')),
      ...optional('vendor', stringProp(p, 'kUSBVendorString') ?? stringProp(p, 'USB Vendor Name')),
      ...optional('serial', stringProp(p, 'kUSBSerialNumberString') ?? stringProp(p, 'USB Serial Number')),
      ...optional('address', numberProp(p, 'kUSBAddress') ?? numberProp(p, 'USB Address')),
      services: servicesBelow(entry),
      properties: p,
    });
  }
  return devices;
}

/** Every dext object (entry carrying `IOUserClass`) anywhere in the entries. */
export function dextServicesFromIoreg(entries: readonly IoregEntry[]): DextServiceView[] {
  const services: DextServiceView[] = [];
  for (const { entry } of walkIoreg(entries)) {
    const view = dextServiceView(entry);
    if (view) services.push(view);
  }
  return services;
}

/** Every IOUserServer (dext process) node in the entries. */
export function userServersFromIoreg(entries: readonly IoregEntry[]): UserServerView[] {
  const servers: UserServerView[] = [];
  for (const { entry } of walkIoreg(entries)) {
    if (objectClass(entry) !== 'IOUserServer') continue;
    const p = entry.properties;
    const fromName = SERVER_NAME.exec(stringProp(p, 'IORegistryEntryName') ?? '');
    const creator = /^pid (\d+)/.exec(stringProp(p, 'IOUserClientCreator') ?? '');
    const associated = p['IOAssociatedServices'];
    servers.push({
      registryId: registryIdOf(entry),
      serverName: stringProp(p, 'IOUserServerName') ?? fromName?.[1] ?? '',
      tag: bigintProp(p, 'IOUserServerTag') ?? (fromName ? BigInt(`0x${fromName[2]}`) : null),
      pid: creator ? Number(creator[1]) : null,
      associatedServices: Array.isArray(associated) ? associated.filter((v): v is bigint => typeof v === 'bigint') : [],
      properties: p,
    });
  }
  return servers;
}

function servicesBelow(device: IoregEntry): DextServiceView[] {
  const services: DextServiceView[] = [];
  const visit = (entry: IoregEntry): void => {
    for (const child of entry.children) {
      // A hub's children are devices of their own: their services are theirs.
      if (USB_DEVICE_CLASSES.has(objectClass(child))) continue;
      const view = dextServiceView(child);
      if (view) services.push(view);
      visit(child);
    }
  };
  visit(device);
  return services;
}

function dextServiceView(entry: IoregEntry): DextServiceView | undefined {
  const p = entry.properties;
  const userClass = stringProp(p, 'IOUserClass');
  if (userClass === undefined) return undefined;
  return {
    registryId: registryIdOf(entry),
    name: stringProp(p, 'IORegistryEntryName') ?? userClass,
    ioClass: objectClass(entry),
    userClass,
    ...optional('serverName', stringProp(p, 'IOUserServerName')),
    ...optional('bundleId', stringProp(p, 'CFBundleIdentifier')),
    ...optional('cdhash', stringProp(p, 'IOUserServerCDHash')),
    properties: p,
  };
}

function objectClass(entry: IoregEntry): string {
  return stringProp(entry.properties, 'IOObjectClass') ?? stringProp(entry.properties, 'IOClass') ?? '';
}

function registryIdOf(entry: IoregEntry): bigint {
  return bigintProp(entry.properties, 'IORegistryEntryID') ?? 0n;
}

function stringProp(p: Record<string, PlistValue>, key: string): string | undefined {
  const value = p[key];
  return typeof value === 'string' ? value : undefined;
}

function bigintProp(p: Record<string, PlistValue>, key: string): bigint | null {
  const value = p[key];
  return typeof value === 'bigint' ? value : null;
}

/** Small integers (USB ids, addresses) as numbers. */
function numberProp(p: Record<string, PlistValue>, key: string): number | undefined {
  const value = p[key];
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return typeof value === 'number' ? value : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
