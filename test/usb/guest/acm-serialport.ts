// Runs INSIDE the QEMU guest, as root: an ACM gadget built by harness/emulate on dummy_udc.0 gives
// the gadget side /dev/ttyGS0 and, once the host side's cdc_acm binds, /dev/ttyACM0. Both ends are
// opened with serialport (raw 8N1, as a rig opens a serial device) and a PRBS pattern is written
// on one end and read on the other, each way in turn. The bytes read are reported whole (base64)
// for test/usb/acm-serialport.test.ts to compare against its own pattern; this script judges nothing.
// Argument: one JSON AcmJob.
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { createPatternGenerator } from '../../../harness/common/patterns.ts';
import { DeadlineError, pollUntil, sleep, withDeadline } from '../../../harness/common/time.ts';
import { bind, createGadget, gadgetPlan, removeGadget, unbind } from '../../../harness/emulate/index.ts';
import { LocalExec } from '../../../harness/host/exec.ts';
import type { DeviceProfile } from '../../../harness/rig/types.ts';

export interface AcmJob {
  profile: DeviceProfile;
  /** Bytes each way. */
  bytes: number;
  pattern: string;
  /** Seeds of the host → gadget and gadget → host streams (different, so a crossed wire shows). */
  seeds: { hostToGadget: number; gadgetToHost: number };
}

export interface AcmTransfer {
  from: string;
  to: string;
  /** Every byte read on `to` until `bytes` arrived (or the wait ran out) and a quiet spell after. */
  received: string;
  ms: number;
  /** Set when the bytes did not all arrive within the deadline. */
  timedOut: boolean;
}

export interface AcmReport {
  gadgetTty: string;
  hostTty: string;
  hostToGadget: AcmTransfer;
  gadgetToHost: AcmTransfer;
}

const job = JSON.parse(process.argv[2] ?? '') as AcmJob;
const exec = new LocalExec();
const GADGET_TTY = '/dev/ttyGS0';
const HOST_TTY = '/dev/ttyACM0';
const WAIT_MS = 10_000;
const TRANSFER_MS = 30_000;
/** After the last expected byte: anything more (a doubled or echoed byte) arrives within this. */
const QUIET_MS = 300;

function openPort(path: string): Promise<SerialPort> {
  return withDeadline(new Promise<SerialPort>((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, autoOpen: false });
    port.open((error) => (error ? reject(new Error(`open ${path}: ${error.message}`)) : resolve(port)));
  }), WAIT_MS, `opening ${path}`);
}

function closePort(port: SerialPort): Promise<void> {
  return withDeadline(new Promise<void>((resolve) => port.close(() => resolve())), WAIT_MS, `closing ${port.path}`);
}

/** Writes `bytes` of the pattern on `from` while `to` collects what arrives. */
async function transfer(from: SerialPort, to: SerialPort, seed: number): Promise<AcmTransfer> {
  const data = new Uint8Array(job.bytes);
  createPatternGenerator(job.pattern, seed).fill(data);
  const chunks: Buffer[] = [];
  let count = 0;
  let arrived: (() => void) | undefined;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    count += chunk.length;
    if (count >= job.bytes) arrived?.();
  };
  to.on('data', onData);
  const started = performance.now();
  let timedOut = false;
  try {
    const all = new Promise<void>((resolve) => { arrived = resolve; });
    await withDeadline(new Promise<void>((resolve, reject) => {
      from.write(Buffer.from(data), (error) => (error ? reject(error) : from.drain((e) => (e ? reject(e) : resolve()))));
    }), TRANSFER_MS, `writing ${job.bytes} bytes to ${from.path}`);
    await withDeadline(all, TRANSFER_MS, `${job.bytes} bytes on ${to.path}`).catch((error: unknown) => {
      if (!(error instanceof DeadlineError)) throw error;
      timedOut = true;
    });
    const ms = performance.now() - started;
    await sleep(QUIET_MS);
    return { from: from.path, to: to.path, received: Buffer.concat(chunks).toString('base64'), ms, timedOut };
  } finally {
    to.off('data', onData);
  }
}

// The host side's CDC ACM driver: the lane's initramfs loads only the gadget side's modules.
if (!existsSync('/sys/module/cdc_acm')) await exec.run(['modprobe', 'cdc_acm'], { timeoutMs: 10_000 });
const plan = gadgetPlan(job.profile, 'acm');
await createGadget(exec, plan);
await bind(exec, 'acm');
try {
  await pollUntil(async () => ({ value: existsSync(GADGET_TTY) && existsSync(HOST_TTY) ? true : undefined, seen: [existsSync(GADGET_TTY), existsSync(HOST_TTY)] }), {
    timeoutMs: WAIT_MS, describe: (seen) => `${GADGET_TTY} and ${HOST_TTY} not both there after ${WAIT_MS} ms (present: ${JSON.stringify(seen)})`,
  });
  const gadget = await openPort(GADGET_TTY);
  const host = await openPort(HOST_TTY);
  const hostToGadget = await transfer(host, gadget, job.seeds.hostToGadget);
  const gadgetToHost = await transfer(gadget, host, job.seeds.gadgetToHost);
  await closePort(host);
  await closePort(gadget);
  const report: AcmReport = { gadgetTty: GADGET_TTY, hostTty: HOST_TTY, hostToGadget, gadgetToHost };
  console.log(JSON.stringify(report));
} finally {
  await unbind(exec, 'acm');
  await removeGadget(exec, plan);
}
