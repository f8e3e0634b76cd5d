// An ACM gadget through serialport on a real Linux USB stack: in a QEMU guest (dummy_hcd),
// harness/emulate builds a configfs gadget with one acm function; the gadget side's /dev/ttyGS0 and
// the host side's /dev/ttyACM0 (cdc_acm) are both opened with serialport, and 64 KiB of PRBS31 go
// each way. The guest reports the bytes it read (test/usb/guest/acm-serialport.ts); this test
// regenerates the pattern and compares byte for byte.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createPatternGenerator } from '../../harness/common/patterns.ts';
import type { DeviceProfile } from '../../harness/rig/types.ts';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';
import type { AcmJob, AcmReport, AcmTransfer } from './guest/acm-serialport.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/acm-serialport.ts';
const profile: DeviceProfile = {
  file: 'acm.yaml', name: 'acm', interfaces: [],
  usb: { vendorId: 0x1d6b, productId: 0x0104, manufacturer: 'dextbench', product: 'Serial echo', serial: 'ACMSP001' },
  emulate: { functions: ['acm'] },
};
const job: AcmJob = { profile, bytes: 64 * 1024, pattern: 'PRBS31', seeds: { hostToGadget: 11, gadgetToHost: 29 } };

function expected(seed: number): Buffer {
  const data = new Uint8Array(job.bytes);
  createPatternGenerator(job.pattern, seed).fill(data);
  return Buffer.from(data);
}

/** Equal, or one line: how many bytes came, and the first offset that differs. */
function assertSameBytes(transfer: AcmTransfer, seed: number): void {
  const got = Buffer.from(transfer.received, 'base64');
  const want = expected(seed);
  if (got.equals(want)) return;
  let first = 0;
  while (first < Math.min(got.length, want.length) && got[first] === want[first]) first++;
  assert.fail(`${transfer.from} → ${transfer.to}: ${got.length} of ${want.length} bytes arrived${transfer.timedOut ? ' (the wait ran out)' : ''}; first difference at offset ${first}`);
}

describe('an ACM gadget opened at both ends through serialport in the guest', { skip }, () => {
  let run: GuestResult;
  let report: AcmReport;
  before(async () => {
    run = await runInGuest({ script: SCRIPT, args: [JSON.stringify(job)], timeoutMs: 120_000 });
    report = guestReport<AcmReport>(run, SCRIPT);
  });

  test('host side /dev/ttyACM0 → gadget side /dev/ttyGS0: 64 KiB of PRBS31 arrive byte for byte, nothing more', (t) => {
    t.diagnostic(`guest boot ${(run.bootMs / 1000).toFixed(1)} s, script ${(run.scriptMs / 1000).toFixed(1)} s; `
      + `host → gadget ${report.hostToGadget.ms.toFixed(0)} ms, gadget → host ${report.gadgetToHost.ms.toFixed(0)} ms`);
    assert.deepEqual([report.hostToGadget.from, report.hostToGadget.to], ['/dev/ttyACM0', '/dev/ttyGS0']);
    assertSameBytes(report.hostToGadget, job.seeds.hostToGadget);
  });

  test('gadget side /dev/ttyGS0 → host side /dev/ttyACM0: 64 KiB of PRBS31 arrive byte for byte, nothing more', () => {
    assert.deepEqual([report.gadgetToHost.from, report.gadgetToHost.to], ['/dev/ttyGS0', '/dev/ttyACM0']);
    assertSameBytes(report.gadgetToHost, job.seeds.gadgetToHost);
  });
});
