// Runs INSIDE the QEMU guest: a device profile's USB identity played by a configfs Loopback gadget
// (Linux's gadget zero: what the host writes to its bulk OUT endpoint comes back on bulk IN) on the
// guest's dummy UDC. bind() is the plug, unbind() the unplug.
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UsbIdentity } from '../../../harness/rig/types.ts';

export interface LoopbackSettings {
  /** Bytes per request of the loopback function (kernel default 4096): host chunks must be multiples. */
  bulkBuflen?: number;
  /** Requests the function keeps queued (kernel default 32). */
  qlen?: number;
}

export class LoopbackGadget {
  readonly dir: string;
  readonly udc: string;

  constructor(name: string, identity: UsbIdentity, settings: LoopbackSettings = {}) {
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
    const fn = join(this.dir, 'functions/Loopback.0');
    mkdirSync(fn);
    if (settings.bulkBuflen !== undefined) this.write('functions/Loopback.0/bulk_buflen', String(settings.bulkBuflen));
    if (settings.qlen !== undefined) this.write('functions/Loopback.0/qlen', String(settings.qlen));
    symlinkSync(fn, join(this.dir, 'configs/c.1/Loopback.0'));
  }

  bind(): void {
    this.write('UDC', this.udc);
  }

  unbind(): void {
    this.write('UDC', '\n');
  }

  private write(path: string, value: string): void {
    writeFileSync(join(this.dir, path), value);
  }
}
