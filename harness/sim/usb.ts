// USB: host controllers, hubs with switchable ports, and device enumeration into the registry.
import { randomBytes } from 'node:crypto';
import type { DeviceConfig, HubConfig } from './config.ts';
import type { Mac } from './mac.ts';
import { stopDextsOn } from './matching.ts';
import type { PDict } from './plist.ts';
import { ROOT_ID, RESOURCES_NAME, type RegNode } from './registry.ts';

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** `b-p1.p2…` (uhubctl) → Mac locationID: bus in the top byte, one nibble per port hop. */
export function locationIdOf(location: string): number {
  const [bus, chain] = location.split('-') as [string, string];
  const hops = chain.split('.').map(Number);
  let id = (Number(bus) & 0xff) * 0x1000000;
  hops.forEach((p, i) => { id += (p & 0xf) * 2 ** (20 - 4 * i); });
  return id;
}

function childLocationId(hub: HubConfig, port: number): number {
  const depth = hub.location.split('-')[1]!.split('.').length;
  return locationIdOf(hub.location) + (port & 0xf) * 2 ** (20 - 4 * depth);
}

const SPEED: Record<string, { code: bigint; bcdUSB: bigint }> = {
  low: { code: 0n, bcdUSB: 0x0110n },
  full: { code: 1n, bcdUSB: 0x0110n },
  high: { code: 2n, bcdUSB: 0x0200n },
  super: { code: 3n, bcdUSB: 0x0300n },
};

function nextSessionId(mac: Mac): bigint {
  const n = ++mac.state.sessionCounter;
  const jitter = BigInt(`0x${randomBytes(4).toString('hex')}`);
  // Real sessionIDs look like 4586099087818; every other one goes past 2^53 so consumers must stay exact.
  return n % 2n === 0n ? (1n << 53n) + n * 0x100000000n + jitter : 4_586_000_000_000n + n * 0x1000000n + jitter;
}

function nextUsbAddress(mac: Mac): bigint {
  const a = mac.state.nextUsbAddress;
  mac.state.nextUsbAddress = a >= 127 ? 1 : a + 1;
  return BigInt(a);
}

function usbDeviceProps(mac: Mac, d: {
  vendorId: number; productId: number; product: string; manufacturer: string; serial?: string | undefined;
  bcdDevice: number; speed: string; deviceClass: number; locationID: number; bcdUSB?: bigint;
}): PDict {
  const speed = SPEED[d.speed] ?? SPEED['high']!;
  const address = nextUsbAddress(mac);
  const props: PDict = {
    idVendor: BigInt(d.vendorId),
    idProduct: BigInt(d.productId),
    bcdDevice: BigInt(d.bcdDevice),
    bcdUSB: d.bcdUSB ?? speed.bcdUSB,
    bDeviceClass: BigInt(d.deviceClass),
    bDeviceSubClass: 0n,
    bDeviceProtocol: 0n,
    bMaxPacketSize0: 64n,
    bNumConfigurations: 1n,
    kUSBCurrentConfiguration: 1n,
    locationID: BigInt(d.locationID),
    sessionID: nextSessionId(mac),
    'USB Address': address,
    kUSBAddress: address,
    'Device Speed': speed.code,
    USBSpeed: speed.code,
    USBPortType: 0n,
    iManufacturer: d.manufacturer ? 1n : 0n,
    iProduct: d.product ? 2n : 0n,
    iSerialNumber: d.serial ? 3n : 0n,
    IOGeneralInterest: 'IOCommand is not serializable',
  };
  // Legacy "USB … Name" keys replace '/' with '_' (§3.3); devices without a string have no key.
  if (d.product) { props['kUSBProductString'] = d.product; props['USB Product Name'] = d.product.replace(/\//g, '_'); }
  if (d.manufacturer) { props['kUSBVendorString'] = d.manufacturer; props['USB Vendor Name'] = d.manufacturer.replace(/\//g, '_'); }
  if (d.serial) { props['kUSBSerialNumberString'] = d.serial; props['USB Serial Number'] = d.serial.replace(/\//g, '_'); }
  return props;
}

function nodeBase(name: string, className: string, props: PDict, location?: string): Omit<RegNode, 'id' | 'parent' | 'children'> {
  return { name, className, props, location, usbPlane: false, registered: true, matched: true, busyMs: 1 + (name.length * 7) % 90, retain: 10 };
}

/** Root, IOResources, one XHCI controller per bus, and the hubs (always attached). */
export function buildBaseTree(mac: Mac): void {
  const reg = mac.registry;
  const { macos } = mac.config;
  reg.add(null, {
    ...nodeBase('Root', 'IORegistryEntry', {
      'OS Build Version': macos.buildVersion,
      IOKitBuildVersion: `Darwin Kernel Version (simulated ${macos.productName} ${macos.productVersion})`,
      IOConsoleLocked: false,
    }),
    id: ROOT_ID, usbPlane: true, busyMs: null, retain: 30,
  });
  reg.add(ROOT_ID, nodeBase(RESOURCES_NAME, 'IOResources', { IOKit: 'IOService', IOResourceMatch: 'IOKit' }));
  const buses = [...new Set(mac.config.hubs.map((h) => Number(h.location.split('-')[0])))].sort((a, b) => a - b);
  if (buses.length === 0) buses.push(0);
  for (const bus of buses) {
    const loc = bus * 0x1000000;
    const ctl = reg.add(ROOT_ID, nodeBase('AppleT8103USBXHCI', 'AppleT8103USBXHCI', {
      IOClass: 'AppleT8103USBXHCI',
      CFBundleIdentifier: 'com.apple.driver.usb.AppleUSBHostT8103',
      IOProviderClass: 'AppleARMIODevice',
      locationID: BigInt(loc),
      IOProbeScore: 10000n,
      UsbHostControllerTierLimit: 6n,
    }, hex8(loc)));
    ctl.usbPlane = true;
  }
  // Parents before children: shorter hub chains first.
  const hubs = [...mac.config.hubs].sort((a, b) => a.location.length - b.location.length);
  for (const hub of hubs) {
    const parentHub = hubs.find((h) => hub.location.startsWith(`${h.location}.`) && !hub.location.slice(h.location.length + 1).includes('.'));
    const parentId = parentHub ? hubNodeId(mac, parentHub) : controllerId(mac, Number(hub.location.split('-')[0]));
    const loc = locationIdOf(hub.location);
    const node = reg.add(parentId, nodeBase(hub.product, 'IOUSBHostDevice', {
      ...usbDeviceProps(mac, {
        vendorId: parseInt(hub.vid, 16), productId: parseInt(hub.pid, 16), product: hub.product, manufacturer: hub.vendor,
        serial: hub.serial, bcdDevice: 0x0100, speed: 'high', deviceClass: 9, locationID: loc, bcdUSB: BigInt(hub.bcdUSB),
      }),
      'dextbench hub id': hub.id,
    }, hex8(loc)));
    node.usbPlane = true;
  }
}

function controllerId(mac: Mac, bus: number): string {
  const loc = hex8(bus * 0x1000000);
  const ctl = mac.registry.children(mac.registry.root()).find((n) => n.className.endsWith('USBXHCI') && n.location === loc);
  if (!ctl) throw new Error(`no controller for bus ${bus}`);
  return ctl.id;
}

export function hubNodeId(mac: Mac, hub: HubConfig): string {
  const node = mac.registry.all().find((n) => n.props['dextbench hub id'] === hub.id);
  if (!node) throw new Error(`hub ${hub.id} is not in the registry`);
  return node.id;
}

export function hubById(mac: Mac, id: string): HubConfig | undefined {
  return mac.config.hubs.find((h) => h.id === id);
}

export function deviceOn(mac: Mac, hubId: string, port: number): DeviceConfig | undefined {
  return mac.config.devices.find((d) => d.hub === hubId && d.port === port);
}

export function isPowered(mac: Mac, hubId: string, port: number): boolean {
  return mac.state.ports[hubId]?.[port - 1] ?? false;
}

/** A powered port's device enumerates after `enumerateMs`. */
export function reconcileUsb(mac: Mac): void {
  for (const dev of mac.config.devices) {
    if (isPowered(mac, dev.hub, dev.port) && !mac.state.deviceNodes[dev.role]) {
      mac.schedule(`enumerate:${dev.role}`, mac.config.timing.enumerateMs, () => enumerate(mac, dev));
    }
  }
}

function enumerate(mac: Mac, dev: DeviceConfig): void {
  if (!isPowered(mac, dev.hub, dev.port) || mac.state.deviceNodes[dev.role]) return;
  const hub = hubById(mac, dev.hub)!;
  const loc = childLocationId(hub, dev.port);
  const reg = mac.registry;
  const node = reg.add(hubNodeId(mac, hub), nodeBase(dev.usb.product || 'IOUSBHostDevice', 'IOUSBHostDevice',
    usbDeviceProps(mac, { ...dev.usb, locationID: loc }), hex8(loc)));
  node.usbPlane = true;
  for (const intf of dev.interfaces) {
    reg.add(node.id, nodeBase('IOUSBHostInterface', 'IOUSBHostInterface', {
      idVendor: BigInt(dev.usb.vendorId),
      idProduct: BigInt(dev.usb.productId),
      bcdDevice: BigInt(dev.usb.bcdDevice),
      bConfigurationValue: 1n,
      bInterfaceNumber: BigInt(intf.number),
      bAlternateSetting: 0n,
      bInterfaceClass: BigInt(intf.class),
      bInterfaceSubClass: BigInt(intf.subclass),
      bInterfaceProtocol: BigInt(intf.protocol),
      bNumEndpoints: BigInt(intf.endpoints.length),
      locationID: BigInt(loc),
      ...(dev.usb.product ? { 'USB Product Name': dev.usb.product.replace(/\//g, '_') } : {}),
    }, String(intf.number)));
  }
  mac.state.deviceNodes[dev.role] = node.id;
}

/** Power a hub port; switching it off terminates the device and everything matched below it. */
export function setPortPower(mac: Mac, hubId: string, port: number, on: boolean): void {
  const ports = mac.state.ports[hubId];
  if (!ports || port < 1 || port > ports.length) return;
  ports[port - 1] = on;
  if (on) return;
  const dev = deviceOn(mac, hubId, port);
  if (!dev) return;
  mac.cancel(`enumerate:${dev.role}`);
  detachDevice(mac, dev.role);
}

export function detachDevice(mac: Mac, role: string): void {
  const nodeId = mac.state.deviceNodes[role];
  if (!nodeId) return;
  const subtree = mac.registry.walk(mac.registry.mustGet(nodeId)).map((n) => n.id);
  stopDextsOn(mac, subtree);
  mac.registry.remove(nodeId);
  delete mac.state.deviceNodes[role];
}

/** The configured device on a port, if it is enumerated (what uhubctl can describe). */
export function enumeratedDevice(mac: Mac, hubId: string, port: number): DeviceConfig | undefined {
  const dev = deviceOn(mac, hubId, port);
  return dev && mac.state.deviceNodes[dev.role] ? dev : undefined;
}
