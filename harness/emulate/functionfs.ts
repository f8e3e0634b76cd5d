// FunctionFS (the kernel's usb_f_fs): a USB function whose descriptors and traffic are served by a
// program instead of a kernel driver. A configfs gadget gets `functions/ffs.<instance>`
// (gadgetPlan, from a profile's `emulate.functions: [{ ffs: { name } }]`); the instance is mounted
// as a folder (mountFunctionFs, through an Exec); a server writes the function's descriptors and
// strings to its `ep0`, answers control requests read from `ep0`, and moves data through `ep1..N`.
//
// The server RUNS ON THE BOARD: it opens the mounted folder's files with node:fs, in the process
// that calls serveFunctionFs. Layouts are those of the kernel's uapi <linux/usb/functionfs.h> and
// Documentation/usb/functionfs.rst; the server's behaviour on a real kernel is proven by the QEMU
// lane (test/usb/ykush.test.ts).
//
// Blocking files, and why the server wants a process of its own: a read of ep0 waits in the kernel
// for the next event, and a transfer on an endpoint file waits for the host; node runs each such
// call on a libuv threadpool thread, which stays parked there until the kernel returns. Nothing in
// user space can cancel it (closing the fd does not wake the reader). So:
// - the process needs a threadpool with a thread for every file that may park (ep0 and each
//   endpoint) plus spare ones for ordinary file work: start it with UV_THREADPOOL_SIZE of at least
//   functionFsThreadpoolSize(endpoints) in its environment (libuv reads it once, at first use,
//   which may be before the script's first line);
// - close() returns at once and names the files whose calls are still parked (ep0's always is,
//   unless an event just came); process.exit() would then hang, because node joins the threadpool's
//   threads on exit (measured, node 20), so endServerProcess ends it by a signal instead.
// Endpoint transfers do return, with ESHUTDOWN, when the function is disabled (UDC unbind, host
// deconfigure): unbinding before closing leaves only ep0 parked.
import { closeSync, constants, open, read, write, close as closeFd } from 'node:fs';
import { join } from 'node:path';
import { DeadlineError, withDeadline } from '../common/time.ts';
import type { Exec, ExecResult } from '../host/exec.ts';
import { formatArgv } from '../host/exec.ts';

export const FUNCTIONFS_DESCRIPTORS_MAGIC_V2 = 3;
export const FUNCTIONFS_STRINGS_MAGIC = 2;
export const FUNCTIONFS_HAS_FS_DESC = 1;
export const FUNCTIONFS_HAS_HS_DESC = 2;
export const FUNCTIONFS_HAS_SS_DESC = 4;
/** struct usb_functionfs_event: the 8-byte setup packet, the type, 3 bytes of padding. */
export const FUNCTIONFS_EVENT_SIZE = 12;
export const LANG_EN_US = 0x0409;

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long the handler has to answer a control request; USB gives the host's request 5 s in all. */
const SETUP_ANSWER_MS = 1000;
/** How long the host has to collect what the device writes on an IN endpoint, unless the call says. */
const ENDPOINT_WRITE_MS = 5000;
/** Closing the files the server holds (each close is a threadpool call). */
const CLOSE_MS = 2000;

/** One line: what went wrong, and what to do when there is something to do. */
export class FunctionFsError extends Error {
  constructor(message: string, readonly reason: 'invalid' | 'mount' | 'io' | 'disabled' | 'closed' | 'timeout' = 'io') {
    super(message);
    this.name = 'FunctionFsError';
  }
}

// ---- descriptors ---------------------------------------------------------------------------

export type TransferType = 'isochronous' | 'bulk' | 'interrupt';

/** The descriptors a FunctionFS function declares: its interfaces, their class descriptors, endpoints. */
export type FunctionDescriptor =
  /** USB 2.0 §9.6.5. `string` is an index into the strings blob (1 = its first string), 0 for none. */
  | { type: 'interface'; number: number; alternate?: number; endpoints: number; class: number; subclass?: number; protocol?: number; string?: number }
  /** USB 2.0 §9.6.6: address with the direction bit (0x81 IN 1); FunctionFS lets the UDC pick the real one. */
  | { type: 'endpoint'; address: number; transfer: TransferType; maxPacketSize: number; interval?: number }
  /** HID 1.11 §6.2.1, with one class descriptor: the report descriptor (type 0x22) of that length. */
  | { type: 'hid'; reportLength: number; bcdHid?: number; country?: number }
  /** USB 3.x SuperSpeed endpoint companion (type 0x30), after each endpoint of the ss list. */
  | { type: 'ss-companion'; maxBurst?: number; attributes?: number; bytesPerInterval?: number }
  /** Any other class-specific descriptor: bLength and bDescriptorType are added. */
  | { type: 'raw'; descriptorType: number; payload: Uint8Array };

export interface FunctionDescriptors {
  /** Full-speed and high-speed lists: FunctionFS needs both, with the same endpoints. */
  fs: FunctionDescriptor[];
  hs: FunctionDescriptor[];
  ss?: FunctionDescriptor[];
}

const TRANSFER_BITS: Record<TransferType, number> = { isochronous: 1, bulk: 2, interrupt: 3 };

function byte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new FunctionFsError(`${what} ${value} is not a byte (0..255)`, 'invalid');
  return value;
}

function le16(value: number, what: string): [number, number] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new FunctionFsError(`${what} ${value} does not fit 16 bits`, 'invalid');
  return [value & 0xff, value >> 8];
}

/** One descriptor's bytes, bLength first. */
export function encodeDescriptor(d: FunctionDescriptor): Uint8Array {
  let body: number[];
  switch (d.type) {
    case 'interface':
      body = [0x04, byte(d.number, 'interface number'), byte(d.alternate ?? 0, 'alternate setting'), byte(d.endpoints, 'endpoint count'),
        byte(d.class, 'interface class'), byte(d.subclass ?? 0, 'interface subclass'), byte(d.protocol ?? 0, 'interface protocol'), byte(d.string ?? 0, 'interface string index')];
      break;
    case 'endpoint': {
      if ((d.address & 0x0f) === 0 || (d.address & 0x70) !== 0) throw new FunctionFsError(`endpoint address 0x${d.address.toString(16)}: use 1..15, with 0x80 for IN`, 'invalid');
      body = [0x05, byte(d.address, 'endpoint address'), TRANSFER_BITS[d.transfer], ...le16(d.maxPacketSize, 'wMaxPacketSize'), byte(d.interval ?? 0, 'bInterval')];
      break;
    }
    case 'hid':
      body = [0x21, ...le16(d.bcdHid ?? 0x0111, 'bcdHID'), byte(d.country ?? 0, 'bCountryCode'), 1, 0x22, ...le16(d.reportLength, 'report descriptor length')];
      break;
    case 'ss-companion':
      body = [0x30, byte(d.maxBurst ?? 0, 'bMaxBurst'), byte(d.attributes ?? 0, 'bmAttributes'), ...le16(d.bytesPerInterval ?? 0, 'wBytesPerInterval')];
      break;
    case 'raw':
      body = [byte(d.descriptorType, 'descriptor type'), ...d.payload];
      break;
  }
  return Uint8Array.from([byte(body.length + 1, 'descriptor length'), ...body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

const endpointAddresses = (list: FunctionDescriptor[]): number[] => list.flatMap((d) => (d.type === 'endpoint' ? [d.address] : []));

/**
 * The descriptors blob ep0 takes first (format v2): magic 3, total length, flags (which speeds
 * follow), then one LE32 count per speed present, then each speed's descriptors back to back.
 */
export function encodeDescriptors(descriptors: FunctionDescriptors): Uint8Array {
  const speeds: Array<[string, FunctionDescriptor[] | undefined, number]> = [
    ['fs', descriptors.fs, FUNCTIONFS_HAS_FS_DESC], ['hs', descriptors.hs, FUNCTIONFS_HAS_HS_DESC], ['ss', descriptors.ss, FUNCTIONFS_HAS_SS_DESC],
  ];
  const present = speeds.filter((s): s is [string, FunctionDescriptor[], number] => s[1] !== undefined && s[1].length > 0);
  if (!present.some(([name]) => name === 'fs') || !present.some(([name]) => name === 'hs')) {
    throw new FunctionFsError('FunctionFS descriptors need a full-speed (fs) and a high-speed (hs) list', 'invalid');
  }
  const fsEndpoints = endpointAddresses(descriptors.fs).join(',');
  for (const [name, list] of present) {
    if (endpointAddresses(list).join(',') !== fsEndpoints) {
      throw new FunctionFsError(`the ${name} descriptors declare endpoints [${endpointAddresses(list).map(hex2).join(', ')}], fs declares [${endpointAddresses(descriptors.fs).map(hex2).join(', ')}]: every speed needs the same endpoints in the same order`, 'invalid');
    }
  }
  const counts = present.map(([, list]) => u32(list.length));
  const bodies = present.flatMap(([, list]) => list.map(encodeDescriptor));
  const length = 12 + 4 * counts.length + bodies.reduce((n, b) => n + b.length, 0);
  const flags = present.reduce((f, [, , flag]) => f | flag, 0);
  return concat([u32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2), u32(length), u32(flags), ...counts, ...bodies]);
}

/**
 * The strings blob ep0 takes second: magic 2, total length, strings per language, languages, then
 * per language its LE16 code and its strings, each UTF-8 and NUL-terminated. Index 1 in a
 * descriptor is each language's first string.
 */
export function encodeStrings(languages: ReadonlyMap<number, readonly string[]>): Uint8Array {
  const entries = [...languages];
  const count = entries[0]?.[1].length ?? 0;
  for (const [lang, strings] of entries) {
    le16(lang, 'language code');
    if (strings.length !== count) {
      throw new FunctionFsError(`strings: language 0x${lang.toString(16).padStart(4, '0')} has ${strings.length}, 0x${entries[0]![0].toString(16).padStart(4, '0')} has ${count}: every language needs the same number`, 'invalid');
    }
    const nul = strings.find((s) => s.includes('\0'));
    if (nul !== undefined) throw new FunctionFsError(`strings: ${JSON.stringify(nul)} contains a NUL, which ends a FunctionFS string`, 'invalid');
  }
  const tables = entries.map(([lang, strings]) => concat([Uint8Array.from(le16(lang, 'language code')), ...strings.map((s) => concat([new TextEncoder().encode(s), new Uint8Array(1)]))]));
  const length = 16 + tables.reduce((n, t) => n + t.length, 0);
  return concat([u32(FUNCTIONFS_STRINGS_MAGIC), u32(length), u32(count), u32(entries.length), ...tables]);
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

// ---- events --------------------------------------------------------------------------------

export const FUNCTIONFS_EVENT_TYPES = ['bind', 'unbind', 'enable', 'disable', 'setup', 'suspend', 'resume'] as const;
export type FunctionFsEventType = typeof FUNCTIONFS_EVENT_TYPES[number];

/** A control request the host sent to this function (struct usb_ctrlrequest, USB 2.0 §9.3). */
export interface SetupRequest {
  /** bmRequestType as sent. */
  requestType: number;
  request: number;
  value: number;
  /** For an interface recipient, the function's own interface number (FunctionFS maps it back). */
  index: number;
  /** wLength: the most the data stage may carry. */
  length: number;
  direction: 'in' | 'out';
  kind: 'standard' | 'class' | 'vendor' | 'reserved';
  recipient: 'device' | 'interface' | 'endpoint' | 'other';
}

export interface FunctionFsEvent {
  type: FunctionFsEventType;
  /** For `setup` only. */
  setup?: SetupRequest;
}

/** One struct usb_functionfs_event as ep0 gives it. */
export function parseEvent(bytes: Uint8Array): FunctionFsEvent {
  if (bytes.length !== FUNCTIONFS_EVENT_SIZE) throw new FunctionFsError(`ep0 gave ${bytes.length} bytes; an event is ${FUNCTIONFS_EVENT_SIZE}`);
  const type = FUNCTIONFS_EVENT_TYPES[bytes[8]!];
  if (!type) throw new FunctionFsError(`ep0 gave an event of unknown type ${bytes[8]} (this server knows 0..6)`);
  if (type !== 'setup') return { type };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const requestType = bytes[0]!;
  return {
    type,
    setup: {
      requestType, request: bytes[1]!, value: view.getUint16(2, true), index: view.getUint16(4, true), length: view.getUint16(6, true),
      direction: requestType & 0x80 ? 'in' : 'out',
      kind: (['standard', 'class', 'vendor', 'reserved'] as const)[(requestType >> 5) & 3]!,
      recipient: (['device', 'interface', 'endpoint', 'other'] as const)[Math.min(requestType & 0x1f, 3)]!,
    },
  };
}

// ---- mounting --------------------------------------------------------------------------------

export interface MountOptions {
  /** Deadline for the whole operation (default 10 s). */
  timeoutMs?: number;
  /** Where the mount table and the kernel's filesystems are read (tests point these elsewhere). */
  mountsFile?: string;
  filesystemsFile?: string;
}

interface MountEntry { source: string; dir: string; fstype: string }

/** /proc/mounts lines; octal escapes (\040 for a space) undone. */
function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text.split('\n').filter(Boolean).map((line) => {
    const [source = '', dir = '', fstype = ''] = line.split(' ');
    return { source: unescape(source), dir: unescape(dir), fstype };
  });
}

/** The command's complaint: util-linux mount adds a second line pointing at dmesg, which says nothing. */
const complaint = (result: ExecResult): string => result.stderr.split('\n').map((l) => l.trim().replace(/\.$/, ''))
  .filter((l) => l && !/^dmesg\(1\) may have more information/.test(l)).at(-1) ?? `exit ${result.exitCode}`;

/**
 * Mounts FunctionFS instance `instance` (the `<name>` of a configfs `functions/ffs.<name>`) on
 * `dir` on the board, creating `dir`. Mounted there already: nothing to do.
 */
export async function mountFunctionFs(exec: Exec, instance: string, dir: string, options: MountOptions = {}): Promise<void> {
  const deadline = performance.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const where = `FunctionFS ${instance} on ${exec.where}`;
  const run = async (argv: string[], idempotent = false): Promise<ExecResult> => {
    const left = Math.round(deadline - performance.now());
    if (left <= 0) throw new FunctionFsError(`${where}: did not finish within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms (not run: ${formatArgv(argv)})`, 'timeout');
    const result = await exec.run(argv, { timeoutMs: left, nothrow: true, idempotent });
    if (result.timedOut) throw new FunctionFsError(`${where}: ${formatArgv(argv)} timed out`, 'timeout');
    return result;
  };
  const mountsFile = options.mountsFile ?? '/proc/mounts';
  const mounts = await run(['cat', mountsFile], true);
  if (!mounts.ok) throw new FunctionFsError(`${where}: cannot read ${mountsFile}: ${complaint(mounts)}`, 'mount');
  const entries = parseMounts(mounts.stdout);
  const here = entries.filter((e) => e.dir === dir).at(-1);
  if (here) {
    if (here.fstype === 'functionfs' && here.source === instance) return;
    throw new FunctionFsError(`${where}: ${dir} already has ${here.fstype === 'functionfs' ? `FunctionFS ${here.source}` : `a ${here.fstype} (${here.source})`} mounted on it: unmount it, or pick another folder`, 'mount');
  }
  const elsewhere = entries.find((e) => e.fstype === 'functionfs' && e.source === instance);
  if (elsewhere) throw new FunctionFsError(`${where}: already mounted on ${elsewhere.dir} (an instance mounts once): use that folder, or unmount it first`, 'mount');
  const filesystemsFile = options.filesystemsFile ?? '/proc/filesystems';
  const filesystems = await run(['cat', filesystemsFile], true);
  if (filesystems.ok && !/\sfunctionfs$/m.test(filesystems.stdout)) {
    throw new FunctionFsError(`${where}: the kernel has no FunctionFS (functionfs is not in ${filesystemsFile}): load it with \`modprobe usb_f_fs\` (or build the kernel with CONFIG_USB_CONFIGFS_F_FS)`, 'mount');
  }
  const made = await run(['mkdir', '-p', dir]);
  if (!made.ok) throw new FunctionFsError(`${where}: mkdir -p ${dir} failed: ${rootHint(complaint(made))}`, 'mount');
  const mounted = await run(['mount', '-t', 'functionfs', instance, dir]);
  if (!mounted.ok) throw new FunctionFsError(`${where}: mount -t functionfs ${instance} ${dir} failed: ${explainMountFailure(instance, complaint(mounted))}`, 'mount');
}

function rootHint(stderr: string): string {
  return /Permission denied|Operation not permitted|must be superuser|permission/i.test(stderr) ? `${stderr}: mounting FunctionFS needs root on the board (run as root, or through sudo)` : stderr;
}

/** Why `mount -t functionfs` failed, in the board's terms. */
export function explainMountFailure(instance: string, stderr: string): string {
  // The kernel looks the instance up among the ffs.<name> functions configfs made: ENOENT when none has that name.
  if (/No such file or directory|does not exist/i.test(stderr)) {
    return `${stderr}: no FunctionFS function named ${instance}; create functions/ffs.${instance} in a configfs gadget first (a profile's emulate.functions: [{ ffs: { name: ${instance} } }])`;
  }
  if (/busy/i.test(stderr)) return `${stderr}: instance ${instance} is mounted elsewhere already`;
  if (/unknown filesystem type/i.test(stderr)) return `${stderr}: load usb_f_fs with \`modprobe usb_f_fs\``;
  return rootHint(stderr);
}

/** Unmounts `dir` when FunctionFS is mounted there (the server must have stopped: its files keep it busy). */
export async function unmountFunctionFs(exec: Exec, dir: string, options: MountOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const mounts = await exec.run(['cat', options.mountsFile ?? '/proc/mounts'], { timeoutMs, nothrow: true, idempotent: true });
  if (!parseMounts(mounts.stdout).some((e) => e.dir === dir && e.fstype === 'functionfs')) return;
  const result = await exec.run(['umount', dir], { timeoutMs, nothrow: true });
  if (!result.ok) {
    const busy = /busy/i.test(result.stderr) ? ' (a server still holds its files: stop it first)' : '';
    throw new FunctionFsError(`umount ${dir} on ${exec.where} failed: ${complaint(result)}${busy}`, 'mount');
  }
}

// ---- the server ------------------------------------------------------------------------------

/** What the handler answers to a control request. */
export type SetupAnswer =
  /** IN request: the data stage (the kernel sends at most wLength of it). */
  | Uint8Array
  /** OUT request accepted: its data stage (wLength bytes) goes to handler.setupData. */
  | 'ack'
  /** Refused: the host sees a STALL. */
  | 'stall';

export interface FunctionFsEndpoint {
  /** The file's number: ep<index>, endpoints counted in the order the fs descriptors declare them. */
  index: number;
  /** As declared; the UDC may give the host another number. */
  address: number;
  direction: 'in' | 'out';
  transfer: TransferType;
  maxPacketSize: number;
}

export interface FunctionFsEndpoints {
  readonly list: readonly FunctionFsEndpoint[];
  /** Waits for the host to send on OUT endpoint `index`; no deadline unless given (it is the device waiting for its host). */
  read(index: number, length: number, options?: { timeoutMs?: number }): Promise<Uint8Array>;
  /** Resolves once the host has taken the data from IN endpoint `index` (default deadline 5 s). */
  write(index: number, data: Uint8Array, options?: { timeoutMs?: number }): Promise<number>;
  /** Aborted when the endpoints are disabled or the server closes; reads and writes then reject. */
  readonly signal: AbortSignal;
}

export interface FunctionFsHandler {
  /** A control request for this function; a throw or a late answer (1 s) stalls it. */
  setup(request: SetupRequest): SetupAnswer | Promise<SetupAnswer>;
  /** The data stage of an OUT request setup() answered 'ack'. */
  setupData?(request: SetupRequest, data: Uint8Array): void;
  /** The host configured the function (ENABLE): its endpoints are open until `signal` aborts. */
  enabled?(endpoints: FunctionFsEndpoints): void | Promise<void>;
  /** Every event, after the server has handled it. */
  event?(event: FunctionFsEvent): void;
  /** A failure while serving, as one line (default: printed to stderr). */
  error?(error: FunctionFsError): void;
}

export interface FunctionFsServerOptions {
  descriptors: FunctionDescriptors;
  /** By language (0x0409); an interface's `string: 1` is the first of each. */
  strings: ReadonlyMap<number, readonly string[]>;
  handler: FunctionFsHandler;
  /** Deadline for writing the descriptors and strings (default 10 s). */
  timeoutMs?: number;
}

export interface FunctionFsClosed {
  /** Files with a read or write still waiting in the kernel: the process must end by a signal (endServerProcess). */
  parked: string[];
}

export interface FunctionFsServer {
  readonly dir: string;
  readonly endpoints: readonly FunctionFsEndpoint[];
  /** Resolves when serving ends: undefined after close(), the error when ep0 failed. */
  readonly ended: Promise<FunctionFsError | undefined>;
  /** Stops serving at once: closes every file not parked in the kernel, and says which are. */
  close(): Promise<FunctionFsClosed>;
}

/** Threads the server's process needs in libuv's pool: one per file that may park, two spare. */
export function functionFsThreadpoolSize(endpointCount: number): number {
  return 1 + endpointCount + 2;
}

/** The endpoints the descriptors declare, numbered as FunctionFS names their files. */
export function functionFsEndpoints(descriptors: FunctionDescriptors): FunctionFsEndpoint[] {
  return descriptors.fs.flatMap((d) => (d.type === 'endpoint' ? [d] : [])).map((d, i) => ({
    index: i + 1, address: d.address, direction: d.address & 0x80 ? 'in' : 'out', transfer: d.transfer, maxPacketSize: d.maxPacketSize,
  }));
}

/**
 * Ends the server's process after close(): process.exit() when nothing is parked; else SIGTERM with
 * its default action, because process.exit() joins libuv's threads and a parked one never returns.
 */
export function endServerProcess(closed: FunctionFsClosed, exitCode = 0): never {
  if (closed.parked.length === 0) process.exit(exitCode);
  process.removeAllListeners('SIGTERM');
  process.kill(process.pid, 'SIGTERM');
  // Another thread may take the signal a moment after kill() returns: wait for it, synchronously.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
  throw new FunctionFsError('the process outlived its own SIGTERM by 2 s');
}

/**
 * Linux errno values FunctionFS returns that libuv has no names for (node then says "Unknown system
 * error -51"), so they are told apart by number. FunctionFS exists only on Linux.
 */
const ERRNO = { ESRCH: 3, EINTR: 4, EINVAL: 22, EIDRM: 43, EL2HLT: 51, EBADFD: 77, ESHUTDOWN: 108 } as const;
type ErrnoName = keyof typeof ERRNO | 'ENOENT';
interface Errno extends Error { code?: string; errno?: number }
/** The errno's name when it is one this module tells apart. */
function codeOf(error: unknown): ErrnoName | undefined {
  const { code, errno } = (error ?? {}) as Errno;
  if (code === 'ENOENT') return code;
  return (Object.keys(ERRNO) as Array<keyof typeof ERRNO>).find((name) => errno !== undefined && Math.abs(errno) === ERRNO[name]);
}

/**
 * Writes the function's descriptors and strings to `<dir>/ep0` (after which the gadget may be bound
 * to its UDC), then serves it until close(). See the header for the process it wants.
 */
export async function serveFunctionFs(dir: string, options: FunctionFsServerOptions): Promise<FunctionFsServer> {
  const endpoints = functionFsEndpoints(options.descriptors);
  const descriptors = encodeDescriptors(options.descriptors);
  const strings = encodeStrings(options.strings);
  const needed = functionFsThreadpoolSize(endpoints.length);
  const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  if (!(pool >= needed)) {
    throw new FunctionFsError(`serving ${dir} needs ${needed} libuv threads (ep0 and ${endpoints.length} endpoint files may each park one), this process has ${pool}: start it with UV_THREADPOOL_SIZE=${needed} in its environment`, 'invalid');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ep0Path = join(dir, 'ep0');
  const ep0 = await withDeadline(openFile(ep0Path, constants.O_RDWR), timeoutMs, `opening ${ep0Path}`).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') throw new FunctionFsError(`${dir} has no ep0: it is not a mounted FunctionFS (mountFunctionFs first)`, 'invalid');
    throw ioError(error, `opening ${ep0Path}`);
  });
  try {
    await withDeadline(writeFile(ep0, descriptors), timeoutMs, `writing descriptors to ${ep0Path}`).catch((error: unknown) => {
      const code = codeOf(error);
      // EBADFD/ESRCH: ep0 is past its descriptors stage, so another server already serves this instance.
      if (code === 'EBADFD' || code === 'ESRCH') throw new FunctionFsError(`${ep0Path} refused the descriptors (${code}): another server already serves ${dir}; stop it, or unmount and mount again`, 'invalid');
      if (code === 'EINVAL') throw new FunctionFsError(`${ep0Path} refused the descriptors (EINVAL): the kernel found them malformed (its log says which one)`, 'invalid');
      throw ioError(error, `writing descriptors to ${ep0Path}`);
    });
    await withDeadline(writeFile(ep0, strings), timeoutMs, `writing strings to ${ep0Path}`).catch((error: unknown) => {
      throw codeOf(error) === 'EINVAL'
        ? new FunctionFsError(`${ep0Path} refused the strings (EINVAL): an interface names a string index the strings do not have, or they are malformed`, 'invalid')
        : ioError(error, `writing strings to ${ep0Path}`);
    });
  } catch (error) {
    closeSync(ep0);
    throw error instanceof DeadlineError ? new FunctionFsError(`${error.message} (is ${dir} a FunctionFS mount?)`, 'timeout') : error;
  }
  return new Server(dir, ep0, endpoints, options.handler);
}

const openFile = (path: string, flags: number): Promise<number> => new Promise((resolve, reject) => {
  open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd)));
});
const writeFile = (fd: number, data: Uint8Array): Promise<number> => new Promise((resolve, reject) => {
  write(fd, data, 0, data.length, null, (error, written) => (error ? reject(error) : resolve(written)));
});
const readFile = (fd: number, length: number): Promise<Uint8Array> => new Promise((resolve, reject) => {
  const buffer = new Uint8Array(length);
  read(fd, buffer, 0, length, null, (error, count) => (error ? reject(error) : resolve(buffer.subarray(0, count))));
});

function ioError(error: unknown, what: string): FunctionFsError {
  if (error instanceof FunctionFsError) return error;
  const code = codeOf(error);
  if (code === 'ESHUTDOWN') return new FunctionFsError(`${what}: the endpoint was disabled (the host deconfigured the device, or the UDC was unbound)`, 'disabled');
  const { errno } = error as Errno;
  return new FunctionFsError(`${what}: ${code ?? (errno !== undefined ? `errno ${Math.abs(errno)} (${(error as Errno).code})` : (error as Error).message)}`);
}

class Server implements FunctionFsServer {
  readonly ended: Promise<FunctionFsError | undefined>;
  private endedWith!: (error: FunctionFsError | undefined) => void;
  private closing = false;
  /** Calls in the kernel, by file name: a file with one is parked until the kernel returns. */
  private readonly inFlight = new Map<string, number>();
  private readonly fds = new Map<string, number>();
  private active: { controller: AbortController; done: Promise<void> } | undefined;

  constructor(readonly dir: string, ep0: number, readonly endpoints: readonly FunctionFsEndpoint[], private readonly handler: FunctionFsHandler) {
    this.fds.set('ep0', ep0);
    this.ended = new Promise((resolve) => { this.endedWith = resolve; });
    void this.serve();
  }

  async close(): Promise<FunctionFsClosed> {
    if (!this.closing) {
      this.closing = true;
      this.active?.controller.abort(new FunctionFsError(`${this.dir}: the server closed`, 'closed'));
      this.endedWith(undefined);
    }
    // A parked call's fd stays open: closing it would not wake the call, and its number could be
    // reused under it before the kernel returns.
    for (const [file, fd] of [...this.fds]) {
      if (this.inFlight.get(file)) continue;
      this.fds.delete(file);
      await withDeadline(new Promise<void>((resolve) => closeFd(fd, () => resolve())), CLOSE_MS, `closing ${file}`).catch(() => undefined);
    }
    return { parked: [...this.inFlight].filter(([, n]) => n > 0).map(([file]) => file).sort() };
  }

  private report(error: FunctionFsError): void {
    if (this.handler.error) this.handler.error(error);
    else process.stderr.write(`${error.message}\n`);
  }

  /** A call on `file` whose time in the kernel is counted. */
  private async call<T>(file: string, run: () => Promise<T>): Promise<T> {
    this.inFlight.set(file, (this.inFlight.get(file) ?? 0) + 1);
    try {
      return await run();
    } finally {
      this.inFlight.set(file, this.inFlight.get(file)! - 1);
    }
  }

  private get ep0(): number {
    return this.fds.get('ep0')!;
  }

  /** ep0's events, one read each, until close() or an error ep0 cannot recover from. */
  private async serve(): Promise<void> {
    while (!this.closing) {
      let event: FunctionFsEvent;
      try {
        event = parseEvent(await this.call('ep0', () => readFile(this.ep0, FUNCTIONFS_EVENT_SIZE)));
      } catch (error) {
        if (this.closing) return;
        // EIDRM: a pending request was cancelled by a newer event; the next read gives that event.
        if (codeOf(error) === 'EIDRM' || codeOf(error) === 'EINTR') continue;
        const failure = ioError(error, `${this.dir}/ep0: reading events`);
        this.report(failure);
        this.closing = true;
        this.active?.controller.abort(failure);
        this.endedWith(failure);
        return;
      }
      if (this.closing) return;
      if (event.type === 'enable') await this.enable();
      else if (event.type === 'disable' || event.type === 'unbind') await this.disable(event.type);
      else if (event.setup) await this.answer(event.setup);
      this.handler.event?.(event);
    }
  }

  private async answer(setup: SetupRequest): Promise<void> {
    const what = `${this.dir}/ep0: ${describeSetup(setup)}`;
    let answer: SetupAnswer;
    try {
      answer = await withDeadline(Promise.resolve(this.handler.setup(setup)), SETUP_ANSWER_MS, `the handler's answer to ${describeSetup(setup)}`);
    } catch (error) {
      this.report(new FunctionFsError(`${what}: the handler failed (${(error as Error).message}); stalled`));
      answer = 'stall';
    }
    if ((answer instanceof Uint8Array && setup.direction === 'out') || (answer === 'ack' && setup.direction === 'in')) {
      this.report(new FunctionFsError(`${what}: the handler answered ${answer === 'ack' ? '"ack"' : 'with data'} to an ${setup.direction.toUpperCase()} request; stalled`));
      answer = 'stall';
    }
    try {
      if (answer === 'stall') {
        // FunctionFS stalls a pending request when ep0 is used against its direction (functionfs.rst);
        // the call then fails with EL2HLT, which is the stall having been sent.
        await this.call<unknown>('ep0', () => (setup.direction === 'in' ? readFile(this.ep0, 1) : writeFile(this.ep0, new Uint8Array(1))))
          .catch((error: unknown) => { if (codeOf(error) !== 'EL2HLT') throw error; });
      } else if (answer === 'ack') {
        // A read takes the data stage and completes the status stage; node skips a read of 0 bytes,
        // so ask for at least 1 (the kernel gives no more than wLength).
        const data = await this.call('ep0', () => readFile(this.ep0, Math.max(1, setup.length)));
        this.handler.setupData?.(setup, data);
      } else {
        await this.call('ep0', () => writeFile(this.ep0, answer.subarray(0, setup.length)));
      }
    } catch (error) {
      // EIDRM: the host gave up on the request (a newer event cancelled it); nothing left to answer.
      if (codeOf(error) !== 'EIDRM') this.report(ioError(error, what));
    }
  }

  private async enable(): Promise<void> {
    await this.disable(undefined);
    const controller = new AbortController();
    try {
      for (const endpoint of this.endpoints) {
        const file = `ep${endpoint.index}`;
        if (!this.fds.has(file)) this.fds.set(file, await openFile(join(this.dir, file), endpoint.direction === 'in' ? constants.O_WRONLY : constants.O_RDONLY));
      }
    } catch (error) {
      this.report(ioError(error, `${this.dir}: opening the endpoint files`));
      return;
    }
    const io = new Endpoints(this.dir, this.endpoints, controller.signal, (file, run) => this.call(file, run), (file) => this.fds.get(file));
    const done = Promise.resolve()
      .then(() => this.handler.enabled?.(io))
      .catch((error: unknown) => {
        if (!(error instanceof FunctionFsError && (error.reason === 'disabled' || error.reason === 'closed'))) {
          this.report(error instanceof FunctionFsError ? error : new FunctionFsError(`${this.dir}: the handler's endpoint work failed: ${(error as Error).message}`));
        }
      });
    this.active = { controller, done };
  }

  /** DISABLE or UNBIND: the kernel ends the endpoints' transfers (ESHUTDOWN); the handler's work is told to stop. */
  private async disable(why: 'disable' | 'unbind' | undefined): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    active.controller.abort(new FunctionFsError(`${this.dir}: the endpoints were disabled (${why ?? 'enabled again'})`, 'disabled'));
    await withDeadline(active.done, CLOSE_MS, 'the handler\'s endpoint work').catch(() => undefined);
  }
}

export function describeSetup(setup: SetupRequest): string {
  return `${setup.kind} ${setup.direction.toUpperCase()} request ${hex2(setup.request)} to ${setup.recipient} (bmRequestType ${hex2(setup.requestType)}, wValue 0x${setup.value.toString(16).padStart(4, '0')}, wIndex ${setup.index}, wLength ${setup.length})`;
}

/** Reads and writes on the endpoint files while the function is enabled. */
class Endpoints implements FunctionFsEndpoints {
  /** Each endpoint's calls run one after another, in the order made. */
  private readonly queues = new Map<number, Promise<unknown>>();

  constructor(
    private readonly dir: string, readonly list: readonly FunctionFsEndpoint[], readonly signal: AbortSignal,
    private readonly call: <T>(file: string, run: () => Promise<T>) => Promise<T>, private readonly fd: (file: string) => number | undefined,
  ) {}

  read(index: number, length: number, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    return this.transfer(index, 'out', `reading ${length} bytes`, options.timeoutMs, (fd) => readFile(fd, length));
  }

  write(index: number, data: Uint8Array, options: { timeoutMs?: number } = {}): Promise<number> {
    return this.transfer(index, 'in', `writing ${data.length} bytes`, options.timeoutMs ?? ENDPOINT_WRITE_MS, (fd) => writeFile(fd, data));
  }

  private transfer<T>(index: number, direction: 'in' | 'out', what: string, timeoutMs: number | undefined, run: (fd: number) => Promise<T>): Promise<T> {
    const file = `ep${index}`;
    const endpoint = this.list.find((e) => e.index === index);
    if (!endpoint) return Promise.reject(new FunctionFsError(`${this.dir}: no ${file} (the descriptors declare ep1..ep${this.list.length})`, 'invalid'));
    // The wrong direction on an endpoint file halts the endpoint (functionfs.rst): refused here instead.
    if (endpoint.direction !== direction) return Promise.reject(new FunctionFsError(`${this.dir}/${file} is an ${endpoint.direction.toUpperCase()} endpoint: ${direction === 'in' ? 'read' : 'write'} it instead`, 'invalid'));
    const previous = this.queues.get(index) ?? Promise.resolve();
    const next = previous.then(() => {
      const fd = this.fd(file);
      // After a disable the kernel would hold a new call until the next ENABLE: refuse it instead.
      if (this.signal.aborted || fd === undefined) throw this.signal.reason ?? new FunctionFsError(`${this.dir}/${file} is closed`, 'closed');
      const kernel = this.call(file, () => run(fd)).catch((error: unknown) => { throw ioError(error, `${this.dir}/${file}: ${what}`); });
      const stopped = new Promise<never>((_resolve, reject) => {
        const onAbort = () => reject(this.signal.reason);
        this.signal.addEventListener('abort', onAbort, { once: true });
        kernel.finally(() => this.signal.removeEventListener('abort', onAbort)).catch(() => undefined);
      });
      const raced = Promise.race([kernel, stopped]);
      if (timeoutMs === undefined) return raced;
      return withDeadline(raced, timeoutMs, `${this.dir}/${file}: ${what}`).catch((error: unknown) => {
        throw error instanceof DeadlineError ? new FunctionFsError(`${error.message} (the host did not ${direction === 'in' ? 'collect it' : 'send'}; the call stays parked in the kernel)`, 'timeout') : error;
      });
    });
    // A call that timed out is still in the kernel: the next one waits for it there, not here.
    this.queues.set(index, next.catch(() => undefined));
    return next;
  }
}
