// Runs INSIDE the QEMU guest, as root: a rig's gadget hub with `board: local` (the guest is the
// board, dummy_udc.0 its device controller, its own bus the Mac's side), reached through connectRig
// like any hub: port 1 on binds the echo gadget, safe state unbinds it, close removes it. node-usb
// (harness/usb) watches the bus for the device each time. It reports what it saw as one JSON line
// for test/usb/gadget-hub.test.ts to judge; it decides nothing itself.
// Argument: the rig definition (JSON), as loadRig resolved it on the host.
import { existsSync, readFileSync } from 'node:fs';
import { sleep } from '../../../harness/common/time.ts';
import { connectRig } from '../../../harness/rig/connect.ts';
import type { RigDefinition } from '../../../harness/rig/types.ts';
import { findDevices, waitForDevice, type DeviceWait, type UsbFilter } from '../../../harness/usb/index.ts';

export interface Seen { status: unknown; udcFile: string | null; wait: { via: DeviceWait['via']; ms: number; serial: string | null } | { error: string } }
export interface GadgetHubReport {
  before: { status: unknown; present: number };
  plugged: Seen;
  safe: Seen;
  closed: { gadgetDir: boolean; present: number };
}

const rig = JSON.parse(process.argv[2] ?? '') as RigDefinition;
const echo = rig.devices.find((d) => d.role === 'echo')!;
const filter: UsbFilter = { vendorId: echo.profile.usb.vendorId, productId: echo.profile.usb.productId, serial: echo.profile.usb.serial! };
const GADGET = '/sys/kernel/config/usb_gadget/echo';
const udcFile = (): string | null => (existsSync(`${GADGET}/UDC`) ? readFileSync(`${GADGET}/UDC`, 'utf8').trim() : null);

const session = connectRig(rig);
const pi = session.hubs.get('pi')!;

/** Waits for `state` around `act`: the wait is registered first, so it sees the change, not a device already there. */
async function around(state: 'present' | 'absent', act: () => Promise<void>): Promise<Seen> {
  const waiting = waitForDevice(filter, state, { timeoutMs: 20_000 }).then(
    (w) => ({ via: w.via, ms: w.ms, serial: w.device?.serial ?? null }),
    (error: Error) => ({ error: error.message }),
  );
  await sleep(300);
  await act();
  const wait = await waiting;
  return { status: await pi.status(), udcFile: udcFile(), wait };
}

const before = { status: await pi.status(), present: (await findDevices(filter)).length };
const plugged = await around('present', () => pi.setPort(1, true));
const safe = await around('absent', () => session.safeState());
await session.close();
const closed = { gadgetDir: existsSync(GADGET), present: (await findDevices(filter)).length };

const report: GadgetHubReport = { before, plugged, safe, closed };
console.log(JSON.stringify(report));
