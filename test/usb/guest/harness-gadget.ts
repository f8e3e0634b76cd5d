// Runs INSIDE the QEMU guest: a device profile's USB identity played by a configfs gadget on the
// guest's dummy UDC, with Linux's Loopback function (gadget zero: what the host writes to its bulk
// OUT endpoint comes back on bulk IN) or a HID function (what is written to /dev/hidgN goes out
// as a report on its interrupt IN endpoint). bind() is the plug, unbind() the unplug.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UsbIdentity } from '../../../harness/rig/types.ts';

export interface LoopbackSettings {
  /** Bytes per request of the loopback function (kernel default 4096): host chunks must be multiples. */
  bulkBuflen?: number;
  /** Requests the function keeps queued (kernel default 32). */
  qlen?: number;
}

/** A vendor-defined HID report of 64 bytes each way. */
const HID_REPORT_DESCRIPTOR = Buffer.from('0600ff0901a101150026ff00750895400901810209019102c0', 'hex');
export const HID_REPORT_BYTES = 64;

export class Gadget {
  readonly dir: string;
  readonly udc: string;

  constructor(name: string, identity: UsbIdentity, functions: { loopback?: LoopbackSettings; hid?: boolean }) {
    const udc = readdirSync('/sys/class/udc')[0];
    if (!udc) throw new Error('no UDC in /sys/class/udc (is dummy_hcd loaded?)');
    this.udc = udc;
    this.dir = `/sys/kernel/config/usb_gadget/${name}`;
    mkdirSync(this.dir);
    this.write('idVendor', `0x${identity.vendorId.toString(16).padStart(4, '0')}`);
    this.write('idProduct', `0x${identity.productId.toString(16).padStart(4, '0')}`);
    mkdirSync(join(this.dir, 'strings/0x409'));
    this.write('strings/0x409/manufacturer', identity.manufacturer ?? '');
    this.write('strings/0x409/product', identity.product ?? '');
    this.write('strings/0x409/serialnumber', identity.serial ?? '');
    mkdirSync(join(this.dir, 'configs/c.1'));
    if (functions.loopback) {
      const settings = functions.loopback;
      this.addFunction('Loopback.0', () => {
        if (settings.bulkBuflen !== undefined) this.write('functions/Loopback.0/bulk_buflen', String(settings.bulkBuflen));
        if (settings.qlen !== undefined) this.write('functions/Loopback.0/qlen', String(settings.qlen));
      });
    }
    if (functions.hid) {
      this.addFunction('hid.usb0', () => {
        this.write('functions/hid.usb0/protocol', '0');
        this.write('functions/hid.usb0/subclass', '0');
        this.write('functions/hid.usb0/report_length', String(HID_REPORT_BYTES));
        writeFileSync(join(this.dir, 'functions/hid.usb0/report_desc'), HID_REPORT_DESCRIPTOR);
      });
    }
  }

  /** The gadget side of its HID function: /dev/hidg<minor>. */
  hidDevice(): string {
    const [, minor] = readFileSync(join(this.dir, 'functions/hid.usb0/dev'), 'utf8').trim().split(':');
    return `/dev/hidg${minor}`;
  }

  private addFunction(name: string, configure: () => void): void {
    mkdirSync(join(this.dir, 'functions', name));
    configure();
    symlinkSync(join(this.dir, 'functions', name), join(this.dir, 'configs/c.1', name));
  }

  bind(): void {
    this.write('UDC', this.udc);
  }

  unbind(): void {
    this.write('UDC', '\n');
  }

  bound(): boolean {
    return readFileSync(join(this.dir, 'UDC'), 'utf8').trim() !== '';
  }

  private write(path: string, value: string): void {
    writeFileSync(join(this.dir, path), value);
  }
}
