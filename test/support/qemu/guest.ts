// runInGuest: one node script of this project, run inside a QEMU guest that has a real Linux USB
// stack (dummy_hcd: a host controller and a device controller, `dummy_udc.0`, on one bus; configfs
// gadgets bound to it enumerate as real devices) and the host's own node and node_modules.
//
//   const r = await runInGuest({ script: 'test/usb/guest/loopback.ts', args: ['ECHO0001'], timeoutMs: 60_000 });
//   r.exitCode, r.stdout, r.stderr         // the script's, as in a plain child process
//
// The guest: `qemu-system-x86_64 -accel tcg` (no usable KVM here) boots Debian's kernel with the
// initramfs of initramfs.ts; the host's / is mounted read-only over 9p and the script runs in
// `chroot /host`, cwd the project root, as root, under the host's node, bundled first by esbuild
// (so its import.meta.url is that of the bundle in /run/guest, not of the source); /run/guest (also $TMPDIR) is a writable folder of the run
// (a second 9p export), which also carries the job in and the script's output and exit code out.
// In the guest: /sys/kernel/config (configfs), /dev (devtmpfs, /dev/bus/usb/*), /sys, /proc, and,
// with `udev: true`, the host's systemd-udevd, which node-usb's hotplug events need.
// Every phase has a deadline (boot, the script, poweroff); on one, qemu is killed and the error
// says what the guest printed last.
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isBuiltin, createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { DeadlineError, withDeadline } from '../../../harness/common/time.ts';
import { findKernel, GuestSetupError, initramfsFor } from './initramfs.ts';

export { GuestSetupError } from './initramfs.ts';

const PROJECT = resolve(import.meta.dirname, '../../..');
const CACHE = join(PROJECT, '.dextbench', 'qemu');
const QEMU = 'qemu-system-x86_64';
const UDEVD = ['/lib/systemd/systemd-udevd', '/usr/lib/systemd/systemd-udevd'];
const MARK = 'dextbench-guest: ';

export interface GuestRun {
  /** A .ts or .js file of the project, relative to its root (or absolute under it). */
  script: string;
  /** The script's arguments; one line each, so no newlines. */
  args?: string[];
  /** From the guest being ready to the script's exit. */
  timeoutMs: number;
  /** From qemu's start to the guest being ready to run the script (default 90 s; TCG on 2 busy cores). */
  bootTimeoutMs?: number;
  /** Start the host's systemd-udevd in the guest first: node-usb's connect/disconnect events come from it. */
  udev?: boolean;
}

export interface GuestResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The serial console: the kernel's errors and init's `dextbench-guest:` lines. */
  console: string;
  /** qemu start → guest ready; ready → script exit; qemu start → qemu gone. */
  bootMs: number;
  scriptMs: number;
  totalMs: number;
}

export class GuestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestError';
  }
}

/**
 * The convention for guest scripts that report: exit 0 and one JSON line last on stdout. Anything
 * else is a GuestError with the script's stderr.
 */
export function guestReport<T>(result: GuestResult, script = 'guest script'): T {
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  if (result.exitCode !== 0) throw new GuestError(`${script} exited ${result.exitCode}\n  stderr, last lines:\n${tail(result.stderr)}\n  stdout, last lines:\n${tail(result.stdout)}`);
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new GuestError(`${script} exited 0 without a JSON line last on stdout\n  stdout, last lines:\n${tail(result.stdout)}`);
  }
}

/** The last lines of `text`, indented, for an error message. */
function tail(text: string, lines = 15): string {
  const kept = text.replace(/\r/g, '').trimEnd().split('\n').slice(-lines);
  return kept.length && kept[0] !== '' ? kept.map((l) => `    ${l}`).join('\n') : '    (nothing)';
}

function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/**
 * The script and the project's modules it imports, as one .mjs in the run's /run/guest: tsx would spend
 * about 5 s of the guest's emulated CPU starting up, esbuild takes some 50 ms here. Packages stay
 * outside the bundle (node-usb's native addon cannot be bundled) and are imported by their absolute
 * paths in the host's node_modules, which the guest sees at the same place.
 */
const BY_ESBUILD = Symbol('resolved by esbuild itself');

async function bundle(script: string, tmp: string): Promise<string> {
  const requireFromProject = createRequire(join(PROJECT, 'package.json'));
  const name = `${basename(script).replace(/\.[cm]?[jt]s$/, '')}.mjs`;
  await build({
    entryPoints: [script],
    outfile: join(tmp, name),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [{
      name: 'packages-by-absolute-path',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, async ({ path, kind, resolveDir, pluginData }) => {
          if (isBuiltin(path)) return { path, external: true };
          if (pluginData === BY_ESBUILD) return undefined;
          // An import resolves with the "import" condition, as node does on the host: a package's
          // require build may be a UMD file whose named exports an ESM import cannot see (lossless-json).
          const found = await b.resolve(path, { kind, resolveDir, pluginData: BY_ESBUILD });
          return { path: found.errors.length ? requireFromProject.resolve(path) : found.path, external: true };
        });
      },
    }],
  }).catch((error: Error) => { throw new GuestSetupError(`guest script ${script} does not build: ${error.message.split('\n').slice(0, 3).join(' ')}`); });
  return `/run/guest/${name}`;
}

export async function runInGuest(run: GuestRun): Promise<GuestResult> {
  const script = resolve(PROJECT, run.script);
  if (!script.startsWith(`${PROJECT}/`) || !existsSync(script)) throw new GuestSetupError(`guest script ${run.script} is not a file of the project (${PROJECT})`);
  const args = run.args ?? [];
  const bad = args.find((arg) => arg.includes('\n'));
  if (bad !== undefined) throw new GuestSetupError(`guest script argument ${JSON.stringify(bad)} has a newline; the job file carries one argument a line`);
  const udevd = run.udev ? UDEVD.find((path) => existsSync(path)) : undefined;
  if (run.udev && !udevd) throw new GuestSetupError(`systemd-udevd is missing (${UDEVD.join(' or ')}): apt-get install udev`);

  const kernel = findKernel();
  const initramfs = initramfsFor(kernel, CACHE);
  const out = mkdtempSync(join(tmpdir(), 'dextbench-guest-'));
  try {
    mkdirSync(join(out, 'tmp'));
    const argv = [process.execPath, '--enable-source-maps', await bundle(script, join(out, 'tmp')), ...args];
    writeFileSync(join(out, 'job'), [PROJECT, ...argv].map((line) => `${line}\n`).join(''));
    if (udevd) writeFileSync(join(out, 'udevd'), `${udevd}\n`);
    return await boot(kernel.image, initramfs, out, run);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function boot(kernelImage: string, initramfs: string, out: string, run: GuestRun): Promise<GuestResult> {
  const started = performance.now();
  const qemu = spawn(QEMU, [
    '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '1536',
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', kernelImage, '-initrd', initramfs,
    '-append', 'console=ttyS0 panic=-1 loglevel=3',
    '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${out},mount_tag=out,security_model=none,multidevs=remap`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });

  let console_ = '';
  let qemuStderr = '';
  let exited = false;
  let waiters: Array<() => void> = [];
  const wake = (): void => { const woken = waiters; waiters = []; for (const check of woken) check(); };
  const gone = new Promise<number | null>((resolveGone) => {
    qemu.on('exit', (code) => { exited = true; resolveGone(code); wake(); });
    qemu.on('error', (error) => { exited = true; qemuStderr += `${error.message}\n`; resolveGone(null); wake(); });
  });
  qemu.stdout.setEncoding('utf8').on('data', (chunk: string) => { console_ += chunk; wake(); });
  qemu.stderr.setEncoding('utf8').on('data', (chunk: string) => { qemuStderr += chunk; });

  const lastWords = (): string => [
    `  guest console, last lines:\n${tail(console_)}`,
    `  script stdout, last lines:\n${tail(readIfThere(join(out, 'stdout')))}`,
    `  script stderr, last lines:\n${tail(readIfThere(join(out, 'stderr')))}`,
    ...(qemuStderr.trim() ? [`  qemu stderr:\n${tail(qemuStderr)}`] : []),
  ].join('\n');

  /** Resolves with the first console line that starts with `MARK + prefix`; rejects when init failed or qemu is gone. */
  const marker = (prefix: string): Promise<string> => new Promise((resolveMark, reject) => {
    const check = (): void => {
      const lines = console_.replace(/\r/g, '').split('\n');
      const failed = lines.find((line) => line.startsWith(`${MARK}failed: `));
      if (failed) return reject(new GuestError(`guest init: ${failed.slice(MARK.length + 'failed: '.length)}\n${lastWords()}`));
      const line = lines.find((l) => l.startsWith(MARK + prefix));
      if (line !== undefined) return resolveMark(line.slice(MARK.length + prefix.length));
      if (exited) return reject(new GuestError(`qemu ended before the guest said "${prefix.trim()}"\n${lastWords()}`));
      waiters.push(check);
    };
    check();
  });

  const phase = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
    try {
      return await withDeadline(promise, ms, what);
    } catch (error) {
      if (!exited) { qemu.kill('SIGKILL'); await gone; }
      if (error instanceof DeadlineError) throw new GuestError(`${error.message}; qemu killed\n${lastWords()}`);
      throw error;
    }
  };

  await phase(marker('ready'), run.bootTimeoutMs ?? 90_000, 'guest boot (qemu start to init ready)');
  const ready = performance.now();
  const code = Number(await phase(marker('exit '), run.timeoutMs, `guest script ${run.script}`));
  const scriptDone = performance.now();
  await phase(gone, 15_000, 'guest poweroff');
  return {
    exitCode: code,
    stdout: readIfThere(join(out, 'stdout')),
    stderr: readIfThere(join(out, 'stderr')),
    console: console_,
    bootMs: ready - started,
    scriptMs: scriptDone - ready,
    totalMs: performance.now() - started,
  };
}
