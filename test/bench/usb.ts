// Figures of the real-USB lane, measured in one QEMU guest boot with udevd (test/support/qemu/),
// devices/echo.yaml played as a Loopback gadget on dummy_hcd; what each side does exactly is in
// test/bench/usb-guest.ts, which runs in the guest.
//  attach_latency_events_ms  median ms from the UDC bind to harness/usb waitForDevice (hotplug events)
//  attach_latency_poll_ms    median ms from the UDC bind to a findDevices poll every 250 ms seeing it
//                            (as rig scripts poll); target: polling >= 5 x events
//  attach_enumeration_ms     median ms from the UDC bind to the device's folder in sysfs (polled every
//                            10 ms): the kernel's enumeration, the floor of both attach figures
//  attach_notice_events_ms   median ms from the device's folder in sysfs (a worker thread looks every
//                            10 ms) to the events wait noticing it
//  attach_notice_poll_ms     the same for the 250 ms poll: what each way adds once the kernel is done
//  usb_bulk_MBps             median MB/s of harness/usb loopbackTraffic, PRBS31 generated and every
//                            byte verified
//  usb_bulk_raw_MBps         median MB/s of the same transfers through node-usb's transferOut/transferIn
//                            in a bare loop, bytes counted only; target: usb_bulk_MBps >= 0.8 x raw
//  usb_guest_prbs_MBps       median MB/s of generating and verifying the same PRBS31 with no USB, in the
//                            guest's emulated CPU: the pattern work usb_bulk_MBps carries and raw does not
// Without the lane's tools they are null, and `why` says what is missing.
// Run alone: `tsx test/bench/usb.ts` (one JSON line); `npm run bench` runs it (bench.ts).
import { pathToFileURL } from 'node:url';
import { loadDeviceProfile } from '../../harness/scenario/device.ts';
import { laneMessage, missingNeeds, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest } from '../support/qemu/guest.ts';
import type { UsbGuestFigures, UsbGuestJob } from './usb-guest.ts';
import { median } from './support.ts';

export interface UsbBenchmarks {
  attach_latency_events_ms: number | null;
  attach_latency_poll_ms: number | null;
  attach_enumeration_ms: number | null;
  attach_notice_events_ms: number | null;
  attach_notice_poll_ms: number | null;
  usb_bulk_MBps: number | null;
  usb_bulk_raw_MBps: number | null;
  usb_guest_prbs_MBps: number | null;
  /** Why the figures are null; absent when they were measured. */
  usb_null_why?: string;
}

const SCRIPT = 'test/bench/usb-guest.ts';
export const POLL_INTERVAL_MS = 250;
/** How often test/bench/usb-guest.ts's worker looks for the device in sysfs (its KERNEL_POLL_MS). */
export const SYSFS_WATCH_MS = 10;
export const BULK_BYTES = 32 * 2 ** 20;
export const BULK_CHUNK = 2 ** 20;
export const ATTACH_RUNS = 7;
export const BULK_RUNS = 5;

export async function usbBenchmarks(): Promise<UsbBenchmarks> {
  const missing = missingNeeds(QEMU_LANE);
  if (missing.length > 0) {
    const why = laneMessage('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', missing);
    return {
      attach_latency_events_ms: null, attach_latency_poll_ms: null, attach_enumeration_ms: null, attach_notice_events_ms: null, attach_notice_poll_ms: null,
      usb_bulk_MBps: null, usb_bulk_raw_MBps: null, usb_guest_prbs_MBps: null, usb_null_why: why,
    };
  }
  const job: UsbGuestJob = {
    profile: loadDeviceProfile('devices/echo.yaml'),
    attachRuns: ATTACH_RUNS, pollIntervalMs: POLL_INTERVAL_MS, bulkBytes: BULK_BYTES, bulkChunk: BULK_CHUNK, bulkRuns: BULK_RUNS,
  };
  const run = await runInGuest({ script: SCRIPT, args: [JSON.stringify(job)], timeoutMs: 240_000, udev: true });
  const figures = guestReport<UsbGuestFigures>(run, SCRIPT);
  const notEvents = figures.eventsVia.filter((via) => via !== 'events');
  if (notEvents.length > 0) throw new Error(`${SCRIPT}: waitForDevice used ${notEvents.join(', ')} in the guest, not hotplug events: attach_latency_events_ms would not be what it says`);
  const errors = figures.bulkErrors.reduce((a, b) => a + b, 0);
  if (errors > 0) throw new Error(`${SCRIPT}: ${errors} bytes mismatched in the harness loopback runs`);
  const round = (n: number, digits: number): number => Number(n.toFixed(digits));
  return {
    attach_latency_events_ms: round(median(figures.attachEventsMs), 1),
    attach_latency_poll_ms: round(median(figures.attachPollMs), 1),
    attach_enumeration_ms: round(median(figures.attachKernelMs), 1),
    attach_notice_events_ms: round(median(figures.attachEventsAfterKernelMs), 1),
    attach_notice_poll_ms: round(median(figures.attachPollAfterKernelMs), 1),
    usb_bulk_MBps: round(median(figures.bulkMBps), 2),
    usb_bulk_raw_MBps: round(median(figures.bulkRawMBps), 2),
    usb_guest_prbs_MBps: round(median(figures.prbsMBps), 1),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await usbBenchmarks()));
}
