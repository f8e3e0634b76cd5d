// The rig reservation: a directory on the host itself, so runs from different machines (CI jobs,
// a person at the desk) see each other. `mkdir` is atomic: whoever creates it holds the rig.
// The holder and expiry live in <dir>/owner.json; an expired lease is taken over. Only POSIX
// commands through Exec (mkdir, cat, tee, mv, rm, printenv), so a Linux host runs the same.
import { randomUUID } from 'node:crypto';
import type { Exec } from '../host/exec.ts';
import { formatArgv } from '../host/exec.ts';

export interface Lease {
  readonly dir: string;
  readonly owner: string;
  readonly expiresAt: Date;
  /** The holder whose expired lease this one replaced, if any. */
  readonly tookOverFrom?: LeaseHolder;
  /** Removes the lease, unless it was taken over meanwhile. */
  release(): Promise<void>;
  /** Pushes the expiry ttlMs from now; fails if the lease was lost. */
  renew(): Promise<void>;
}

export interface LeaseHolder {
  owner: string;
  acquiredAt: string;
  expiresAt: string;
  token: string;
}

export interface LeaseOptions {
  ttlMs: number;
  /** Who holds it, for the message others see ("dextbench pid 123 worker 0"). */
  owner: string;
  /** How long to wait for a held lease; 0 tries once. */
  waitMs: number;
  pollMs?: number;
  /** An owner.json still unreadable after this long is from a holder that died mid-acquire. */
  unreadableGraceMs?: number;
  /** Host directory the lease lives in; default $TMPDIR of the host, else /tmp. */
  baseDir?: string;
}

export class LeaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseError';
  }
}

const COMMAND_TIMEOUT_MS = 10_000;
const DEFAULT_POLL_MS = 1_000;
const DEFAULT_UNREADABLE_GRACE_MS = 10_000;

export async function acquireLease(exec: Exec, rigName: string, options: LeaseOptions): Promise<Lease> {
  const base = options.baseDir ?? await hostTmpDir(exec);
  const dir = `${base.replace(/\/+$/, '') || '/'}/dextbench-lease-${rigName.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const ownerFile = `${dir}/owner.json`;
  const run = (argv: string[], stdin?: string) => exec.run(argv, { timeoutMs: COMMAND_TIMEOUT_MS, nothrow: true, stdin });
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const started = Date.now();
  let unreadableSince: number | undefined;
  let tookOverFrom: LeaseHolder | undefined;

  const readHolder = async (): Promise<LeaseHolder | undefined> => {
    const result = await run(['cat', ownerFile]);
    if (!result.ok) return undefined;
    try {
      const v = JSON.parse(result.stdout) as Partial<LeaseHolder>;
      return typeof v.owner === 'string' && typeof v.expiresAt === 'string' && typeof v.token === 'string' ? v as LeaseHolder : undefined;
    } catch {
      return undefined;
    }
  };
  const write = async (holder: LeaseHolder) => {
    const result = await run(['tee', ownerFile], JSON.stringify(holder) + '\n');
    if (!result.ok) throw new LeaseError(`could not write the lease ${ownerFile} on ${exec.where}: ${result.stderr.trim() || `tee exited with ${result.exitCode}`}`);
  };
  /** Moves a stale lease aside (rename is atomic: of two takers, one wins) and removes it. */
  const takeOver = async (): Promise<boolean> => {
    const aside = `${dir}.stale-${randomUUID()}`;
    const moved = await run(['mv', dir, aside]);
    if (!moved.ok) return false;
    await run(['rm', '-rf', aside]);
    return true;
  };

  for (;;) {
    const made = await run(['mkdir', dir]);
    if (made.ok) {
      const token = randomUUID();
      const now = Date.now();
      const holder: LeaseHolder = {
        owner: options.owner, token,
        acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + options.ttlMs).toISOString(),
      };
      await write(holder);
      return leaseFor(holder);
    }
    if (!/exists/i.test(made.stderr)) {
      throw new LeaseError(`could not reserve rig "${rigName}": ${formatArgv(made.argv)} on ${exec.where} failed: ${made.stderr.trim() || `exit ${made.exitCode}`}`);
    }
    const holder = await readHolder();
    const now = Date.now();
    if (holder) {
      unreadableSince = undefined;
      if (Date.parse(holder.expiresAt) <= now && await takeOver()) {
        tookOverFrom = holder;
        continue;
      }
    } else {
      // mkdir done, owner.json not yet written: the holder is mid-acquire, or died there.
      unreadableSince ??= now;
      if (now - unreadableSince >= (options.unreadableGraceMs ?? DEFAULT_UNREADABLE_GRACE_MS) && await takeOver()) {
        tookOverFrom = { owner: '(unknown: no readable owner.json)', acquiredAt: '', expiresAt: '', token: '' };
        continue;
      }
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) {
      const who = holder
        ? `${holder.owner} since ${holder.acquiredAt} until ${holder.expiresAt}`
        : 'a holder that has not written its owner.json yet';
      throw new LeaseError(`rig "${rigName}" is reserved by ${who}` +
        `${options.waitMs > 0 ? ` (waited ${Math.round(waited / 1000)} s)` : ''}; ` +
        `if that holder is gone, remove ${dir} on ${exec.where}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, options.waitMs - waited)));
  }

  function leaseFor(holder: LeaseHolder): Lease {
    let current = holder;
    let released = false;
    return {
      dir,
      owner: holder.owner,
      get expiresAt() { return new Date(current.expiresAt); },
      ...(tookOverFrom ? { tookOverFrom } : {}),
      async release() {
        if (released) return;
        released = true;
        const now = await readHolder();
        // Taken over after it expired: the directory is someone else's now.
        if (now?.token !== current.token) return;
        const removed = await run(['rm', '-rf', dir]);
        if (!removed.ok) throw new LeaseError(`could not release the lease ${dir} on ${exec.where}: ${removed.stderr.trim()}`);
      },
      async renew() {
        const now = await readHolder();
        if (released || now?.token !== current.token) {
          throw new LeaseError(`the reservation of rig "${rigName}" was lost${now ? ` to ${now.owner}` : ''}: it expired and was taken over, or was removed`);
        }
        current = { ...current, expiresAt: new Date(Date.now() + options.ttlMs).toISOString() };
        await write(current);
      },
    };
  }
}

/** $TMPDIR as the host sees it (per user on macOS), else /tmp. */
async function hostTmpDir(exec: Exec): Promise<string> {
  const result = await exec.run(['printenv', 'TMPDIR'], { timeoutMs: COMMAND_TIMEOUT_MS, nothrow: true });
  const dir = result.ok ? result.stdout.trim() : '';
  return dir.startsWith('/') ? dir : '/tmp';
}
