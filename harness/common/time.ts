// Waiting with a deadline: the small helpers every layer uses (host/ and up). Every wait in
// dextbench has a deadline; these are the ways to write one.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `500ms`, `2s`, `1m`: durations as scenarios write them. */
export function formatMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A wait that ran out: its message says what was last seen. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns a value other than undefined, or the deadline passes; then throws
 * a DeadlineError with the message `describe()` builds from the last observation.
 */
export async function pollUntil<T, Seen>(
  probe: () => Promise<{ value?: T; seen: Seen }>,
  options: PollOptions & { describe: (lastSeen: Seen | undefined) => string },
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const { value, seen } = await probe();
    if (value !== undefined) return value;
    const left = deadline - performance.now();
    if (left <= 0) throw new DeadlineError(options.describe(seen));
    await sleep(Math.min(interval, left));
  }
}

/** `promise`, or a DeadlineError(`what` timed out after ms) once `ms` have passed. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} timed out after ${formatMs(ms)}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Whether `promise` settles within `ms` (its outcome is not looked at). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  const settled = promise.then(() => true as const, () => true as const);
  const done = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return done;
}
