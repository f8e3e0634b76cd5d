// `ioreg`: the IORegistry in plist form (`-a`, exact integers) for the USB devices and dext
// processes, and the `-p IOUSB` text tree for failure artifacts. Formats: macos-formats.md §3.
import type { Exec } from '../exec.ts';
import {
  parseIoregPlist, usbDevicesFromIoreg, userServersFromIoreg,
  type IoregEntry, type UsbDeviceView, type UserServerView,
} from '../parsers/index.ts';
import { failure } from './tool-error.ts';

export type { IoregEntry };

export interface IoregQuery {
  /** `-c <class>`: nodes of this class (and subclasses). */
  className?: string;
  /** `-n <name>`: nodes of this name. */
  name?: string;
}

export interface Ioreg {
  query(query: IoregQuery): Promise<{ entries: IoregEntry[]; raw: string }>;
  usbDevices(): Promise<UsbDeviceView[]>;
  userServers(): Promise<UserServerView[]>;
  /** `ioreg -p IOUSB -l -w0`: the USB plane as a person reads it (never cut at the terminal width). */
  snapshotText(): Promise<string>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function ioreg(exec: Exec, options: { timeoutMs?: number } = {}): Ioreg {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const api: Ioreg = {
    async query({ className, name }) {
      if ((className === undefined) === (name === undefined)) throw new Error('ioreg query: give exactly one of className or name');
      const select = className !== undefined ? ['-c', className] : ['-n', name!];
      // -r: each match is a root of its own subtree, so a device comes with its services below it.
      const result = await exec.run(['ioreg', '-a', '-l', '-r', ...select], { timeoutMs, nothrow: true, idempotent: true });
      if (!result.ok) throw failure(result, 'reading the IORegistry');
      // No match prints nothing at all rather than an empty plist array.
      const entries = result.stdout.trim() ? parseIoregPlist(result.stdout) : [];
      return { entries, raw: result.stdout };
    },
    async usbDevices() {
      return usbDevicesFromIoreg((await api.query({ className: 'IOUSBHostDevice' })).entries);
    },
    async userServers() {
      return userServersFromIoreg((await api.query({ className: 'IOUserServer' })).entries);
    },
    async snapshotText() {
      const result = await exec.run(['ioreg', '-p', 'IOUSB', '-l', '-w0'], { timeoutMs, nothrow: true, idempotent: true });
      if (!result.ok) throw failure(result, 'reading the IOUSB plane');
      return result.stdout;
    },
  };
  return api;
}
