// "no USB on this host", on this machine itself (outside the QEMU guest): this Linux box has no
// /sys/bus/usb and no /dev/bus/usb, as many CI containers and VMs. Every harness/usb entry point
// and the usb.expect step must end in one line saying so: never an unhandled rejection, never a
// wait that keeps the process alive. Each case runs in a child process that ends by itself.
//
// A machine that does have USB hides it from the child in a private mount namespace (an empty
// tmpfs over /sys/bus), which needs root; so does the case that puts a udevd control socket in
// the child's view (a tmpfs over /run) to take the hotplug-event path instead of polling.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { withDeadline } from '../../harness/common/time.ts';

const root = new URL('../..', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const hasUsb = existsSync('/sys/bus/usb');

/** What the child does: each entry point, its outcome as { class, message } or the value it returned. */
const CHILD = `
const usb = await import(${JSON.stringify(`${root}harness/usb/index.ts`)});
const { stepRegistry } = await import(${JSON.stringify(`${root}harness/steps/index.ts`)});
const { simRig } = await import(${JSON.stringify(`${root}test/unit/rig/rig-fixtures.ts`)});
const outcome = (p) => p.then((value) => ({ value: JSON.stringify(value) }), (e) => ({ class: e.constructor.name, message: e.message }));
const filter = { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0001' };
const definition = simRig({ host: { kind: 'local' } });
const ctx = { rig: { definition, devices: new Map(definition.devices.map((d) => [d.role, d])) }, timeoutMs: 2000,
  timeline: { record() {} }, cleanup: { push() {}, release() {} }, measure() {} };
const step = (kind, args) => { const s = stepRegistry.get(kind); return s.run(s.schema.parse(args), ctx); };
const started = performance.now();
const report = {
  hotplug: usb.hotplugSupport(),
  findDevices: await outcome(usb.findDevices(filter)),
  findDevice: await outcome(usb.findDevice(filter)),
  waitPresent: await outcome(usb.waitForDevice(filter, 'present', { timeoutMs: 3000 })),
  waitAbsent: await outcome(usb.waitForDevice(filter, 'absent', { timeoutMs: 3000 })),
  expectStep: await outcome(step('usb.expect', { device: 'echo', within: '3s' })),
  ioStep: await outcome(step('usb.io', { device: 'echo', endpoints: { out: 2, in: 0x81 }, bytes: '1MiB' })),
};
report.ms = performance.now() - started;
console.log(JSON.stringify(report));
`;

interface Outcome { class?: string; message?: string; value?: string }
interface Report {
  hotplug: { via: string };
  findDevices: Outcome; findDevice: Outcome; waitPresent: Outcome; waitAbsent: Outcome; expectStep: Outcome; ioStep: Outcome;
  ms: number;
}

/**
 * The child, in a private mount namespace when `setup` or hiding this machine's USB asks for one.
 * Resolves with its report and how long it lived after printing it: a hotplug callback left
 * registered keeps a process alive for seconds.
 */
async function runChild(env: NodeJS.ProcessEnv = {}, setup = ''): Promise<{ report: Report; lingeredMs: number }> {
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD];
  const hide = [hasUsb ? 'mount -t tmpfs none /sys/bus' : '', setup].filter(Boolean).join(' && ');
  const argv = hide ? ['unshare', '-m', 'sh', '-c', `${hide} && exec "$0" "$@"`, ...node] : node;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let reportedAt = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; if (!reportedAt && stdout.includes('\n')) reportedAt = performance.now(); });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ended = await withDeadline(exited, 60_000, 'the child').catch((error: Error) => { child.kill('SIGKILL'); throw new Error(`${error.message}; stderr: ${stderr}`); });
  const lingeredMs = performance.now() - reportedAt;
  assert.deepEqual(ended, { code: 0, signal: null }, `the child ended ${JSON.stringify(ended)}; stderr: ${stderr}`);
  assert.doesNotMatch(stderr, /unhandled|uncaught|triggerUncaughtException/i);
  return { report: JSON.parse(stdout.trim().split('\n').at(-1)!) as Report, lingeredMs };
}

const NO_USB = /^no USB on this host \(getDevices error: \/sys\/bus\/usb\/devices\/ not found \(errno 2\)\)$/;

function assertNoUsb({ report, lingeredMs }: { report: Report; lingeredMs: number }, expected: RegExp): void {
  for (const name of ['findDevices', 'findDevice', 'waitPresent', 'waitAbsent'] as const) {
    assert.equal(report[name].class, 'UsbUnavailable', `${name}: ${JSON.stringify(report[name])}`);
    assert.match(report[name].message!, expected, name);
  }
  for (const name of ['expectStep', 'ioStep'] as const) {
    const kind = name === 'expectStep' ? 'usb.expect' : 'usb.io';
    assert.equal(report[name].class, 'StepFailure', `${name}: ${JSON.stringify(report[name])}`);
    assert.equal(report[name].message, `${kind} echo: ${report.findDevices.message}`);
  }
  // Nothing waited out its 3 s: the answer is immediate.
  assert.ok(report.ms < 2500, `the entry points took ${Math.round(report.ms)} ms`);
  assert.ok(lingeredMs < 2000, `the child lived ${Math.round(lingeredMs)} ms after its report: something kept it alive`);
}

test('no USB subsystem: one line, "no USB on this host", from every entry point and both usb steps', { skip: process.platform !== 'linux' ? 'Linux only' : hasUsb && !isRoot ? 'this machine has USB: hiding it needs root (unshare -m)' : false }, async () => {
  const run = await runChild();
  assert.equal(run.report.hotplug.via, 'polling', 'this host has no udevd');
  assertNoUsb(run, NO_USB);
});

test('no USB subsystem where udevd runs: the hotplug-event path ends the same way and lets the process exit', { skip: process.platform !== 'linux' ? 'Linux only' : !isRoot ? 'needs root for unshare -m (a udevd control socket in a private /run)' : false }, async () => {
  const run = await runChild({}, 'mount -t tmpfs none /run && mkdir -p /run/udev && touch /run/udev/control');
  assert.equal(run.report.hotplug.via, 'events');
  assertNoUsb(run, NO_USB);
});

test('node-usb\'s native part does not load: one line, "no USB on this host", naming the platform', { skip: process.platform !== 'linux' ? 'Linux only' : false }, async () => {
  // napi-rs loads the binding from here when set; a missing file is a binding that does not load.
  const run = await runChild({ NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/usb.linux-x64-gnu.node' });
  assertNoUsb(run, new RegExp(`^no USB on this host \\(node-usb's native part does not load for linux-${process.arch}: Cannot find native binding\\.`));
});
