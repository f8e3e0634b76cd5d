// What goes wrong on a USB bus, as one line a person can act on. node-usb 3.x (nusb underneath)
// rejects with a plain Error whose message is the only clue ("transferOut error: Disconnected");
// classifyUsbError turns those messages into the classes below.
//
// The messages, as measured with usb@3.1.0 on Linux (dummy_hcd + a configfs loopback gadget):
//   transfer past its timeout    "transferIn error: Cancelled"        (nusb cancels the URB itself)
//   transfer on a vanished device "transferOut error: Disconnected"; an IN in flight at the unbind
//                                 may end "transferIn error: Fault" first (see UsbTransferFailed.kind)
//   control on a vanished device "controlTransferIn error: device disconnected"
//   open of a vanished device    "open error: device not found (errno 2)"
//   stall                        "controlTransferIn error: endpoint stalled" (bulk: "... error: Stall")
//   usbfs node not ours          "open error: permission denied (errno 13)"
//   no USB subsystem             "getDevices error: /sys/bus/usb/devices/ not found (errno 2)"
//   native binding not loadable  "Cannot find native binding. ..." (thrown when the package loads)
// macOS's wording is NOT confirmed here (no Mac): IOKit's exclusive-access refusal (a dext or kext
// holds the interface) is matched on the words it is likely to carry, "exclusive" or "busy".
import { formatMs } from '../common/time.ts';

export class UsbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** This machine has no USB subsystem, or node-usb's native part does not load here. */
export class UsbUnavailable extends UsbError {}

/** No device, or more than one, matches what findDevice was asked for. */
export class UsbNotFound extends UsbError {}

/** The device left the bus (unplugged, unbound, reset) before or during the operation. */
export class UsbDeviceGone extends UsbError {}

/** The device answered with a STALL: it refused the request, or the endpoint is halted. */
export class UsbStall extends UsbError {}

/** The operation did not complete within its deadline; the transfer was cancelled. */
export class UsbTimeout extends UsbError {}

/** This process may not open the device or claim the interface (permissions, another driver). */
export class UsbAccessDenied extends UsbError {}

/** Any other failed transfer: `kind` is the native status word when there is one (fault, babble…). */
export class UsbTransferFailed extends UsbError {
  constructor(message: string, readonly kind: string) {
    super(message);
  }
}

export interface UsbErrorContext {
  /** What was being done: "bulk IN 0x81 (65536 bytes)", "open", "claim interface 0". */
  operation: string;
  /** The device in one phrase: "1d6b:0104 serial ECHO0001 at 1-1". */
  device?: string;
  /** The operation's own timeout, when it had one. */
  timeoutMs?: number;
  /** For the fix line of a permission error. */
  vendorId?: number;
  productId?: number;
  platform?: NodeJS.Platform;
}

const GONE = /\bdisconnected\b|\bdevice not found\b|\bno such device\b|\bENODEV\b|\bESHUTDOWN\b/i;
const STALL = /\bstall(ed)?\b|\bEPIPE\b/i;
const CANCELLED = /\bcancell?ed\b|\btimed? ?out\b|\bETIMEDOUT\b/i;
const DENIED = /permission denied|errno 13\b|\bEACCES\b|\bEPERM\b|not permitted|access denied|exclusive/i;
const BUSY = /\bbusy\b|errno 16\b|\bEBUSY\b/i;
const NO_USB = /getDevices error:.*not found|\/sys\/bus\/usb|native binding/i;

/** One of the classes above for what node-usb threw (already classified errors pass through). */
export function classifyUsbError(raw: unknown, context: UsbErrorContext): UsbError {
  if (raw instanceof UsbError) return raw;
  const detail = firstLine(raw);
  const who = context.device ? `${context.device}: ` : '';
  const what = context.operation;
  if (NO_USB.test(detail)) return new UsbUnavailable(`no USB on this host (${detail})`);
  if (GONE.test(detail)) return new UsbDeviceGone(`${who}device gone during ${what} (unplugged, unbound or reset: ${detail})`);
  if (STALL.test(detail)) return new UsbStall(`${who}${what} stalled: the device refused the request or the endpoint is halted (${detail})`);
  if (CANCELLED.test(detail)) {
    const after = context.timeoutMs !== undefined ? ` after ${formatMs(context.timeoutMs)}` : '';
    return new UsbTimeout(`${who}${what} timed out${after}; the transfer was cancelled (${detail})`);
  }
  if (BUSY.test(detail)) {
    return new UsbAccessDenied(`${who}${what}: the interface is busy, another driver or program has claimed it (${detail})${busyFix(context.platform ?? process.platform)}`);
  }
  if (DENIED.test(detail)) return new UsbAccessDenied(`${who}${what}: access denied (${detail})${accessFix(context)}`);
  const kind = /\berror: (\w+)\s*$/.exec(detail)?.[1]?.toLowerCase() ?? 'error';
  return new UsbTransferFailed(`${who}${what} failed (${detail})`, kind);
}

function accessFix(context: UsbErrorContext): string {
  const platform = context.platform ?? process.platform;
  if (platform === 'linux') {
    const hex = (n: number | undefined) => (n === undefined ? '????' : n.toString(16).padStart(4, '0'));
    return `; fix: let your user open it with a udev rule, e.g. /etc/udev/rules.d/50-dextbench.rules: `
      + `SUBSYSTEM=="usb", ATTR{idVendor}=="${hex(context.vendorId)}", ATTR{idProduct}=="${hex(context.productId)}", MODE="0660", GROUP="plugdev"`
      + ` — then \`udevadm control --reload && udevadm trigger\`, add your user to plugdev, and replug`;
  }
  if (platform === 'darwin') return '; on macOS another driver (a dext or kext that matched the device) holds it exclusively: unload it or test through its channel';
  return '';
}

function busyFix(platform: NodeJS.Platform): string {
  if (platform === 'linux') return '; fix: unbind the kernel driver from the interface, or stop the program that holds it';
  if (platform === 'darwin') return '; on macOS a dext or kext that matched the interface holds it: test through its channel instead';
  return '';
}

function firstLine(raw: unknown): string {
  const text = raw instanceof Error ? raw.message : String(raw);
  return text.split('\n')[0]!.trim();
}
