// What the host's IORegistry says about one device role of the rig — enumerated? matched by which
// service, served by which dext process? — and switching its port with a wait for the registry to
// agree. Steps and the hands-on `rig` command share this.
import type { DextServiceView, UsbDeviceView, UserServerView } from '../host/parsers/index.ts';
import { formatMs, pollUntil } from '../common/time.ts';
import type { RigSession } from './connect.ts';
import type { RigDevice } from './types.ts';

export interface DeviceObservation {
  device?: UsbDeviceView;
  /** Dext services on the device (any user class). */
  services: DextServiceView[];
  /** All IOUserServer (dext process) nodes on the host, when asked for. */
  servers: UserServerView[];
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
  const { vendorId, productId, serial } = device.profile.usb;
  const found = devices.find(
    (d) => d.vendorId === vendorId && d.productId === productId && (serial === undefined || d.serial === serial),
  );
  return { device: found, services: found?.services ?? [], servers };
}

/** The dext process serving a service: by IOAssociatedServices, else by server name. */
export function serverFor(service: DextServiceView, servers: UserServerView[]): UserServerView | undefined {
  return (
    servers.find((s) => s.associatedServices.includes(service.registryId)) ??
    servers.find((s) => service.serverName !== undefined && s.serverName === service.serverName)
  );
}

export function describeDevice(device: RigDevice): string {
  const { vendorId, productId, serial } = device.profile.usb;
  const id = `${hex4(vendorId)}:${hex4(productId)}${serial ? ` serial ${serial}` : ''}`;
  return `${device.role} (${id}, ${device.port.hub} port ${device.port.port})`;
}

export function describeObservation(o: DeviceObservation | undefined): string {
  if (!o?.device) return 'not enumerated';
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
