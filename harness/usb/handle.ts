// An opened device: interfaces claimed, control / bulk / interrupt transfers with a timeout each,
// classified errors, and a close that always releases.
//
// Timeouts: WebUSB has none, but usb 3.x passes one to nusb with every transfer
// (nativeTransferIn(endpoint, timeoutMs, length) and the like), and nusb cancels the URB when it
// runs out ("transferIn error: Cancelled", measured): that is the cancel, and the endpoint is
// usable again afterwards. A JS deadline a little past it is the backstop in case the native call
// never returns; then the handle is closed and refuses further transfers.
//
// One transfer per endpoint at a time: usb 3.x claims the endpoint for the length of a transfer,
// and a second transfer on it fails at once with "endpoint not found" (measured), so transfers
// on one endpoint are queued here. An IN and an OUT endpoint run side by side.
//
// Everything about the device is read once, at open: usb 3.x's getters, even of plain fields like
// vendorId, borrow the native object, and while a transfer is in flight that throws "The same
// native value cannot be borrowed mutably while another borrow is active" (measured).
import { DeadlineError, sleep, withDeadline } from '../common/time.ts';
import { missingDeviceNodes, type NativeDevice } from './backend.ts';
import type { FoundDevice } from './devices.ts';
import { classifyUsbError, UsbDeviceGone, UsbError, UsbTimeout, UsbTransferFailed, UsbUnavailable } from './errors.ts';
import { describeDevice } from './filter.ts';

export type UsbRequestType = 'standard' | 'class' | 'vendor';
export type UsbRecipient = 'device' | 'interface' | 'endpoint' | 'other';

export interface ControlSetup {
  requestType: UsbRequestType;
  recipient: UsbRecipient;
  request: number;
  value: number;
  index: number;
}

export interface EndpointInfo {
  /** With the direction bit: 0x81 is IN 1, 0x02 is OUT 2. */
  address: number;
  type: 'bulk' | 'interrupt' | 'isochronous' | 'control';
  packetSize: number;
  interface: number;
  /** The class of that interface (3 is HID, 0xff vendor-specific). */
  interfaceClass: number;
}

export interface OpenOptions {
  /** Interfaces to claim (default: interface 0, unless `endpoints` names others). */
  interfaces?: number[];
  /** Also claim the interfaces that hold these endpoint addresses. */
  endpoints?: number[];
  /** Default timeout of every transfer (default 1 s). */
  timeoutMs?: number;
  /**
   * Linux: detach the kernel driver bound to an interface (usbhid on a HID interface) before
   * claiming it, which otherwise fails "busy". Opt-in, because the OS loses the interface until
   * the device is replugged (a HID keyboard stops typing). Elsewhere it does nothing.
   */
  detachKernelDriver?: boolean;
}

export interface TransferOptions {
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 1000;
/** How long past its own timeout a native transfer may take before the handle gives up on it. */
const BACKSTOP_MS = 2000;
/** GET_STATUS to tell a faulted transfer on a live device from one on a device that left. */
const PROBE_TIMEOUT_MS = 250;
/** A failed transfer's device is probed this many times over this long before it counts as still there. */
const DEPARTURE_PROBES = 3;
const DEPARTURE_SETTLE_MS = 300;

export const hexAddress = (address: number): string => `0x${address.toString(16).padStart(2, '0')}`;

/** Opens the device and claims its interfaces; everything claimed is released again on failure. */
export async function open(device: FoundDevice, options: OpenOptions = {}): Promise<UsbHandle> {
  const name = describeDevice(device);
  const context = (operation: string) => ({ operation, device: name, vendorId: device.vendorId, productId: device.productId });
  const nodes = missingDeviceNodes();
  if (nodes) throw new UsbUnavailable(`no USB on this host (${nodes}): cannot open ${name}`);
  try {
    await device.native.open();
  } catch (error) {
    throw classifyUsbError(error, context('open'));
  }
  let handle: UsbHandle;
  try {
    handle = new UsbHandle(device.native, { name, vendorId: device.vendorId, productId: device.productId }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, readEndpoints(device.native),
      options.detachKernelDriver === true && process.platform === 'linux');
  } catch (error) {
    await device.native.close().catch(() => undefined);
    throw classifyUsbError(error, context('reading its configuration'));
  }
  try {
    const endpoints = handle.endpoints();
    const wanted = new Set(options.interfaces ?? (options.endpoints?.length ? [] : [0]));
    for (const address of options.endpoints ?? []) {
      const endpoint = endpoints.find((e) => e.address === address);
      if (!endpoint) throw new UsbError(`${name} has no endpoint ${hexAddress(address)}; its endpoints: ${listEndpoints(endpoints)}`);
      wanted.add(endpoint.interface);
    }
    for (const number of wanted) await handle.claim(number);
    return handle;
  } catch (error) {
    await handle.close();
    throw classifyUsbError(error, context('open'));
  }
}

/** The endpoints of the active configuration's interfaces (first alternate setting of each). */
function readEndpoints(native: NativeDevice): EndpointInfo[] {
  return native.configuration.interfaces.flatMap((iface) => iface.alternate.endpoints.map((e) => ({
    address: e.endpointNumber | (e.direction === 'in' ? 0x80 : 0),
    type: e.type as EndpointInfo['type'],
    packetSize: e.packetSize,
    interface: iface.interfaceNumber,
    interfaceClass: iface.alternate.interfaceClass,
  })));
}

function listEndpoints(endpoints: readonly EndpointInfo[]): string {
  return endpoints.map((e) => `${hexAddress(e.address)} ${e.type} (interface ${e.interface})`).join(', ') || 'none';
}

export class UsbHandle {
  private readonly claimed = new Set<number>();
  /** The tail of each endpoint's queue of transfers. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;
  private gone: UsbDeviceGone | undefined;

  /** The device in one phrase: "1d6b:0104 serial ECHO0001 at 1-1". */
  readonly name: string;
  private readonly ids: { vendorId: number; productId: number };

  constructor(
    private readonly native: NativeDevice, device: { name: string; vendorId: number; productId: number },
    private readonly defaultTimeoutMs: number, private readonly descriptorEndpoints: readonly EndpointInfo[],
    private readonly detachKernelDriver = false,
  ) {
    this.name = device.name;
    this.ids = { vendorId: device.vendorId, productId: device.productId };
  }

  /** The endpoints of the active configuration's interfaces (first alternate setting of each), as read at open. */
  endpoints(): EndpointInfo[] {
    return this.descriptorEndpoints.map((e) => ({ ...e }));
  }

  async claim(interfaceNumber: number): Promise<void> {
    this.usable(`claim interface ${interfaceNumber}`);
    if (this.detachKernelDriver) {
      // Fails when no driver is bound: the claim then says whatever else is wrong.
      await withDeadline(this.native.detachKernelDriver(interfaceNumber), BACKSTOP_MS, 'detach').catch(() => undefined);
    }
    try {
      await this.native.claimInterface(interfaceNumber);
    } catch (error) {
      throw this.classified(error, `claim interface ${interfaceNumber}`);
    }
    this.claimed.add(interfaceNumber);
  }

  controlIn(setup: ControlSetup, length: number, options: TransferOptions = {}): Promise<Uint8Array> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return this.transfer('control', `control IN request ${hexAddress(setup.request)}`, timeoutMs,
      async () => (await this.native.nativeControlTransferIn(setup, timeoutMs, length)) ?? new Uint8Array(0));
  }

  /** Resolves with the bytes written. */
  controlOut(setup: ControlSetup, data: Uint8Array = new Uint8Array(0), options: TransferOptions = {}): Promise<number> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return this.transfer('control', `control OUT request ${hexAddress(setup.request)}`, timeoutMs,
      () => this.native.nativeControlTransferOut(setup, timeoutMs, data));
  }

  /** Resolves with the bytes written. */
  bulkOut(address: number, data: Uint8Array, options: TransferOptions = {}): Promise<number> {
    return this.endpointTransfer(address, 'out', 'bulk', `${data.length} bytes`, options, (timeoutMs) =>
      this.native.nativeTransferOut(address & 0x0f, timeoutMs, data));
  }

  /** Up to `length` bytes (fewer when the device ends the transfer with a short packet). */
  bulkIn(address: number, length: number, options: TransferOptions = {}): Promise<Uint8Array> {
    return this.endpointTransfer(address, 'in', 'bulk', `${length} bytes`, options, async (timeoutMs) =>
      (await this.native.nativeTransferIn(address & 0x0f, timeoutMs, length)) ?? new Uint8Array(0));
  }

  /** Resolves with the bytes written. */
  interruptOut(address: number, data: Uint8Array, options: TransferOptions = {}): Promise<number> {
    return this.endpointTransfer(address, 'out', 'interrupt', `${data.length} bytes`, options, (timeoutMs) =>
      this.native.nativeTransferOut(address & 0x0f, timeoutMs, data));
  }

  interruptIn(address: number, length: number, options: TransferOptions = {}): Promise<Uint8Array> {
    return this.endpointTransfer(address, 'in', 'interrupt', `${length} bytes`, options, async (timeoutMs) =>
      (await this.native.nativeTransferIn(address & 0x0f, timeoutMs, length)) ?? new Uint8Array(0));
  }

  async clearHalt(address: number): Promise<void> {
    const direction = address & 0x80 ? 'in' : 'out';
    await this.transfer(hexAddress(address), `clear halt ${hexAddress(address)}`, this.defaultTimeoutMs,
      () => this.native.clearHalt(direction, address & 0x0f));
  }

  /** Releases every claimed interface and closes the device. Never throws; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const number of this.claimed) {
      await withDeadline(this.native.releaseInterface(number), BACKSTOP_MS, 'release').catch(() => undefined);
    }
    this.claimed.clear();
    await withDeadline(this.native.close(), BACKSTOP_MS, 'close').catch(() => undefined);
  }

  private endpointTransfer<T>(address: number, direction: 'in' | 'out', type: 'bulk' | 'interrupt', size: string,
    options: TransferOptions, run: (timeoutMs: number) => Promise<T>): Promise<T> {
    const operation = `${type} ${direction.toUpperCase()} ${hexAddress(address)} (${size})`;
    const endpoints = this.endpoints();
    const endpoint = endpoints.find((e) => e.address === address);
    if ((address & 0x80 ? 'in' : 'out') !== direction) {
      return Promise.reject(new UsbError(`${this.name}: ${hexAddress(address)} is an ${direction === 'in' ? 'OUT' : 'IN'} endpoint address, ${operation} needs ${direction === 'in' ? '0x80 | n' : 'n without 0x80'}`));
    }
    if (!endpoint || endpoint.type !== type) {
      return Promise.reject(new UsbError(`${this.name} has no ${type} endpoint ${hexAddress(address)}; its endpoints: ${listEndpoints(endpoints)}`));
    }
    if (!this.claimed.has(endpoint.interface)) {
      return Promise.reject(new UsbError(`${this.name}: interface ${endpoint.interface}, which holds ${hexAddress(address)}, is not claimed (open with interfaces: [${endpoint.interface}])`));
    }
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return this.transfer(hexAddress(address), operation, timeoutMs, () => run(timeoutMs));
  }

  /** Queued behind the endpoint's earlier transfers; classified errors; a deadline past the native timeout. */
  private transfer<T>(queue: string, operation: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(queue) ?? Promise.resolve();
    const next = previous.then(() => this.attempt(operation, timeoutMs, run));
    this.queues.set(queue, next.catch(() => undefined));
    return next;
  }

  private async attempt<T>(operation: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
    this.usable(operation);
    const pending = run();
    pending.catch(() => undefined); // it may settle after the backstop gave up on it
    try {
      return await withDeadline(pending, timeoutMs + BACKSTOP_MS, operation);
    } catch (error) {
      if (error instanceof DeadlineError) {
        await this.close();
        throw new UsbTimeout(`${this.name}: ${operation} did not return ${BACKSTOP_MS} ms past its own ${timeoutMs} ms timeout; the device is closed`);
      }
      let classified = this.classified(error, operation, timeoutMs);
      // A transfer in flight when the device leaves may end "Fault" before the device is gone
      // from the bus: a GET_STATUS tells a protocol fault on a live device from a departure.
      if (classified instanceof UsbTransferFailed && !(await this.stillAnswers())) {
        classified = new UsbDeviceGone(`${this.name}: device gone during ${operation} (the transfer ended "${classified.kind}" and the device no longer answers)`);
      }
      if (classified instanceof UsbDeviceGone) this.gone = classified;
      throw classified;
    }
  }

  /**
   * Whether the device still answers, a few times over DEPARTURE_SETTLE_MS: right at an unplug the
   * first GET_STATUS may still be answered while the host is tearing the device down, so one
   * answer alone does not tell a live device's protocol fault from a departure.
   */
  private async stillAnswers(): Promise<boolean> {
    for (let probe = 0; probe < DEPARTURE_PROBES; probe++) {
      if (probe > 0) await sleep(DEPARTURE_SETTLE_MS / (DEPARTURE_PROBES - 1));
      if (!(await this.answers())) return false;
    }
    return true;
  }

  /** Whether the device still answers a GET_STATUS (device recipient). */
  private async answers(): Promise<boolean> {
    const setup: ControlSetup = { requestType: 'standard', recipient: 'device', request: 0x00, value: 0, index: 0 };
    try {
      await withDeadline(this.native.nativeControlTransferIn(setup, PROBE_TIMEOUT_MS, 2), PROBE_TIMEOUT_MS + BACKSTOP_MS);
      return true;
    } catch (error) {
      return !(this.classified(error, 'GET_STATUS') instanceof UsbDeviceGone);
    }
  }

  private usable(operation: string): void {
    if (this.gone) throw new UsbDeviceGone(`${this.name}: ${operation} refused, the device is gone (${this.gone.message})`);
    if (this.closed) throw new UsbError(`${this.name}: ${operation} on a closed device`);
  }

  private classified(error: unknown, operation: string, timeoutMs?: number): UsbError {
    return classifyUsbError(error, { operation, device: this.name, ...this.ids, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }
}
