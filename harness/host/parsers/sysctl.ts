// `sysctl -n kern.boottime`: when the Mac last booted. The format is not in
// reference/macos-formats.md (unconfirmed for macOS): BSD sysctl's S_timeval prints
// `{ sec = %ld, usec = %ld } ` and then ctime() without its newline, as in
// `{ sec = 1700000000, usec = 123456 } Tue Nov 14 22:13:20 2023`. So only the two numbers are
// read, wherever they stand and with any spacing; the date text is ignored.

/** The kernel's boot time: seconds and microseconds since the epoch, exact. */
export interface BootTime {
  sec: number;
  usec: number;
}

const TIMEVAL = /\bsec\s*=\s*(\d+)\s*,\s*usec\s*=\s*(\d+)/;

/**
 * @throws Error naming what was read when the text holds no `sec = N, usec = N` pair.
 */
export function parseBootTime(text: string): BootTime {
  const match = TIMEVAL.exec(text);
  const sec = Number(match?.[1]);
  const usec = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(sec) || !Number.isSafeInteger(usec) || usec >= 1_000_000) {
    const shown = text.trim().split('\n')[0]!.slice(0, 80);
    throw new Error(`not a kern.boottime value: expected "{ sec = N, usec = N } …", got ${JSON.stringify(shown)}`);
  }
  return { sec, usec };
}

export function sameBootTime(a: BootTime, b: BootTime): boolean {
  return a.sec === b.sec && a.usec === b.usec;
}

/** As an ISO 8601 UTC time (to the millisecond). */
export function bootTimeIso(t: BootTime): string {
  return new Date(t.sec * 1000 + Math.floor(t.usec / 1000)).toISOString();
}
