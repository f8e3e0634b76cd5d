// Runs INSIDE the QEMU guest, as root: harness/emulate through a LocalExec (the guest is the board,
// its dummy_udc.0 the device controller, and its own bus the Mac's side). A profile's Loopback gadget
// is plugged and unplugged through gadgetPortDriver like a hub port; an ACM gadget is built with the
// plain functions. It reports what the kernel shows after each step (sysfs, /dev, configfs) as one
// JSON line for test/usb/emulate-gadget.test.ts to judge; it decides nothing itself.
// Arguments: the echo profile (JSON), then the ACM + HID profile (JSON).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadlineError, pollUntil } from '../../../harness/common/time.ts';
import { bind, createGadget, gadgetPlan, gadgetPortDriver, removeGadget, unbind } from '../../../harness/emulate/index.ts';
import { LocalExec } from '../../../harness/host/exec.ts';
import type { DeviceProfile } from '../../../harness/rig/types.ts';

export interface SysfsDevice { port: string; idVendor: string; idProduct: string; serial: string }
export interface PortState { status: unknown; udcFile: string | null; sysfs: SysfsDevice | null }
export interface EmulateReport {
  udcs: string[];
  echo: { plugged: PortState; unplugged: PortState; replugged: PortState; closed: { gadgetDir: boolean; sysfs: SysfsDevice | null } };
  errors: { createTwice: string; bindWrongUdc: string; port2: string };
  /** A plan whose last op makes a function no module provides: the error, and whether anything was left behind. */
  rollback: { error: string; gadgetDir: boolean };
  acm: {
    gadgetTty: boolean; hostTtys: string[]; hostDevice: SysfsDevice | null; hostDeviceClass: string | null;
    /** The hid function's report_desc as configfs reads it back (hex), and its /dev/hidg node. */
    reportDesc: string; hidg: boolean;
    afterRemove: { gadgetDir: boolean; gadgetTty: boolean; hostTtys: string[] };
  };
}

const echo = JSON.parse(process.argv[2] ?? '') as DeviceProfile;
const acmProfile = JSON.parse(process.argv[3] ?? '') as DeviceProfile;
const exec = new LocalExec();
const WAIT_MS = 10_000;

function sysfsDevice(profile: DeviceProfile): SysfsDevice | null {
  const root = '/sys/bus/usb/devices';
  for (const port of readdirSync(root)) {
    const read = (name: string): string => (existsSync(join(root, port, name)) ? readFileSync(join(root, port, name), 'utf8').trim() : '');
    if (read('serial') === profile.usb.serial) return { port, idVendor: read('idVendor'), idProduct: read('idProduct'), serial: read('serial') };
  }
  return null;
}

/** Waits until `probe` says `want` (enumeration under TCG takes ~0.5 s); on the deadline, reports what it last saw. */
async function settle<T>(probe: () => T, want: (value: T) => boolean): Promise<T> {
  try {
    return await pollUntil(async () => { const v = probe(); return { value: want(v) ? { v } : undefined, seen: v }; }, { timeoutMs: WAIT_MS, describe: () => 'settle' }).then((r) => r.v);
  } catch (error) {
    if (error instanceof DeadlineError) return probe();
    throw error;
  }
}

const udcFile = (name: string): string | null => (existsSync(`/sys/kernel/config/usb_gadget/${name}/UDC`) ? readFileSync(`/sys/kernel/config/usb_gadget/${name}/UDC`, 'utf8').trim() : null);
const message = (p: Promise<unknown>): Promise<string> => p.then(() => '(no error)', (e: Error) => e.message);
const hostTtys = (): string[] => readdirSync('/dev').filter((n) => n.startsWith('ttyACM')).sort();

const udcs = readdirSync('/sys/class/udc');
const port = gadgetPortDriver(exec, { id: 'pi', profile: echo, name: 'echo' });
const state = async (present: boolean): Promise<PortState> => ({
  status: await port.status(),
  udcFile: udcFile('echo'),
  sysfs: await settle(() => sysfsDevice(echo), (d) => (d !== null) === present),
});

await port.setPort(1, true);
const plugged = await state(true);
const errors = {
  createTwice: await message(createGadget(exec, gadgetPlan(echo, 'echo'))),
  bindWrongUdc: await message(bind(exec, 'echo', 'nope.0')),
  port2: await message(port.setPort(2, false)),
};
await port.setPort(1, false);
const unplugged = await state(false);
await port.setPort(1, true);
const replugged = await state(true);
await port.close();
const closed = { gadgetDir: existsSync('/sys/kernel/config/usb_gadget/echo'), sysfs: await settle(() => sysfsDevice(echo), (d) => d === null) };

const good = gadgetPlan(echo, 'half');
const rollback = {
  error: await message(createGadget(exec, { ...good, ops: [...good.ops, { op: 'mkdir', path: `${good.dir}/functions/nosuch.0` }] })),
  gadgetDir: existsSync(good.dir),
};

// The host side's CDC ACM driver: the lane's initramfs loads only the gadget side's modules.
if (!existsSync('/sys/module/cdc_acm')) await exec.run(['modprobe', 'cdc_acm'], { timeoutMs: 10_000 });
const acmPlan = gadgetPlan(acmProfile, 'acm');
await createGadget(exec, acmPlan);
await bind(exec, 'acm');
const hostDevice = await settle(() => sysfsDevice(acmProfile), (d) => d !== null);
const acm = {
  gadgetTty: existsSync('/dev/ttyGS0'),
  hostTtys: await settle(hostTtys, (t) => t.length > 0),
  hostDevice,
  hostDeviceClass: hostDevice ? readFileSync(`/sys/bus/usb/devices/${hostDevice.port}/bDeviceClass`, 'utf8').trim() : null,
  reportDesc: readFileSync('/sys/kernel/config/usb_gadget/acm/functions/hid.0/report_desc').toString('hex'),
  hidg: existsSync('/dev/hidg0'),
  afterRemove: { gadgetDir: true, gadgetTty: true, hostTtys: [] as string[] },
};
await unbind(exec, 'acm');
await removeGadget(exec, acmPlan);
acm.afterRemove = {
  gadgetDir: existsSync('/sys/kernel/config/usb_gadget/acm'),
  gadgetTty: await settle(() => existsSync('/dev/ttyGS0'), (e) => !e),
  hostTtys: await settle(hostTtys, (t) => t.length === 0),
};

const report: EmulateReport = { udcs, echo: { plugged, unplugged, replugged, closed }, errors, rollback, acm };
console.log(JSON.stringify(report));
