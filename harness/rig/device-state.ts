// What the host's IORegistry says about one device role of the rig — enumerated? matched by which
// service, served by which dext process? — and switching its port with a wait for the registry to
// agree. Steps and the hands-on `rig` command share this.
import type { DextServiceView, UsbDeviceView, UserServerView } from '../host/parsers/index.ts';
import { formatMs, pollUntil } from '../common/time.ts';
import type { RigSession } from './connect.ts';
import type { RigDefinition, RigDevice, UsbIdentity } from './types.ts';
import { formatLocationId, hubLocationOf, locationIdAt } from './usb-location.ts';

export interface DeviceObservation {
  device?: UsbDeviceView;
  /** Dext services on the device (any user class). */
  services: DextServiceView[];
  /** All IOUserServer (dext process) nodes on the host, when asked for. */
  servers: UserServerView[];
  /** The locationID the rig puts the device at, when its hub location and port give one. */
  locationId?: bigint;
  /** Devices with its identity at locations no device of the rig has (a wrong port or hub location shows here). */
  elsewhere: UsbDeviceView[];
}

export type RigEventSink = (event: { type: string } & Record<string, unknown>) => void;

export class DeviceStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceStateError';
  }
}

export function rigDevice(rig: RigSession, role: string): RigDevice {
  const device = rig.devices.get(role);
  if (!device) {
    const known = [...rig.devices.keys()].join(', ') || 'none';
    throw new DeviceStateError(`rig "${rig.definition.name}" has no device "${role}" (it has: ${known})`);
  }
  return device;
}

export async function observeDevice(rig: RigSession, device: RigDevice, withServers = false): Promise<DeviceObservation> {
  const [devices, servers] = await Promise.all([
    rig.tools.ioreg.usbDevices(),
    withServers ? rig.tools.ioreg.userServers() : Promise.resolve([]),
  ]);
  const { found, locationId, elsewhere } = findRigDevice(devices, rig.definition, device);
  const observation: DeviceObservation = { device: found, services: found?.services ?? [], servers, elsewhere };
  if (locationId !== undefined) observation.locationId = locationId;
  return observation;
}

/** The locationID of the port a rig device sits on (usb-location.ts), when it can be written. */
export function rigDeviceLocation(rig: RigDefinition, device: RigDevice): bigint | undefined {
  const location = hubLocationOf(rig.hubs.find((h) => h.id === device.port.hub));
  return location !== undefined ? locationIdAt(location, device.port.port) : undefined;
}

/**
 * The rig device among the host's USB devices: by VID/PID (and serial when the profile names one)
 * at the locationID of its hub port, so identical devices on different ports stay apart. A device
 * whose port gives no locationID is found by identity alone, which only works while no other
 * device of the rig shares that identity: then this throws one line saying how to fix the rig.
 */
export function findRigDevice(devices: readonly UsbDeviceView[], rig: RigDefinition, device: RigDevice):
  { found?: UsbDeviceView; locationId?: bigint; elsewhere: UsbDeviceView[] } {
  const same = devices.filter((d) => hasIdentity(d, device.profile.usb));
  const locationId = rigDeviceLocation(rig, device);
  const twin = rig.devices.find((other) => other.role !== device.role && identitiesOverlap(other.profile.usb, device.profile.usb) &&
    (locationId === undefined || rigDeviceLocation(rig, other) === locationId));
  if (twin) {
    const location = hubLocationOf(rig.hubs.find((h) => h.id === device.port.hub));
    throw new DeviceStateError(`rig "${rig.name}": devices ${device.role} and ${twin.role} cannot be told apart (both ${usbId(device.profile.usb)}, ` +
      `and hub ${device.port.hub} location "${location ?? '?'}" port ${device.port.port} gives no USB locationID of its own); ` +
      'give each device a serial in its profile, or put them on hubs with uhubctl locations like "1-1" and ports 1-15');
  }
  if (locationId === undefined) return { found: same.length === 1 ? same[0] : undefined, elsewhere: same.length > 1 ? same : [] };
  const found = same.find((d) => d.locationId === locationId);
  const ownedByRig = new Set(rig.devices.map((other) => rigDeviceLocation(rig, other)));
  return { found, locationId, elsewhere: same.filter((d) => d !== found && !(d.locationId !== null && ownedByRig.has(d.locationId))) };
}

function hasIdentity(d: UsbDeviceView, usb: UsbIdentity): boolean {
  return d.vendorId === usb.vendorId && d.productId === usb.productId && (usb.serial === undefined || d.serial === usb.serial);
}

/** Whether one host device could be taken for both: same VID/PID and no two different serials. */
function identitiesOverlap(a: UsbIdentity, b: UsbIdentity): boolean {
  return a.vendorId === b.vendorId && a.productId === b.productId && (a.serial === undefined || b.serial === undefined || a.serial === b.serial);
}

/** The dext services on the observed device with this IOUserClass. */
export function servicesOf(o: DeviceObservation, userClass: string): DextServiceView[] {
  return o.services.filter((s) => s.userClass === userClass);
}

/** The dext process serving a service: by IOAssociatedServices, else by server name. */
export function serverFor(service: DextServiceView, servers: UserServerView[]): UserServerView | undefined {
  return (
    servers.find((s) => s.associatedServices.includes(service.registryId)) ??
    servers.find((s) => service.serverName !== undefined && s.serverName === service.serverName)
  );
}

export function describeDevice(device: RigDevice): string {
  return `${device.role} (${usbId(device.profile.usb)}, ${device.port.hub} port ${device.port.port})`;
}

function usbId({ vendorId, productId, serial }: UsbIdentity): string {
  return `${hex4(vendorId)}:${hex4(productId)}${serial ? ` serial ${serial}` : ''}`;
}

export function describeObservation(o: DeviceObservation | undefined): string {
  if (!o?.device) {
    if (!o?.elsewhere.length) return 'not enumerated';
    const at = o.elsewhere.map((d) => (d.locationId === null ? `id 0x${d.registryId.toString(16)}` : formatLocationId(d.locationId))).join(', ');
    return o.locationId === undefined
      ? `not told apart: ${o.elsewhere.length} devices with its identity (at ${at}) and no locationID to choose by`
      : `not enumerated at locationID ${formatLocationId(o.locationId)}; a device with its identity is at ${at} (check the rig's hub location and port)`;
  }
  const services = o.services.map((s) => `${s.userClass} <${s.ioClass}>`).join(', ');
  return `enumerated as "${o.device.name}" id 0x${o.device.registryId.toString(16)}` +
    (services ? `, services: ${services}` : ', no dext service');
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

export async function setDevicePower(rig: RigSession, device: RigDevice, on: boolean, onEvent?: RigEventSink): Promise<void> {
  const hub = rig.hubs.get(device.port.hub);
  if (!hub) throw new DeviceStateError(`rig has no hub "${device.port.hub}" for device ${device.role}`);
  await hub.setPort(device.port.port, on);
  onEvent?.({ type: on ? 'port-on' : 'port-off', device: device.role, hub: hub.id, port: device.port.port });
}

export async function waitEnumerated(rig: RigSession, device: RigDevice, timeoutMs: number, onEvent?: RigEventSink): Promise<DeviceObservation> {
  const started = performance.now();
  const seen = await pollUntil(async () => {
    const o = await observeDevice(rig, device);
    return { value: o.device ? o : undefined, seen: o };
  }, {
    timeoutMs, intervalMs: 50,
    describe: (o) => `${describeDevice(device)} did not enumerate within ${formatMs(timeoutMs)}: ${describeObservation(o)}`,
  });
  onEvent?.({
    type: 'registry', change: 'device-added', device: device.role, name: seen.device!.name,
    registryId: `0x${seen.device!.registryId.toString(16)}`, sessionId: seen.device!.sessionId?.toString(),
    afterMs: Math.round(performance.now() - started),
  });
  return seen;
}

export async function waitGone(rig: RigSession, device: RigDevice, timeoutMs: number, onEvent?: RigEventSink): Promise<void> {
  const started = performance.now();
  await pollUntil(async () => {
    const o = await observeDevice(rig, device);
    return { value: o.device ? undefined : true, seen: o };
  }, {
    timeoutMs, intervalMs: 50,
    describe: (o) => `${describeDevice(device)} still present ${formatMs(timeoutMs)} after its port was switched off: ${describeObservation(o)}`,
  });
  onEvent?.({ type: 'registry', change: 'device-removed', device: device.role, afterMs: Math.round(performance.now() - started) });
}
