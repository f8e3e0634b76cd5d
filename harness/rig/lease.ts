// The rig reservation: one lease per rig, on the rig's host itself, in a folder every user of that
// Mac shares (/Users/Shared/dextbench/leases by default; $TMPDIR is per user on macOS, so a CI user
// and a person at the desk would never see each other there). `mkdir` is atomic: whoever creates
// <rig>.lease holds the rig. <rig>.lease/owner.json says who (world-readable, so another user can
// see who holds it and wait). The holder renews it (rewrites owner.json) well inside its TTL; a
// lease whose owner.json (or, unreadable, the folder) was not touched for a TTL is expired, judged
// by the host's own clock (controllers reaching one Mac over ssh may disagree about the time), and
// is taken over under a takeover lock so that two waiters never both take it, and never take a
// lease that was renewed meanwhile.
// A cooperative lock between dextbench processes, not a security boundary: the folders are 0777
// so any user's dextbench can take over an expired lease and clean it up.
// Only POSIX tools through Exec (sh, mkdir, mv, rm, cat, date, stat), so a Linux host runs the same.
// A hold (`--hold`) is the same lease turned into a reservation for a person after a failure:
// owner.json gains `hold` and its TTL becomes the hold's length; nobody renews it, so it expires
// (and is taken over like any expired lease) when the hold ends, unless `rig release` frees it first.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { formatMs, sleep } from '../common/time.ts';
import { TransportError, type Exec, type ExecResult } from '../host/exec.ts';

/** Where leases live on a Mac unless the rig says otherwise (`reservation: { dir }`). */
export const SHARED_LEASE_DIR = '/Users/Shared/dextbench/leases';

export interface LeaseHolder {
  rig: string;
  /** Who holds it, for the message others see ("dextbench run", "dextbench rig plug"). */
  owner: string;
  user: string;
  host: string;
  pid: number;
  token: string;
  acquiredAt: string;
  ttlMs: number;
  /** Set when the lease became a hold: the rig is kept as a failure left it. */
  hold?: LeaseHold;
}

export interface LeaseHold {
  /** ISO time at which the hold ends by itself. */
  until: string;
  /** The failed scenario whose state the rig keeps. */
  scenario: string;
  /** The repro bundle of that failure, as the holder's run wrote it. */
  bundle?: string;
}

export interface Lease {
  readonly dir: string;
  readonly holder: LeaseHolder;
  /** The holder whose expired lease this one replaced, if any. */
  readonly tookOverFrom?: LeaseHolder | 'unreadable';
  /** Removes the lease, unless it was taken over meanwhile. */
  release(): Promise<void>;
  /** Touches owner.json so the TTL starts again; fails if the lease was lost. */
  renew(): Promise<void>;
  /** Fails with a LeaseError if this lease is no longer ours. */
  verify(): Promise<void>;
  /** Renews every ttl/3 until release; `onLost` hears once if a renewal finds the lease lost. */
  keepAlive(onLost: (error: LeaseError) => void): void;
}

export interface LeaseOptions {
  /** The shared folder on the host that holds every rig's lease. */
  baseDir: string;
  ttlMs: number;
  /** What holds it ("dextbench run", "dextbench rig plug echo"). */
  owner: string;
  /** How long to wait for a held lease; 0 tries once. */
  waitMs: number;
  pollMs?: number;
  /** Told once, when this acquire starts waiting for another holder. */
  onWait?: (state: LeaseState) => void;
}

/** What the host says about a rig's lease right now. */
export type LeaseState =
  | { held: false }
  | { held: true; holder?: LeaseHolder; ownerFile: 'readable' | 'unreadable' | 'not written yet'; ageMs: number; expired: boolean; takeoverAgeMs?: number };

export class LeaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseError';
  }
}

const COMMAND_TIMEOUT_MS = 15_000;
const DEFAULT_POLL_MS = 1_000;
/** A takeover lock older than this belongs to a taker that died mid-takeover. */
const TAKEOVER_STALE_MS = 30_000;
const INSPECT_ATTEMPTS = 5;

// One round trip that reports the host's clock, the lease's age and its owner.json. mtime is read
// with GNU stat first: BSD `stat -c` is an error, while GNU `stat -f` would print a filesystem.
const INSPECT = [
  'd=$1; now=$(date +%s)',
  // owner.json first: its content, or whether it is there but unreadable, or not written yet.
  'if c=$(cat "$d/owner.json" 2>/dev/null); then o=1; elif [ -e "$d/owner.json" ]; then o=2; else o=0; fi',
  'if [ ! -d "$d" ]; then echo "none $now"; exit 0; fi',
  'mtime() { stat -c %Y "$1" 2>/dev/null || stat -f %m "$1" 2>/dev/null || echo -; }',
  't="$d/owner.json"; [ $o = 0 ] && t="$d"',
  'm=$(mtime "$t")',
  // Released, renewed or taken over while we looked: the caller looks again.
  'c2=$(cat "$d/owner.json" 2>/dev/null); [ "$c" = "$c2" ] && [ "$m" != - ] || { echo changing; exit 0; }',
  'k=-; [ -d "$d/takeover" ] && k=$(mtime "$d/takeover")',
  'echo "held $now $m $k $o"',
  '[ $o = 1 ] && printf "%s\\n" "$c"',
  'exit 0',
].join('\n');

// owner.json is replaced whole (rename), world-readable whatever the caller's umask.
const WRITE_OWNER = 'umask 022; cat > "$1.$2" && mv -f "$1.$2" "$1"';

export function leaseDirFor(baseDir: string, rigName: string): string {
  return `${baseDir.replace(/\/+$/, '') || ''}/${rigName.replace(/[^A-Za-z0-9._-]/g, '_')}.lease`;
}

/** Who holds a lease, as other users are told: from its owner.json, or what is known without it. */
export function describeHolder(who: LeaseHolder | LeaseState | 'unreadable' | undefined): string {
  if (who !== undefined && who !== 'unreadable') {
    if ('token' in who) {
      const since = `${who.owner} (${who.user}@${who.host}, pid ${who.pid}) since ${who.acquiredAt}`;
      return who.hold ? `${since}, holding it as the failure of "${who.hold.scenario}" left it until ${who.hold.until}` : since;
    }
    if (who.held && who.holder) return describeHolder(who.holder);
    if (who.held && who.ownerFile === 'not written yet') return 'a holder that is just taking it (no owner.json yet)';
  }
  return 'a holder whose owner.json cannot be read';
}

export async function inspectLease(exec: Exec, baseDir: string, rigName: string, ttlMs: number): Promise<LeaseState> {
  const dir = leaseDirFor(baseDir, rigName);
  let result: ExecResult;
  for (let attempt = 1; ; attempt++) {
    result = await run(exec, ['sh', '-c', INSPECT, 'sh', dir], undefined, true);
    if (!result.ok) throw new LeaseError(`could not read the lease ${dir} on ${exec.where}: ${why(result)}`);
    if (!result.stdout.startsWith('changing') || attempt === INSPECT_ATTEMPTS) break;
    await sleep(20 * attempt);
  }
  const [head = '', ...rest] = result.stdout.split('\n');
  const [state, nowText, mtimeText, takeoverText, ownerFileText] = head.trim().split(' ');
  if (state === 'none') return { held: false };
  if (state === 'changing') throw new LeaseError(`the lease ${dir} on ${exec.where} kept changing while it was read`);
  const now = Number(nowText);
  const holder = parseHolder(rest.join('\n'));
  // An unreadable lease ages from its mtime against the TTL the reader would have used.
  // Both clocks read whole seconds: the age is the least it can be, so no lease is taken early.
  const ageMs = mtimeText === '-' ? 0 : Math.max(0, (now - Number(mtimeText) - 1) * 1000);
  const ttl = holder?.ttlMs ?? ttlMs;
  const ownerFile = holder ? 'readable' : ownerFileText === '0' ? 'not written yet' : 'unreadable';
  const lease: LeaseState = { held: true, ownerFile, ageMs, expired: mtimeText !== '-' && ageMs >= ttl };
  if (holder) lease.holder = holder;
  if (takeoverText && takeoverText !== '-') lease.takeoverAgeMs = Math.max(0, (now - Number(takeoverText)) * 1000);
  return lease;
}

/**
 * Fails with a LeaseError unless `token` still holds the rig's lease: a run's workers check the
 * lease their runner took before each scenario, so a run that lost its rig stops instead of
 * plugging devices under someone else.
 */
export async function checkLeaseHeld(exec: Exec, baseDir: string, rigName: string, token: string, ttlMs: number): Promise<void> {
  await ourLeaseHolder(exec, baseDir, rigName, token, ttlMs);
}

/** What owner.json of `token`'s lease says now (a hold, say); a LeaseError when it is not `token`'s. */
export async function ourLeaseHolder(exec: Exec, baseDir: string, rigName: string, token: string, ttlMs: number): Promise<LeaseHolder> {
  const state = await inspectLease(exec, baseDir, rigName, ttlMs);
  if (state.held && state.holder?.token === token) return state.holder;
  throw new LeaseError(`the reservation of rig "${rigName}" was lost${state.held ? ` to ${describeHolder(state)}` : ''}: ` +
    'it expired and was taken over, or was removed');
}

export async function acquireLease(exec: Exec, rigName: string, options: LeaseOptions): Promise<Lease> {
  const base = options.baseDir.replace(/\/+$/, '');
  const dir = leaseDirFor(base, rigName);
  const ownerFile = `${dir}/owner.json`;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const started = Date.now();
  let toldWaiting = false;
  let tookOverFrom: LeaseHolder | 'unreadable' | undefined;

  const made = await run(exec, ['mkdir', '-p', '-m', '0777', base]);
  if (!made.ok) throw new LeaseError(`could not create the shared lease folder ${base} on ${exec.where}: ${why(made)}; create it once for every user: sudo mkdir -p -m 0777 ${base}`);

  const write = (holder: LeaseHolder): Promise<void> => writeOwner(exec, ownerFile, holder);

  /** Moves an expired lease aside and removes it, under a takeover lock re-checked inside. */
  const takeOver = async (seen: LeaseState & { held: true }): Promise<boolean> => {
    const lock = `${dir}/takeover`;
    if (!(await run(exec, ['mkdir', lock])).ok) {
      if ((seen.takeoverAgeMs ?? 0) >= TAKEOVER_STALE_MS) await run(exec, ['rmdir', lock]);
      return false;
    }
    const now = await inspectLease(exec, base, rigName, options.ttlMs);
    const same = now.held && now.expired && now.holder?.token === seen.holder?.token;
    if (!same) {
      await run(exec, ['rmdir', lock]);
      return false;
    }
    const aside = `${dir}.stale-${randomUUID()}`;
    if (!(await run(exec, ['mv', dir, aside])).ok) return false;
    await run(exec, ['rm', '-rf', aside]);
    tookOverFrom = seen.holder ?? 'unreadable';
    return true;
  };

  for (;;) {
    const created = await run(exec, ['mkdir', '-m', '0777', dir]);
    if (created.ok) {
      const holder: LeaseHolder = {
        rig: rigName, owner: options.owner, user: userInfo().username, host: hostname(), pid: process.pid,
        token: randomUUID(), acquiredAt: new Date().toISOString(), ttlMs: options.ttlMs,
      };
      try {
        await write(holder);
      } catch (error) {
        await run(exec, ['rm', '-rf', dir]);
        throw error;
      }
      return leaseFor(holder);
    }
    if (!/exists/i.test(created.stderr)) {
      throw new LeaseError(`could not reserve rig "${rigName}": mkdir ${dir} on ${exec.where} failed: ${why(created)}` +
        (/permission/i.test(created.stderr) ? `; every user of the rig needs write access: sudo chmod 0777 ${base}` : ''));
    }
    let seen = await inspectLease(exec, base, rigName, options.ttlMs);
    if (!seen.held) continue;
    // A hold lasts hours and ends by a person: waiting for it would only stall this run.
    if (seen.holder?.hold && !seen.expired) throw new LeaseError(`rig "${rigName}" is held by ${describeHolder(seen)}; \`dextbench rig release\` frees it earlier`);
    if (seen.expired) {
      if (await takeOver(seen)) continue;
      // Another user took it over first: tell who holds it now.
      seen = await inspectLease(exec, base, rigName, options.ttlMs);
      if (!seen.held) continue;
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) {
      if (seen.expired) throw new LeaseError(`rig "${rigName}": the expired reservation of ${describeHolder(seen)} is being taken over by another user; try again`);
      throw new LeaseError(`rig "${rigName}" is reserved by ${describeHolder(seen)}, renewed ${formatMs(Math.round(seen.ageMs / 1000) * 1000)} ago` +
        `${options.waitMs > 0 ? ` (waited ${formatMs(Math.round(waited / 1000) * 1000)})` : ''}; ` +
        `it expires ${formatMs(Math.round((seen.holder?.ttlMs ?? options.ttlMs) / 1000) * 1000)} after its last renewal if that holder is gone`);
    }
    if (!toldWaiting) {
      toldWaiting = true;
      options.onWait?.(seen);
    }
    await sleep(Math.min(pollMs, options.waitMs - waited));
  }

  function leaseFor(holder: LeaseHolder): Lease {
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    const check = async (): Promise<LeaseHolder> => {
      if (released) throw new LeaseError(`the reservation of rig "${rigName}" was released`);
      return ourLeaseHolder(exec, base, rigName, holder.token, options.ttlMs);
    };
    const renew = async (): Promise<void> => {
      // A hold is not renewed: it ends when its own TTL runs out.
      if ((await check()).hold) {
        clearInterval(timer);
        return;
      }
      await write(holder);
    };
    return {
      dir, holder,
      ...(tookOverFrom ? { tookOverFrom } : {}),
      async release() {
        if (released) return;
        clearInterval(timer);
        const state = await inspectLease(exec, base, rigName, options.ttlMs);
        released = true;
        // Taken over after it expired: the folder is someone else's now. A hold outlives its run.
        if (!state.held || state.holder?.token !== holder.token || state.holder.hold) return;
        const removed = await run(exec, ['rm', '-rf', dir]);
        if (!removed.ok) throw new LeaseError(`could not release the lease ${dir} on ${exec.where}: ${why(removed)}`);
      },
      renew,
      async verify() {
        await check();
      },
      keepAlive(onLost) {
        clearInterval(timer);
        timer = setInterval(() => {
          renew().catch((error: unknown) => {
            // The host did not answer (a reboot, a dropped connection): nobody can take the lease
            // meanwhile, and the next renewal that reaches the host says whether it was lost.
            if (error instanceof TransportError) return;
            clearInterval(timer);
            if (!released) onLost(error instanceof LeaseError ? error : new LeaseError(`renewing the reservation of rig "${rigName}" failed: ${(error as Error).message}`));
          });
        }, Math.max(100, Math.floor(options.ttlMs / 3)));
        timer.unref();
      },
    };
  }
}

/**
 * Turns the lease `token` holds into a hold for `forMs`: nobody renews it, and it expires then.
 * Fails with a LeaseError when the lease is not `token`'s any more.
 */
export async function holdLease(exec: Exec, baseDir: string, rigName: string, token: string, ttlMs: number, hold: { forMs: number; scenario: string; bundle?: string }): Promise<LeaseHolder> {
  const holder = await ourLeaseHolder(exec, baseDir, rigName, token, ttlMs);
  const held: LeaseHolder = {
    ...holder, ttlMs: hold.forMs,
    hold: { until: new Date(Date.now() + hold.forMs).toISOString(), scenario: hold.scenario, ...(hold.bundle ? { bundle: hold.bundle } : {}) },
  };
  await writeOwner(exec, `${leaseDirFor(baseDir, rigName)}/owner.json`, held);
  return held;
}

/** The hold on the rig now (a lease turned into a hold, not expired); undefined when it is not held. */
export async function activeHold(exec: Exec, baseDir: string, rigName: string, ttlMs: number): Promise<LeaseHolder | undefined> {
  const state = await inspectLease(exec, baseDir, rigName, ttlMs);
  return state.held && !state.expired && state.holder?.hold ? state.holder : undefined;
}

/**
 * Ends a hold on the rig (anyone may: holds are cooperative, like the lease). A lease that is
 * not a hold, a running suite's, is refused: its owner releases it. Returns the hold released,
 * or undefined when the rig was not held.
 */
export async function releaseHold(exec: Exec, baseDir: string, rigName: string, ttlMs: number): Promise<LeaseHolder | undefined> {
  const state = await inspectLease(exec, baseDir, rigName, ttlMs);
  if (!state.held) return undefined;
  if (!state.holder?.hold && !state.expired) {
    throw new LeaseError(`rig "${rigName}" is reserved by ${describeHolder(state)}, which is not a hold; rig release frees only holds (that holder releases its own lease when it ends)`);
  }
  const dir = leaseDirFor(baseDir, rigName);
  const removed = await run(exec, ['rm', '-rf', dir]);
  if (!removed.ok) throw new LeaseError(`could not release the lease ${dir} on ${exec.where}: ${why(removed)}`);
  return state.holder;
}

async function writeOwner(exec: Exec, ownerFile: string, holder: LeaseHolder): Promise<void> {
  const result = await run(exec, ['sh', '-c', WRITE_OWNER, 'sh', ownerFile, `${holder.token}.tmp`], JSON.stringify(holder) + '\n');
  if (!result.ok) throw new LeaseError(`could not write the lease ${ownerFile} on ${exec.where}: ${why(result)}`);
}

function parseHolder(text: string): LeaseHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LeaseHolder>;
    return typeof v.owner === 'string' && typeof v.token === 'string' && typeof v.ttlMs === 'number' && typeof v.acquiredAt === 'string'
      ? { rig: String(v.rig ?? ''), user: String(v.user ?? '?'), host: String(v.host ?? '?'), pid: Number(v.pid ?? 0), ...v } as LeaseHolder
      : undefined;
  } catch {
    return undefined;
  }
}

function run(exec: Exec, argv: string[], stdin?: string, idempotent = false): Promise<ExecResult> {
  return exec.run(argv, { timeoutMs: COMMAND_TIMEOUT_MS, nothrow: true, idempotent, ...(stdin !== undefined ? { stdin } : {}) });
}

function why(result: ExecResult): string {
  return result.stderr.trim().split('\n').at(-1) || (result.timedOut ? 'timed out' : `exit ${result.exitCode}`);
}
