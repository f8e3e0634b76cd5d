// --hold: a failing scenario's rig stays as the failure left it. Its cleanup does not run, the
// run's lease on the rig becomes a hold (rig/lease.ts) that shows who holds it and until when,
// and `dextbench run` is told through a note in the run's output folder, so it can print the
// hands-on commands once Playwright is done.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RigSession } from '../rig/connect.ts';
import { holdLease, ourLeaseHolder, type LeaseHolder } from '../rig/lease.ts';
import { heldLeaseEnvKey, readRunConfig } from './run-config.ts';

/** What a worker tells `dextbench run` about a rig it holds. */
export interface HoldNote {
  rig: string;
  rigFile: string;
  until: string;
  scenario: string;
  /** The repro bundle's folder, relative to the run's directory. */
  bundle: string;
  devices: string[];
}

/** Where a worker leaves its HoldNote (the run's output folder, which Playwright empties at the start of a run). */
export function holdNotePath(outputDir: string, rigName: string): string {
  return join(outputDir, '.dextbench-holds', `${Buffer.from(rigName).toString('hex')}.json`);
}

export function writeHoldNote(outputDir: string, note: HoldNote): void {
  const file = holdNotePath(outputDir, note.rig);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(note, null, 2)}\n`);
}

/** Turns the run's lease on the rig into a hold for `forMs`. */
export function holdRunLease(rig: RigSession, hold: { forMs: number; scenario: string; bundle?: string }): Promise<LeaseHolder> {
  const { name, reservation } = rig.definition;
  return holdLease(rig.exec, rig.leaseDir, name, runLeaseToken(rig), reservation.ttlMs, hold);
}

/** The hold, when this run turned its lease on the rig into one (then nothing may change the rig). */
export async function runHoldOn(rig: RigSession): Promise<LeaseHolder | undefined> {
  // Only a --hold run turns its leases into holds: other runs need not ask the host.
  if (!readRunConfig().hold) return undefined;
  try {
    const { name, reservation } = rig.definition;
    const holder = await ourLeaseHolder(rig.exec, rig.leaseDir, name, runLeaseToken(rig), reservation.ttlMs);
    return holder.hold ? holder : undefined;
  } catch {
    return undefined;
  }
}

function runLeaseToken(rig: RigSession): string {
  const token = process.env[heldLeaseEnvKey(rig.definition.name)];
  if (!token) throw new Error(`rig "${rig.definition.name}" was not reserved by this run (run scenarios with dextbench run)`);
  return token;
}
