// A device profile played by a Linux USB gadget: a configfs gadget (libcomposite) built, bound to
// the board's device controller (the plug), unbound (the unplug) and removed, all through an Exec,
// so the board may be this machine or one reached over ssh. configfs is touched only with argv
// commands (mkdir, printf into a file, ln -s, rm, rmdir, cat), never with node's fs.
import type { Exec, ExecResult } from '../host/exec.ts';
import { formatArgv } from '../host/exec.ts';
import type { DeviceProfile, GadgetFunctionSpec } from '../rig/types.ts';

export const GADGETS_DIR = '/sys/kernel/config/usb_gadget';
export const UDC_CLASS_DIR = '/sys/class/udc';
const DEFAULT_TIMEOUT_MS = 10_000;

export type GadgetOp =
  | { op: 'mkdir'; path: string }
  /** `hex: true`: value holds bytes as hex (a HID report descriptor), written raw. */
  | { op: 'write'; path: string; value: string; hex?: true }
  | { op: 'symlink'; path: string; value: string };

export interface GadgetPlan {
  name: string;
  /** The gadget's folder, e.g. /sys/kernel/config/usb_gadget/echo. */
  dir: string;
  /** From the profile's emulate.udc, when it names one. */
  udc?: string;
  ops: GadgetOp[];
}

export interface GadgetOptions {
  /** Deadline for the whole operation (default 10 s). */
  timeoutMs?: number;
  /** Where configfs gadgets live (tests point this elsewhere); default /sys/kernel/config/usb_gadget. */
  gadgetsDir?: string;
  /** Where the device controllers are listed; default /sys/class/udc. */
  udcDir?: string;
  /** Where the wanted controller's name comes from, for the fix in errors (default: the profile's emulate.udc). */
  udcSource?: string;
}

/** One line saying what went wrong on the board and what to do about it. */
export class GadgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GadgetError';
  }
}

/** configfs function folder and the kernel module that provides it. */
function functionDir(fn: GadgetFunctionSpec, index: number): { dir: string; module: string } {
  if (fn === 'loopback') return { dir: `Loopback.${index}`, module: 'usb_f_ss_lb' };
  if (fn === 'sourcesink') return { dir: `SourceSink.${index}`, module: 'usb_f_ss_lb' };
  if (fn === 'acm') return { dir: `acm.${index}`, module: 'usb_f_acm' };
  if ('hid' in fn) return { dir: `hid.${index}`, module: 'usb_f_hid' };
  return { dir: `ffs.${fn.ffs.name}`, module: 'usb_f_fs' };
}

const kindOf = (fn: GadgetFunctionSpec): string => (typeof fn === 'string' ? fn : 'hid' in fn ? 'hid' : 'ffs');
const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** The configfs operations that build the profile's gadget, in the order configfs needs them. */
export function gadgetPlan(profile: DeviceProfile, name: string, gadgetsDir = GADGETS_DIR): GadgetPlan {
  const emulate = profile.emulate;
  if (!emulate) throw new GadgetError(`device profile ${profile.file}: no emulate: section (add e.g. \`emulate: { functions: [loopback] }\`)`);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new GadgetError(`gadget name ${JSON.stringify(name)}: use letters, digits, _ . and - only (it is a configfs folder)`);
  const dir = `${gadgetsDir}/${name}`;
  const usb = profile.usb;
  const ops: GadgetOp[] = [
    { op: 'mkdir', path: dir },
    { op: 'write', path: `${dir}/idVendor`, value: hex4(usb.vendorId) },
    { op: 'write', path: `${dir}/idProduct`, value: hex4(usb.productId) },
  ];
  if (usb.bcdDevice !== undefined) ops.push({ op: 'write', path: `${dir}/bcdDevice`, value: hex4(usb.bcdDevice) });
  // f_acm always sends an Interface Association Descriptor; a device with IADs declares the
  // Miscellaneous class, Common subclass, IAD protocol (USB IAD ECN) so hosts parse them.
  if (emulate.functions.includes('acm')) {
    ops.push(
      { op: 'write', path: `${dir}/bDeviceClass`, value: '0xef' },
      { op: 'write', path: `${dir}/bDeviceSubClass`, value: '0x02' },
      { op: 'write', path: `${dir}/bDeviceProtocol`, value: '0x01' },
    );
  }
  const strings: Array<[string, string | undefined]> = [['manufacturer', usb.manufacturer], ['product', usb.product], ['serialnumber', usb.serial]];
  if (strings.some(([, v]) => v !== undefined)) {
    ops.push({ op: 'mkdir', path: `${dir}/strings/0x409` });
    for (const [file, value] of strings) if (value !== undefined) ops.push({ op: 'write', path: `${dir}/strings/0x409/${file}`, value });
  }
  const config = `${dir}/configs/c.1`;
  ops.push({ op: 'mkdir', path: config });
  if (emulate.maxPower !== undefined) ops.push({ op: 'write', path: `${config}/MaxPower`, value: String(emulate.maxPower) });
  const counts = new Map<string, number>();
  const functions: string[] = [];
  for (const fn of emulate.functions) {
    const kind = kindOf(fn);
    const index = counts.get(kind) ?? 0;
    counts.set(kind, index + 1);
    const fnDir = `${dir}/functions/${functionDir(fn, index).dir}`;
    ops.push({ op: 'mkdir', path: fnDir });
    if (typeof fn === 'object' && 'hid' in fn) {
      const hid = fn.hid;
      ops.push(
        { op: 'write', path: `${fnDir}/protocol`, value: String(hid.protocol ?? 0) },
        { op: 'write', path: `${fnDir}/subclass`, value: String(hid.subclass ?? 0) },
        { op: 'write', path: `${fnDir}/report_length`, value: String(hid.reportLength) },
        { op: 'write', path: `${fnDir}/report_desc`, value: hid.reportDescriptor.replace(/\s+/g, '').toLowerCase(), hex: true },
      );
    }
    functions.push(fnDir);
  }
  for (const fnDir of functions) ops.push({ op: 'symlink', path: `${config}/${fnDir.slice(fnDir.lastIndexOf('/') + 1)}`, value: fnDir });
  return { name, dir, ...(emulate.udc !== undefined ? { udc: emulate.udc } : {}), ops };
}

/** argv that writes `value` into `path` exactly (no newline added); configfs takes one write(). */
function writeArgv(path: string, value: string, hex = false): string[] {
  if (!hex) return ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', value, path];
  // printf's format turns \ooo into bytes; built only from hex digits here, so no % or other escape.
  const octal = (value.match(/../g) ?? []).map((b) => `\\${parseInt(b, 16).toString(8).padStart(3, '0')}`).join('');
  return ['sh', '-c', 'printf "$1" > "$2"', 'sh', octal, path];
}

/** The one command that performs `op` on the board. */
export function opArgv(op: GadgetOp): string[] {
  switch (op.op) {
    case 'mkdir': return ['mkdir', op.path];
    case 'write': return writeArgv(op.path, op.value, op.hex);
    case 'symlink': return ['ln', '-s', op.value, op.path];
  }
}

/** A deadline shared by the several commands of one operation. */
function budget(exec: Exec, what: string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  return async (argv: string[]): Promise<ExecResult> => {
    const left = Math.max(1, Math.round(deadline - performance.now()));
    if (deadline - performance.now() <= 0) throw new GadgetError(`${what} on ${exec.where}: did not finish within ${timeoutMs} ms (last step not run: ${formatArgv(argv)})`);
    const result = await exec.run(argv, { timeoutMs: left, nothrow: true });
    if (result.timedOut) throw new GadgetError(`${what} on ${exec.where}: ${formatArgv(argv)} timed out (the operation's deadline is ${timeoutMs} ms)`);
    return result;
  };
}

const said = (result: ExecResult): string => result.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${result.exitCode}`;

async function requireConfigfs(run: (argv: string[]) => Promise<ExecResult>, where: string, gadgetsDir: string): Promise<void> {
  const probe = await run(['test', '-d', gadgetsDir]);
  if (!probe.ok) {
    throw new GadgetError(`${where}: ${gadgetsDir} does not exist: configfs is not mounted or libcomposite is not loaded; ` +
      `run \`modprobe libcomposite && mount -t configfs none /sys/kernel/config\` on the board as root`);
  }
}

/** Why an operation on `path` failed, in the board's terms. */
export function explainFailure(op: GadgetOp, result: ExecResult, gadgetsDir = GADGETS_DIR): string {
  const stderr = said(result);
  const fn = op.path.match(/\/functions\/([A-Za-z]+)\.[^/]+$/);
  if (op.op === 'mkdir' && fn && /No such file or directory/.test(stderr)) {
    const module = { Loopback: 'usb_f_ss_lb', SourceSink: 'usb_f_ss_lb', acm: 'usb_f_acm', hid: 'usb_f_hid', ffs: 'usb_f_fs' }[fn[1]!];
    if (module) return `the kernel has no "${fn[1]}" gadget function: load its module with \`modprobe ${module}\` (or build the kernel with it)`;
  }
  if (op.op === 'mkdir' && op.path.split('/').length === gadgetsDir.split('/').length + 1 && /File exists/.test(stderr)) {
    return `a gadget named ${op.path.slice(gadgetsDir.length + 1)} already exists (a previous run did not remove it): remove it, or unbind and rmdir its folders`;
  }
  if (/Permission denied|Operation not permitted/.test(stderr)) return `${stderr}: configfs gadgets need root on the board (run as root, or through sudo)`;
  return stderr;
}

/** Builds the gadget: every op in order; on a failure, what was made is removed again. */
export async function createGadget(exec: Exec, plan: GadgetPlan, options: GadgetOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const gadgetsDir = options.gadgetsDir ?? GADGETS_DIR;
  const where = `gadget ${plan.name} on ${exec.where}`;
  const run = budget(exec, `creating gadget ${plan.name}`, timeoutMs);
  await requireConfigfs(run, where, gadgetsDir);
  const done: GadgetOp[] = [];
  for (const op of plan.ops) {
    const result = await run(opArgv(op));
    if (!result.ok) {
      const why = explainFailure(op, result, gadgetsDir);
      // Leave nothing half-built behind, unless the gadget was someone else's to begin with.
      if (done.length) await removeOps(exec, done, timeoutMs).catch(() => undefined);
      throw new GadgetError(`${where}: ${formatArgv(opArgv(op))} failed: ${why}`);
    }
    done.push(op);
  }
}

/** The device controllers the board has (entries of /sys/class/udc). */
export async function listUdcs(exec: Exec, options: GadgetOptions = {}): Promise<string[]> {
  const udcDir = options.udcDir ?? UDC_CLASS_DIR;
  const result = await exec.run(['ls', '-1', udcDir], { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, nothrow: true, idempotent: true });
  if (result.timedOut) throw new GadgetError(`listing ${udcDir} on ${exec.where} timed out`);
  return result.ok ? result.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

const NO_UDC = 'a board needs a USB device controller driver: dwc2 on a Raspberry Pi (dtoverlay=dwc2 in config.txt, then `modprobe dwc2`), ' +
  'the SoC\'s own (dwc3, chipidea, musb…) elsewhere, or `modprobe dummy_hcd` for a controller that loops back to this machine\'s own bus';

/** The controller to bind to: the one asked for, else the board's only one. */
export async function pickUdc(exec: Exec, wanted: string | undefined, options: GadgetOptions = {}): Promise<string> {
  const udcDir = options.udcDir ?? UDC_CLASS_DIR;
  const udcs = await listUdcs(exec, options);
  if (udcs.length === 0) throw new GadgetError(`no USB device controller in ${udcDir} on ${exec.where}: ${NO_UDC}`);
  if (wanted !== undefined) {
    if (!udcs.includes(wanted)) throw new GadgetError(`no USB device controller ${wanted} in ${udcDir} on ${exec.where} (it has: ${udcs.join(', ')}); fix ${options.udcSource ?? "the profile's emulate.udc"}`);
    return wanted;
  }
  if (udcs.length > 1) throw new GadgetError(`${exec.where} has several USB device controllers (${udcs.join(', ')}): name one in ${options.udcSource ?? "the profile's emulate.udc"}`);
  return udcs[0]!;
}

/** The UDC the gadget is bound to, '' when unbound; undefined when the gadget does not exist. */
export async function boundUdc(exec: Exec, name: string, options: GadgetOptions = {}): Promise<string | undefined> {
  const path = `${options.gadgetsDir ?? GADGETS_DIR}/${name}/UDC`;
  const result = await exec.run(['cat', path], { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, nothrow: true, idempotent: true });
  if (result.timedOut) throw new GadgetError(`reading ${path} on ${exec.where} timed out`);
  if (!result.ok) {
    if (/No such file or directory/.test(result.stderr)) return undefined;
    throw new GadgetError(`reading ${path} on ${exec.where}: ${said(result)}`);
  }
  return result.stdout.trim();
}

/** Plug: binds the gadget to `udc` (default: the board's only one) and reads the binding back. */
export async function bind(exec: Exec, name: string, udc?: string, options: GadgetOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = `gadget ${name} on ${exec.where}`;
  const run = budget(exec, `binding gadget ${name}`, timeoutMs);
  await requireConfigfs(run, where, options.gadgetsDir ?? GADGETS_DIR);
  const controller = await pickUdc(exec, udc, options);
  const current = await boundUdc(exec, name, options);
  if (current === undefined) throw new GadgetError(`${where}: no such gadget (create it first)`);
  if (current === controller) return controller;
  if (current !== '') throw new GadgetError(`${where}: already bound to ${current}; unbind it first`);
  const path = `${options.gadgetsDir ?? GADGETS_DIR}/${name}/UDC`;
  const result = await run(writeArgv(path, controller));
  if (!result.ok) {
    const stderr = said(result);
    const hint = /busy/i.test(stderr) ? `: another gadget holds ${controller} (unbind it, or remove it)`
      // Linux 6.1 logs "failed to start <gadget>: -19" and the write fails EIO (seen in the QEMU lane); older kernels fail ENODEV.
      : /No such device|I\/O error/.test(stderr) ? `: the kernel refused ${controller}; a FunctionFS function binds only after its server has written its descriptors to ep0, and a gadget needs at least one function linked into configs/c.1`
        : '';
    throw new GadgetError(`${where}: binding to ${controller} failed: ${stderr}${hint}`);
  }
  const after = await boundUdc(exec, name, options);
  if (after !== controller) throw new GadgetError(`${where}: wrote ${controller} to UDC but it reads back ${JSON.stringify(after ?? '(gone)')}`);
  return controller;
}

/** Unplug: an empty line in UDC unbinds; read back to be sure. Unbound already is fine. */
export async function unbind(exec: Exec, name: string, options: GadgetOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = `gadget ${name} on ${exec.where}`;
  const current = await boundUdc(exec, name, options);
  if (current === undefined) throw new GadgetError(`${where}: no such gadget`);
  if (current === '') return;
  const run = budget(exec, `unbinding gadget ${name}`, timeoutMs);
  const result = await run(writeArgv(`${options.gadgetsDir ?? GADGETS_DIR}/${name}/UDC`, '\n'));
  if (!result.ok) throw new GadgetError(`${where}: unbinding from ${current} failed: ${said(result)}`);
  const after = await boundUdc(exec, name, options);
  if (after !== '') throw new GadgetError(`${where}: UDC still reads ${JSON.stringify(after ?? '(gone)')} after the unbind`);
}

/** Undoes `ops` in reverse: links removed, folders rmdir'd (configfs empties attribute files itself). */
async function removeOps(exec: Exec, ops: GadgetOp[], timeoutMs: number): Promise<void> {
  const run = budget(exec, 'removing gadget', timeoutMs);
  for (const op of [...ops].reverse()) {
    if (op.op === 'write') continue;
    const argv = op.op === 'symlink' ? ['rm', op.path] : ['rmdir', op.path];
    const result = await run(argv);
    if (!result.ok && !/No such file or directory/.test(result.stderr)) throw new GadgetError(`${formatArgv(argv)} on ${exec.where} failed: ${said(result)}`);
  }
}

/** Unbinds when bound, then takes the gadget apart in the reverse order of its plan. */
export async function removeGadget(exec: Exec, plan: GadgetPlan, options: GadgetOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const bound = await boundUdc(exec, plan.name, options);
  if (bound === undefined) return;
  if (bound !== '') await unbind(exec, plan.name, options);
  try {
    await removeOps(exec, plan.ops, timeoutMs);
  } catch (error) {
    throw new GadgetError(`removing gadget ${plan.name}: ${(error as Error).message}`);
  }
}
