// A YKUSH-like USB hub controller (Yepkit YKUSH: VID 0x04d8, PID 0xf2f7) served through FunctionFS
// by harness/emulate/functionfs.ts: one HID interface with 64-byte vendor-page reports on an
// interrupt OUT (commands) and an interrupt IN (replies) endpoint, and three downstream ports whose
// power it models. The protocol is written from the reference (driverkit-rigs-es-ne.md §C.3), not
// from any driver's codec: the driver under test must agree with the device, not with itself.
// Every port change, and every control request it answers, is appended as a JSON line to a state
// file, so a test sees what the device itself saw. Runs on the board (here: in the QEMU guest).
import { appendFileSync } from 'node:fs';
import type { FunctionDescriptors, FunctionFsEndpoints, FunctionFsError, FunctionFsHandler, SetupAnswer, SetupRequest } from '../../../harness/emulate/functionfs.ts';

export const YKUSH = { vendorId: 0x04d8, productId: 0xf2f7, ports: 3, firmware: [2, 0] as const };
export const REPORT_SIZE = 64;

/**
 * Vendor page 0xff00, one application collection: 64 input bytes and 64 output bytes, each 0..255
 * (HID 1.11 §6.2.2 items; 27 bytes).
 */
export const REPORT_DESCRIPTOR = Uint8Array.from([
  0x06, 0x00, 0xff, // Usage Page (Vendor 0xff00)
  0x09, 0x01, // Usage (1)
  0xa1, 0x01, // Collection (Application)
  0x15, 0x00, // Logical Minimum (0)
  0x26, 0xff, 0x00, // Logical Maximum (255)
  0x75, 0x08, // Report Size (8)
  0x95, REPORT_SIZE, // Report Count (64)
  0x09, 0x01, // Usage (1)
  0x81, 0x02, // Input (Data, Var, Abs)
  0x95, REPORT_SIZE, // Report Count (64)
  0x09, 0x01, // Usage (1)
  0x91, 0x02, // Output (Data, Var, Abs)
  0xc0, // End Collection
]);

/** Interrupt IN first (ep1), then interrupt OUT (ep2); 1 ms polling at both speeds. */
export function ykushDescriptors(): FunctionDescriptors {
  const list = (interval: number): FunctionDescriptors['fs'] => [
    { type: 'interface', number: 0, endpoints: 2, class: 0x03, string: 1 },
    { type: 'hid', reportLength: REPORT_DESCRIPTOR.length },
    { type: 'endpoint', address: 0x81, transfer: 'interrupt', maxPacketSize: REPORT_SIZE, interval },
    { type: 'endpoint', address: 0x02, transfer: 'interrupt', maxPacketSize: REPORT_SIZE, interval },
  ];
  // bInterval: frames (1 ms) at full speed; 2^(n-1) microframes at high speed, so 4 is 1 ms.
  return { fs: list(1), hs: list(4) };
}

export const YKUSH_STRINGS = new Map([[0x0409, ['YKUSH HID']]]);
export const IN_EP = 1;
export const OUT_EP = 2;

/** The state file's lines. */
export type YkushLine =
  | { ports: boolean[]; change: { command: number; port: number | 'all'; powered: boolean } | 'initial' }
  | { setup: string; answer: 'data' | 'ack' | 'stall' }
  | { event: string };

/** The three ports and the command set. Commands and replies are 64-byte reports. */
export class YkushModel {
  readonly ports: boolean[] = Array.from({ length: YKUSH.ports }, () => true);

  constructor(private readonly onChange: (line: YkushLine) => void) {
    onChange({ ports: [...this.ports], change: 'initial' });
  }

  /** One command report in, one reply report out: reply[0] 1 is OK, 0 is an unknown command. */
  handle(command: Uint8Array): Uint8Array {
    const reply = new Uint8Array(REPORT_SIZE);
    const code = command[0] ?? 0;
    const port = code & 0x0f;
    const state = (n: number): number => (this.ports[n - 1] ? 0x10 | n : n);
    const inRange = port >= 1 && port <= YKUSH.ports;
    const set = (ports: number[], powered: boolean): void => {
      for (const n of ports) this.ports[n - 1] = powered;
      this.onChange({ ports: [...this.ports], change: { command: code, port: ports.length === 1 ? ports[0]! : 'all', powered } });
    };
    if ((code & 0xf0) === 0x00 && inRange) { set([port], false); reply.set([1, code]); }
    else if ((code & 0xf0) === 0x10 && inRange) { set([port], true); reply.set([1, code]); }
    else if (code === 0x0a || code === 0x1a) { set([1, 2, 3], code === 0x1a); reply.set([1, code]); }
    else if ((code & 0xf0) === 0x20 && inRange) reply.set([1, state(port)]);
    else if (code === 0x2a) reply.set([1, state(1), state(2), state(3)]);
    else if (code === 0xf0) reply.set([1, ...YKUSH.firmware]);
    else if (code === 0xf1) reply.set([1, YKUSH.ports]);
    return reply;
  }
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/**
 * The FunctionFS handler: GET_DESCRIPTOR for the HID and report descriptors, SET_IDLE, SET_REPORT
 * (output: a command, as a host without the OUT endpoint would send it); everything else stalls.
 * Commands on the OUT endpoint get their reply on the IN endpoint.
 */
export function ykushHandler(stateFile: string): FunctionFsHandler & { model: YkushModel } {
  const log = (line: YkushLine): void => appendFileSync(stateFile, `${JSON.stringify(line)}\n`);
  const model = new YkushModel(log);
  const hidDescriptor = Uint8Array.from([9, 0x21, 0x11, 0x01, 0, 1, 0x22, REPORT_DESCRIPTOR.length, 0]);
  let endpoints: FunctionFsEndpoints | undefined;
  const answer = (request: SetupRequest): SetupAnswer => {
    const { requestType, request: code, value } = request;
    if (requestType === 0x81 && code === 0x06 && value >> 8 === 0x22) return REPORT_DESCRIPTOR; // GET_DESCRIPTOR(Report)
    if (requestType === 0x81 && code === 0x06 && value >> 8 === 0x21) return hidDescriptor; // GET_DESCRIPTOR(HID)
    if (requestType === 0x21 && code === 0x0a) return 'ack'; // SET_IDLE
    if (requestType === 0x21 && code === 0x09 && value >> 8 === 0x02) return 'ack'; // SET_REPORT(Output)
    return 'stall';
  };
  return {
    model,
    setup(request) {
      const reply = answer(request);
      log({ setup: `${hex2(request.requestType)} ${hex2(request.request)} ${request.value.toString(16).padStart(4, '0')} len ${request.length}`, answer: reply instanceof Uint8Array ? 'data' : reply });
      return reply;
    },
    setupData(request, data) {
      if (request.request !== 0x09) return;
      // A command by SET_REPORT: its reply still goes out on the IN endpoint, in order with the others.
      endpoints?.write(IN_EP, model.handle(data)).catch(() => undefined);
    },
    async enabled(eps) {
      endpoints = eps;
      for (;;) {
        const command = await eps.read(OUT_EP, REPORT_SIZE);
        // A host that never collects a reply must not stop the device: the next command is served.
        await eps.write(IN_EP, model.handle(command)).catch((error: FunctionFsError) => { if (error.reason !== 'timeout') throw error; });
      }
    },
    event(event) {
      if (event.type !== 'setup') log({ event: event.type });
    },
  };
}
