// Yepkit YKUSH hubs over their HID control interface (driverkit-rigs-es-ne.md §C.3, and Yepkit's
// pykush 0.3.6, which corrects the reference on 0xf0cd: it is the 1-port YKUSHXS, not a bootloader).
// Each command is one 64-byte output report, the command byte then zeros; the reply is one 64-byte
// input report whose first 20 bytes are significant, byte 0 being the status (1 = OK). A port that
// is switched is read back with "get port state" (0x20 | N).
//
// The control interface enumerates on the machine the YKUSH's upstream port is plugged into (the
// Mac), so only dextbench running there can drive it: the rig schema refuses it on the simulated
// Mac and over ssh, createHubDriver over ssh. The board is found afresh for every operation and let go of at its
// end, so a YKUSH replugged between operations is simply found again, and nothing stays open.
//
// The rig's `location` is only where the devices behind the hub sit (their locationIDs): where
// the control device itself sits below the hub is not in the reference, so it does not pick the
// board; `serial` does.
import { DeadlineError, formatMs, sleep, withDeadline } from '../common/time.ts';
import type { YkushHubSpec } from '../rig/types.ts';
import {
  describeDevice, findDevices, hexAddress, open, UsbError, UsbTimeout,
  type EndpointInfo, type FoundDevice, type UsbDeviceInfo, type UsbHandle,
} from '../usb/index.ts';
import { cycleBySwitching, HubError, type HubDriver, type HubPortStatus } from './hub-driver.ts';

export const YKUSH_VENDOR_ID = 0x04d8;
/** Normal operation: YKUSH beta (0x0042), YKUSH (0xf2f7), YKUSH3 (0xf11b), YKUSHXS (0xf0cd). */
export const YKUSH_PRODUCT_IDS: readonly number[] = [0x0042, 0xf2f7, 0xf11b, 0xf0cd];
/** Bootloader mode, where the control commands are not available. */
export const YKUSH_BOOTLOADER_PRODUCT_IDS: readonly number[] = [0xf11c, 0xffff];
/** The YKUSHXS has one downstream port, whatever 0xf1 says. */
export const YKUSHXS_PRODUCT_ID = 0xf0cd;
export const YKUSH_REPORT_SIZE = 64;
/** The first bytes of a reply that carry meaning; a shorter reply is no reply. */
export const YKUSH_REPLY_SIGNIFICANT = 20;
const STATUS_OK = 1;
/** The port commands carry the port in their low nibble, for ports 1-3 (0x0a and 0x1a mean all). */
const PROTOCOL_PORTS = 3;
/** A port state byte above this is up. */
const STATE_UP_ABOVE = 0x10;

export type YkushCommand =
  | { kind: 'port'; port: number; up: boolean }
  | { kind: 'all'; up: boolean }
  | { kind: 'state'; port: number }
  | { kind: 'states' }
  | { kind: 'firmware' }
  | { kind: 'portCount' };

export interface YkushFirmware {
  major: number;
  /** null for a 1.x firmware that does not answer 0xf0 (pykush guesses it from the serial). */
  minor: number | null;
}

/** A reply that says no, or is too short to say anything; the message has no hub name. */
export class YkushReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YkushReplyError';
  }
}

/** The command byte of `command`. */
export function ykushCommandByte(command: YkushCommand): number {
  switch (command.kind) {
    case 'port': return (command.up ? 0x10 : 0x00) | protocolPort(command.port);
    case 'all': return command.up ? 0x1a : 0x0a;
    case 'state': return 0x20 | protocolPort(command.port);
    case 'states': return 0x2a;
    case 'firmware': return 0xf0;
    case 'portCount': return 0xf1;
  }
}

/** The 64-byte output report for `command`: its byte, then zeros. */
export function ykushCommandReport(command: YkushCommand): Uint8Array {
  const report = new Uint8Array(YKUSH_REPORT_SIZE);
  report[0] = ykushCommandByte(command);
  return report;
}

/** "port 2 up (0x12)" */
export function describeYkushCommand(command: YkushCommand): string {
  const byte = `(${hexAddress(ykushCommandByte(command))})`;
  switch (command.kind) {
    case 'port': return `port ${command.port} ${command.up ? 'up' : 'down'} ${byte}`;
    case 'all': return `all ports ${command.up ? 'up' : 'down'} ${byte}`;
    case 'state': return `get port ${command.port} state ${byte}`;
    case 'states': return `get all port states ${byte}`;
    case 'firmware': return `get firmware version ${byte}`;
    case 'portCount': return `get downstream port count ${byte}`;
  }
}

/** The reply to a port or all-ports command: YkushReplyError unless it says OK. */
export function checkYkushSetReply(reply: Uint8Array): void {
  okReply(reply);
}

/** The reply to "get port N state": whether the port is up. */
export function parseYkushPortState(reply: Uint8Array): boolean {
  return okReply(reply)[1]! > STATE_UP_ABOVE;
}

/** The reply to "all port states" (firmware 2 and later): up or not, for ports 1..`ports`. */
export function parseYkushPortStates(reply: Uint8Array, ports: number): boolean[] {
  const bytes = okReply(reply);
  return Array.from({ length: ports }, (_, i) => bytes[1 + i]! > STATE_UP_ABOVE);
}

/**
 * The reply to 0xf0, or null when none came in time. A status other than OK, a short reply or none
 * is a 1.x firmware that does not know the command (pykush reads all three the same way).
 */
export function parseYkushFirmware(reply: Uint8Array | null): YkushFirmware {
  if (reply === null || reply.length < YKUSH_REPLY_SIGNIFICANT || reply[0] !== STATUS_OK) return { major: 1, minor: null };
  return { major: reply[1]!, minor: reply[2]! };
}

/**
 * The reply to 0xf1, or null when none came in time: the count when the board knows the command,
 * else 3 (the first boards' count). A YKUSHXS has 1 port whatever it says.
 */
export function parseYkushPortCount(reply: Uint8Array | null, productId: number): number {
  if (productId === YKUSHXS_PRODUCT_ID) return 1;
  if (reply === null || reply.length < YKUSH_REPLY_SIGNIFICANT || reply[0] !== STATUS_OK) return PROTOCOL_PORTS;
  return reply[1]!;
}

function protocolPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > PROTOCOL_PORTS) throw new RangeError(`a YKUSH command addresses ports 1-${PROTOCOL_PORTS}, got ${port}`);
  return port;
}

function okReply(reply: Uint8Array): Uint8Array {
  if (reply.length < YKUSH_REPLY_SIGNIFICANT) {
    throw new YkushReplyError(`a short reply of ${reply.length} bytes (expected ${YKUSH_REPORT_SIZE}, the first ${YKUSH_REPLY_SIGNIFICANT} significant)${reply.length ? `: ${showBytes(reply)}` : ''}`);
  }
  if (reply[0] !== STATUS_OK) throw new YkushReplyError(`status ${hexAddress(reply[0]!)}, not OK (${hexAddress(STATUS_OK)}): ${showBytes(reply)}`);
  return reply;
}

/** The first bytes of a reply in hex: "01 12 00 00 …". */
function showBytes(reply: Uint8Array): string {
  const shown = [...reply.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return reply.length > 4 ? `${shown} …` : shown;
}

/**
 * Which attached board the rig means: the one in normal mode (with the rig's serial, when it has
 * one). One line (an Error) when there is none, several, or only a board in bootloader mode.
 */
export function pickYkush<T extends UsbDeviceInfo>(devices: readonly T[], serial?: string): T {
  const ours = devices.filter((d) => d.vendorId === YKUSH_VENDOR_ID);
  const normal = ours.filter((d) => YKUSH_PRODUCT_IDS.includes(d.productId));
  const matching = normal.filter((d) => serial === undefined || d.serial === serial);
  if (matching.length === 1) return matching[0]!;
  const listed = (list: readonly T[]) => list.map(describeDevice).join('; ');
  if (matching.length > 1) {
    if (serial !== undefined) throw new Error(`${matching.length} YKUSH boards have serial ${serial} (${listed(matching)}): unplug all but one`);
    throw new Error(`${matching.length} YKUSH boards are attached (${listed(matching)}): name one with serial: in the rig's hubs[] entry (e.g. serial: ${matching[0]!.serial ?? 'YK…'})`);
  }
  // A board in its bootloader may not report the serial it has in normal mode.
  const booting = ours.filter((d) => YKUSH_BOOTLOADER_PRODUCT_IDS.includes(d.productId) && (serial === undefined || d.serial === serial || d.serial === null));
  if (booting.length) {
    throw new Error(`the YKUSH ${describeDevice(booting[0]!)} is in bootloader mode (product id ${hex4(booting[0]!.productId)}), where its control commands are not available: ` +
      'finish its firmware update, or power-cycle it');
  }
  if (serial !== undefined && normal.length) {
    throw new Error(`no YKUSH with serial ${serial} is attached; attached: ${listed(normal)}: fix the rig's hubs[].serial`);
  }
  throw new Error(`no YKUSH is attached to this machine (vendor ${hex4(YKUSH_VENDOR_ID)}, products ${YKUSH_PRODUCT_IDS.map(hex4).join(', ')}${serial !== undefined ? `, serial ${serial}` : ''}): ` +
    'plug its upstream port into the machine running dextbench, and check its power supply');
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/**
 * One board's control interface, opened for one operation: a command report out and its reply
 * back, one at a time. `exchange` resolves null when no reply came within `timeoutMs`.
 */
export interface YkushLink {
  /** The board's USB product id (a YKUSHXS has one port). */
  readonly productId: number;
  /** "04d8:f2f7 serial YK12345 at 1-1.4" */
  readonly name: string;
  exchange(command: Uint8Array, timeoutMs: number): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/** Finds and opens the rig's board by `deadline` (a performance.now() time). */
export type YkushConnect = (hub: YkushHubSpec, deadline: number) => Promise<YkushLink>;

export interface YkushOptions {
  /** Deadline of each operation: finding and opening the board, then its commands. Default 10 s. */
  timeoutMs?: number;
  /** How the board is reached (default: this machine's USB bus, through harness/usb). */
  connect?: YkushConnect;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Each command's reply gets this long (pykush's YKUSH_USB_TIMEOUT), within the operation's deadline. */
const EXCHANGE_MS = 1_000;
/** A switched port is read back until it agrees, every this often (within the deadline). */
const READBACK_INTERVAL_MS = 20;
/** How long the read-back may take to agree before the port counts as stuck. */
const READBACK_MS = 1_000;

export function ykushDriver(hub: YkushHubSpec, options: YkushOptions = {}): HubDriver {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connect = options.connect ?? usbConnect();
  const where = `hub ${hub.id} (ykush${hub.serial !== undefined ? ` ${hub.serial}` : ''})`;
  let tail: Promise<unknown> = Promise.resolve();

  const checkPort = (port: number) => {
    const most = Math.min(hub.ports ?? PROTOCOL_PORTS, PROTOCOL_PORTS);
    if (!Number.isInteger(port) || port < 1 || port > most) throw new HubError(`${where}: no port ${port} (ports 1-${most})`);
  };

  /** Runs `work` on the board after every earlier operation has finished, with its own deadline. */
  const exclusive = <T>(work: (board: Board) => Promise<T>): Promise<T> => {
    const run = tail.then(async () => {
      const deadline = performance.now() + timeoutMs;
      const link = await opened(connect, hub, deadline, where, timeoutMs);
      try {
        return await work(new Board(link, hub, deadline, where, timeoutMs));
      } catch (error) {
        if (error instanceof HubError) throw error;
        throw new HubError(`${where}: ${oneLine(error)}`);
      } finally {
        await link.close();
      }
    });
    tail = run.catch(() => undefined);
    return run;
  };

  const setPort = async (port: number, on: boolean): Promise<void> => {
    checkPort(port);
    await exclusive(async (board) => {
      const ports = await board.ports();
      if (port > ports) throw new HubError(`${where}: no port ${port} on ${board.name} (it has ${ports === 1 ? 'port 1 only' : `ports 1-${ports}`})`);
      await board.set({ kind: 'port', port, up: on });
      await board.readBack(port, on);
    });
  };

  return {
    id: hub.id,
    setPort,
    cyclePort: cycleBySwitching(setPort),
    status: () => exclusive(async (board) => (await board.states()).map((up, i): HubPortStatus => ({ port: i + 1, powered: up }))),
    async close() {
      // Nothing stays open between operations: wait for the one running.
      await tail;
    },
  };
}

/** The link, found and opened within the deadline; what went wrong as one HubError line. */
async function opened(connect: YkushConnect, hub: YkushHubSpec, deadline: number, where: string, timeoutMs: number): Promise<YkushLink> {
  const connecting = connect(hub, deadline);
  try {
    return await withDeadline(connecting, left(deadline), 'finding and opening the YKUSH');
  } catch (error) {
    if (error instanceof DeadlineError) {
      // It may still open after all: let go of it then.
      connecting.then((late) => late.close()).catch(() => undefined);
      throw new HubError(`${where}: finding and opening the YKUSH took longer than ${formatMs(timeoutMs)}`);
    }
    throw new HubError(`${where}: ${oneLine(error)}`);
  }
}

/** The commands of one operation on one opened board. */
class Board {
  readonly name: string;

  constructor(private readonly link: YkushLink, private readonly hub: YkushHubSpec, private readonly deadline: number,
    private readonly where: string, private readonly timeoutMs: number) {
    this.name = link.name;
  }

  /** A YKUSHXS's 1, else the rig's count, else the board's (0xf1), never more than the protocol addresses. */
  async ports(): Promise<number> {
    if (this.link.productId === YKUSHXS_PRODUCT_ID) return 1;
    if (this.hub.ports !== undefined) return this.hub.ports;
    const count = parseYkushPortCount(await this.send({ kind: 'portCount' }), this.link.productId);
    if (count < 1 || count > PROTOCOL_PORTS) {
      throw new HubError(`${this.where}: ${this.name} says it has ${count} downstream ports; the YKUSH commands known here address ports 1-${PROTOCOL_PORTS}: set ports: in the rig's hubs[] entry`);
    }
    return count;
  }

  /** A port or all-ports command, refused unless its reply says OK. */
  async set(command: YkushCommand): Promise<void> {
    await this.ask(command, checkYkushSetReply);
  }

  /** Reads the port until it shows `on`; a HubError when it does not within READBACK_MS. */
  async readBack(port: number, on: boolean): Promise<void> {
    const until = Math.min(this.deadline, performance.now() + READBACK_MS);
    for (;;) {
      const up = await this.ask({ kind: 'state', port }, parseYkushPortState);
      if (up === on) return;
      if (performance.now() + READBACK_INTERVAL_MS >= until) {
        throw new HubError(`${this.where}: port ${port} still reads ${up ? 'up' : 'down'} after ${describeYkushCommand({ kind: 'port', port, up: on })} was accepted`);
      }
      await sleep(READBACK_INTERVAL_MS);
    }
  }

  /** Every port's state: in one command from firmware 2 on, port by port before (pykush's "firmware glitch workaround"). */
  async states(): Promise<boolean[]> {
    const ports = await this.ports();
    const firmware = parseYkushFirmware(await this.send({ kind: 'firmware' }));
    if (firmware.major >= 2) return await this.ask({ kind: 'states' }, (reply) => parseYkushPortStates(reply, ports));
    const states: boolean[] = [];
    for (let port = 1; port <= ports; port++) states.push(await this.ask({ kind: 'state', port }, parseYkushPortState));
    return states;
  }

  /** A command whose reply must come and say OK: what `parse` makes of it, or one HubError naming the command. */
  private async ask<T>(command: YkushCommand, parse: (reply: Uint8Array) => T): Promise<T> {
    const timeoutMs = this.exchangeMs();
    const reply = await this.send(command);
    if (reply === null) throw new HubError(`${this.where}: ${this.name} did not answer ${describeYkushCommand(command)} within ${formatMs(timeoutMs)}`);
    try {
      return parse(reply);
    } catch (error) {
      if (!(error instanceof YkushReplyError)) throw error;
      throw new HubError(`${this.where}: ${this.name} refused ${describeYkushCommand(command)}: ${error.message}`);
    }
  }

  private async send(command: YkushCommand): Promise<Uint8Array | null> {
    const timeoutMs = this.exchangeMs();
    if (timeoutMs < 1) throw new HubError(`${this.where}: ran out of its ${formatMs(this.timeoutMs)} before ${describeYkushCommand(command)}`);
    return await this.link.exchange(ykushCommandReport(command), timeoutMs);
  }

  private exchangeMs(): number {
    return Math.min(EXCHANGE_MS, Math.floor(this.deadline - performance.now()));
  }
}

function left(deadline: number): number {
  return Math.max(1, Math.round(deadline - performance.now()));
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

const HID_CLASS = 3;
/** HID class request SET_REPORT (HID 1.11 §7.2.2): how a report goes out on an interface without an interrupt OUT endpoint. */
const SET_REPORT = 0x09;
/** Its wValue: report type Output (2) in the high byte, report id 0 (a YKUSH numbers no reports). */
const OUTPUT_REPORT = 0x0200;
/** After a command went unanswered its reply may still come: reads for this long drop it before the next command. */
const DRAIN_MS = 20;
const DRAIN_READS = 4;

/**
 * The boards on this machine's USB bus (harness/usb). What connect() returns remembers, across the
 * operations of one driver, that a command went unanswered: its late reply would otherwise be read
 * as the next command's, so the next link first drops whatever is waiting.
 */
function usbConnect(): YkushConnect {
  const missed = { reply: false };
  return async (hub) => {
    const found: FoundDevice[] = [];
    for (const productId of [...YKUSH_PRODUCT_IDS, ...YKUSH_BOOTLOADER_PRODUCT_IDS]) {
      found.push(...await findDevices({ vendorId: YKUSH_VENDOR_ID, productId }));
    }
    const device = pickYkush(found, hub.serial);
    // usbhid binds every HID interface on Linux: detached, or the claim fails "busy".
    const handle = await open(device, { interfaces: [], detachKernelDriver: true, timeoutMs: EXCHANGE_MS });
    try {
      const endpoints = handle.endpoints();
      const hid = endpoints.filter((e) => e.interfaceClass === HID_CLASS && e.type === 'interrupt');
      const input = hid.find((e) => e.address & 0x80);
      if (!input) {
        throw new UsbError(`${handle.name} has no HID interface with an interrupt IN endpoint (its endpoints: ${endpoints.map((e) => `${hexAddress(e.address)} ${e.type}, interface class ${e.interfaceClass}`).join('; ') || 'none'}): is it a YKUSH?`);
      }
      const output = hid.find((e) => e.interface === input.interface && !(e.address & 0x80));
      try {
        await handle.claim(input.interface);
      } catch (error) {
        throw new UsbError(ykushClaimFailure(oneLine(error), input.interface));
      }
      return new UsbYkushLink(handle, device.productId, input, output, missed);
    } catch (error) {
      await handle.close();
      throw error;
    }
  };
}

/**
 * A failed claim of the HID interface, as one line. On macOS the HID family may own every HID
 * interface, and node-usb may then claim it only as root: NOT confirmed (no Mac here, nothing in
 * the references), so the line says "likely".
 */
export function ykushClaimFailure(detail: string, interfaceNumber: number, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'darwin') return detail;
  return `${detail}; the YKUSH's HID interface ${interfaceNumber} is likely held by macOS's HID family (unconfirmed): ` +
    'run dextbench with sudo, or plug the YKUSH\'s control into a Linux machine';
}

class UsbYkushLink implements YkushLink {
  readonly name: string;

  constructor(private readonly handle: UsbHandle, readonly productId: number, private readonly input: EndpointInfo,
    private readonly output: EndpointInfo | undefined, private readonly missed: { reply: boolean }) {
    this.name = handle.name;
  }

  async exchange(command: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
    const until = performance.now() + timeoutMs;
    if (this.missed.reply) {
      await this.drain();
      this.missed.reply = false;
    }
    const sendMs = Math.max(1, Math.floor(until - performance.now()));
    if (this.output) {
      await this.handle.interruptOut(this.output.address, command, { timeoutMs: sendMs });
    } else {
      await this.handle.controlOut({ requestType: 'class', recipient: 'interface', request: SET_REPORT, value: OUTPUT_REPORT, index: this.input.interface },
        command, { timeoutMs: sendMs });
    }
    try {
      return await this.handle.interruptIn(this.input.address, YKUSH_REPORT_SIZE, { timeoutMs: Math.max(1, Math.floor(until - performance.now())) });
    } catch (error) {
      if (!(error instanceof UsbTimeout)) throw error;
      this.missed.reply = true;
      return null;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async drain(): Promise<void> {
    for (let read = 0; read < DRAIN_READS; read++) {
      try {
        await this.handle.interruptIn(this.input.address, YKUSH_REPORT_SIZE, { timeoutMs: DRAIN_MS });
      } catch (error) {
        if (error instanceof UsbTimeout) return;
        throw error;
      }
    }
  }
}
