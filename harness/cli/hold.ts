// What `dextbench run --hold` and `dextbench repro --hold` do once Playwright is done: for each rig a
// failure holds, print who holds it until when and the hands-on commands; then, on a terminal,
// wait until the hold ends (its time runs out, or `dextbench rig release`); Ctrl-C releases it.
// Without a terminal (CI) the command ends at once and the hold stays, so a CI job need not keep
// running while someone looks at the rig.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { DeadlineError, pollUntil } from '../common/time.ts';
import { holdNotePath, type HoldNote } from '../engine/hold.ts';
import type { RigSession } from '../rig/connect.ts';
import { activeHold, describeHolder, releaseHold, type LeaseHolder } from '../rig/lease.ts';
import { parseDuration } from '../scenario/index.ts';
import { UsageError } from './errors.ts';
import { openRig } from './open-rig.ts';

export const DEFAULT_HOLD_FOR = '4h';
const POLL_MS = 2_000;

/** `--hold-for 4h` in milliseconds; one line for a bad value. */
export function holdForMs(text: string | undefined): number {
  try {
    return parseDuration(text ?? DEFAULT_HOLD_FOR);
  } catch (error) {
    throw new UsageError(`--hold-for: ${(error as Error).message}`);
  }
}

/** The holds a run's workers left notes about. */
export function readHoldNotes(outputDir: string): HoldNote[] {
  const dir = dirname(holdNotePath(outputDir, 'x'));
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as HoldNote);
}

/** Prints each hold with its hands-on commands and, on a terminal, waits until every hold ended. */
export async function attendHolds(notes: HoldNote[], vars: Record<string, string>): Promise<void> {
  for (const note of notes) printHold(note);
  if (notes.length === 0) return;
  if (!process.stdin.isTTY) {
    console.log('dextbench: not on a terminal, so not waiting: the hold stays until its time runs out or `dextbench rig release`');
    return;
  }
  // Ctrl-C is caught before the line invites it (a ^C typed while the rigs open still releases),
  // and stays caught until the command ends: a second, impatient ^C must not kill the release
  // half-way and leave the rig held with its ports on.
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) console.log('dextbench: releasing the hold; the command ends once the rig is safe');
    interrupted = true;
  };
  process.on('SIGINT', onInterrupt);
  let sessions: Awaited<ReturnType<typeof openRig>>[] = [];
  try {
    sessions = await Promise.all(notes.map((n) => openRig(n.rigFile, vars, 'dextbench run --hold')));
    console.log('dextbench: waiting while the rig is held; Ctrl-C releases the hold');
    // The hold ends by itself at `until`: the wait's deadline.
    const latest = Math.max(...notes.map((n) => Date.parse(n.until)));
    const outcome = await pollUntil(async () => {
      if (interrupted) return { value: 'interrupted' as const, seen: undefined };
      const held = await Promise.all(sessions.map(({ session }) => holdOn(session)));
      return { ...(held.every((h) => !h) ? { value: 'ended' as const } : {}), seen: undefined };
    }, { timeoutMs: Math.max(0, latest - Date.now()), intervalMs: POLL_MS, describe: () => 'the hold ran out' }).catch((error: unknown) => {
      if (error instanceof DeadlineError) return 'ran out' as const;
      throw error;
    });
    for (const { session } of sessions) {
      if (outcome === 'interrupted') await releaseRigHold(session);
      else console.log(`dextbench: rig ${session.definition.name}: the hold ${outcome === 'ran out' ? 'ran out' : 'ended'}`);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    // Off only now, with the rigs closed; a ^C from here on ends a command that has nothing left to do.
    process.off('SIGINT', onInterrupt);
  }
}

function printHold(note: HoldNote): void {
  const rig = `--rig ${relative(process.cwd(), note.rigFile) || note.rigFile}`;
  const role = note.devices.length ? note.devices.join('|') : '<device>';
  console.log([
    `dextbench: rig ${note.rig} is held until ${note.until} as the failure of "${note.scenario}" left it (its cleanup did not run)`,
    `  npx dextbench rig status ${rig}`,
    `  npx dextbench sysext list ${rig}`,
    `  npx dextbench rig plug|unplug|cycle ${role} ${rig}`,
    `  npx dextbench repro ${note.bundle}`,
    `  npx dextbench rig release ${rig}      (ends the hold before ${note.until})`,
  ].join('\n'));
}

/** The hold on the rig now, if the lease is one (and not expired). */
export function holdOn(session: RigSession): Promise<LeaseHolder | undefined> {
  return activeHold(session.exec, session.leaseDir, session.definition.name, session.definition.reservation.ttlMs);
}

/**
 * Ends the hold on the rig and leaves the rig safe (device ports off), as any user of it leaves
 * it; the held scenario's cleanup never ran, so what it activated stays installed.
 */
export async function releaseRigHold(session: RigSession): Promise<void> {
  const name = session.definition.name;
  const released = await releaseHold(session.exec, session.leaseDir, name, session.definition.reservation.ttlMs);
  if (!released) {
    console.log(`rig ${name}: not held`);
    return;
  }
  await session.safeState();
  console.log(`rig ${name}: released the hold of ${describeHolder(released)}; device ports are off (the scenario's cleanup did not run: extensions it activated stay)`);
}
