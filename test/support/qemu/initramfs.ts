// The QEMU guest's initramfs: busybox-static, the kernel modules of the Debian kernel (with their
// dependencies, in load order, read from modules.dep) and init.sh, written as a newc cpio archive
// by this file (no cpio tool needed). Built once into .dextbench/qemu/ of the project, keyed by the
// kernel version and a hash of everything that goes in, so later runs reuse it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const BUSYBOX = '/bin/busybox';
const INIT_SCRIPT = resolve(import.meta.dirname, 'init.sh');

/**
 * What the guest loads, before its dependencies: 9p over virtio for the host's files, and the USB
 * stack without hardware (dummy_hcd is both a host controller and a device controller, the UDC
 * `dummy_udc.0`) with the gadget functions the lane uses: loopback/sourcesink, CDC ACM, HID and
 * FunctionFS. Loaded all at once: a function module does nothing until configfs asks for it.
 */
export const GUEST_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'configfs', 'dummy_hcd', 'libcomposite', 'usb_f_ss_lb', 'usb_f_acm', 'usb_f_hid', 'usb_f_fs'];

export class GuestSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestSetupError';
  }
}

export interface Kernel {
  version: string;
  image: string;
  modulesDir: string;
}

/** The newest Debian kernel that has both an image in /boot and its modules (never the running kernel's: this may be a container). */
export function findKernel(boot = '/boot', modules = '/lib/modules'): Kernel {
  const versions = (existsSync(modules) ? readdirSync(modules) : [])
    .filter((version) => existsSync(join(boot, `vmlinuz-${version}`)) && existsSync(join(modules, version, 'modules.dep')))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (version === undefined) throw new GuestSetupError(`no Linux kernel with its modules (${boot}/vmlinuz-<version> and ${modules}/<version>/modules.dep): apt-get install linux-image-amd64`);
  return { version, image: join(boot, `vmlinuz-${version}`), modulesDir: join(modules, version) };
}

/** modules.dep names files (`kernel/drivers/usb/common/usb-common.ko`); module names use `_` for `-`. */
const moduleName = (file: string): string => basename(file).replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');

/** The module files to insmod, dependencies first, each once; built-in modules are left out. */
export function moduleLoadOrder(kernel: Kernel, wanted: readonly string[] = GUEST_MODULES): string[] {
  const deps = new Map<string, { file: string; deps: string[] }>();
  for (const line of readFileSync(join(kernel.modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon);
    deps.set(moduleName(file), { file, deps: line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName) });
  }
  const builtinPath = join(kernel.modulesDir, 'modules.builtin');
  const builtin = new Set(existsSync(builtinPath) ? readFileSync(builtinPath, 'utf8').split('\n').filter(Boolean).map(moduleName) : []);
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (name: string, wantedBy: string): void => {
    if (placed.has(name) || builtin.has(name)) return;
    const entry = deps.get(name);
    if (!entry) throw new GuestSetupError(`kernel ${kernel.version} has no module ${name} (wanted by ${wantedBy}) in ${kernel.modulesDir}/modules.dep`);
    placed.add(name);
    // modules.dep lists every dependency, transitively; each one's own dependencies go before it.
    for (const dep of entry.deps) place(dep, name);
    order.push(entry.file);
  };
  for (const name of wanted) place(name, 'the guest');
  for (const file of order) {
    if (!file.endsWith('.ko')) throw new GuestSetupError(`${join(kernel.modulesDir, file)} is compressed; busybox insmod loads only plain .ko files (this kernel package is not the Debian 12 one the lane expects)`);
  }
  return order;
}

/** busybox must be the static one: the initramfs has no C library. */
function checkStatic(path: string): void {
  if (!existsSync(path)) throw new GuestSetupError(`${path} is missing: apt-get install busybox-static`);
  const header = Buffer.alloc(64);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 64, 0);
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      // PT_INTERP: the program asks for a dynamic loader.
      if (table.readUInt32LE(i * phentsize) === 3) throw new GuestSetupError(`${path} is dynamically linked; the guest needs the static one: apt-get install busybox-static`);
    }
  } finally {
    closeSync(fd);
  }
}

interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

/** The newc format (what the kernel unpacks): a 110-byte ASCII header, the name, the data, each padded to 4 bytes. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (length: number): void => { if (length % 4) parts.push(Buffer.alloc(4 - (length % 4))); };
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  let ino = 1;
  for (const entry of [...entries, { name: 'TRAILER!!!', mode: 0 }] as CpioEntry[]) {
    const data = entry.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${entry.name}\0`);
    const [major, minor] = entry.rdev ?? [0, 0];
    const header = `070701${[ino++, entry.mode, 0, 0, entry.mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, major, minor, name.length, 0].map(hex).join('')}`;
    parts.push(Buffer.from(header, 'ascii'), name);
    pad(header.length + name.length);
    parts.push(data);
    pad(data.length);
  }
  return Buffer.concat(parts);
}

/**
 * The initramfs for `kernel`, built on first use and then reused: its file name carries the kernel
 * version and a hash of init.sh, this builder, the module list and busybox.
 */
export function initramfsFor(kernel: Kernel, cacheDir: string): string {
  checkStatic(BUSYBOX);
  const modules = moduleLoadOrder(kernel);
  const init = readFileSync(INIT_SCRIPT);
  const busybox = statSync(BUSYBOX);
  const key = createHash('sha256')
    .update(init)
    .update(readFileSync(new URL(import.meta.url)))
    .update(modules.map((file) => `${file}:${statSync(join(kernel.modulesDir, file)).size}`).join('\n'))
    .update(`${busybox.size}:${busybox.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  const path = join(cacheDir, `initramfs-${kernel.version}-${key}.cpio`);
  if (existsSync(path)) return path;

  const dirs = ['bin', 'dev', 'proc', 'sys', 'modules', 'host', 'out', 'tmp', 'run'];
  const archive = cpioNewc([
    ...dirs.map((name) => ({ name, mode: S_IFDIR | 0o755 })),
    // The kernel opens /dev/console for init before anything is mounted.
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] as [number, number] },
    { name: 'init', mode: S_IFREG | 0o755, data: init },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(BUSYBOX) },
    ...modules.map((file) => ({ name: `modules/${basename(file, '.ko')}.ko`, mode: S_IFREG | 0o644, data: readFileSync(join(kernel.modulesDir, file)) })),
    { name: 'modules/order', mode: S_IFREG | 0o644, data: Buffer.from(modules.map((file) => `${basename(file, '.ko')}\n`).join('')) },
  ]);
  mkdirSync(cacheDir, { recursive: true });
  // Older builds for this kernel (init.sh or the modules changed) are dead weight.
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith(`initramfs-${kernel.version}-`) && old.endsWith('.cpio')) rmSync(join(cacheDir, old), { force: true });
  }
  // Two test files may build it at once: each writes its own file and renames it into place.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, archive);
  renameSync(partial, path);
  return path;
}
