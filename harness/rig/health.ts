// A rig's health, as LAVA keeps a device's (shared/reference/nightly-ops.md §1): good, unknown, bad
// or maintenance. It lives beside the rig's lease on the rig's host (<leases>/<rig>.health, JSON),
// read and written through the host's Exec like the lease, so every user of the Mac sees the same
// state, on the simulated Mac as on hardware. A rig never checked is `unknown`.
// - a health check that passes sets good; one that fails or is cancelled sets bad (LAVA: Incomplete
//   and Canceled both give Bad);
// - a person sets good or maintenance by hand (`dextbench rig state`);
// - a run refuses a bad or maintenance rig, and checks an unknown one first when it names a check.
// The file is replaced whole (written aside, then renamed), so a reader never sees half of it.
import { hostname, userInfo } from 'node:os';
import type { Exec, ExecResult } from '../host/exec.ts';

export const HEALTH_STATES = ['good', 'unknown', 'bad', 'maintenance'] as const;
export type HealthState = typeof HEALTH_STATES[number];
/** What a person may set by hand; bad comes only from a check (or from an unreadable file). */
export const MANUAL_HEALTH_STATES = ['good', 'maintenance'] as const;

export interface HealthRecord {
  rig: string;
  state: HealthState;
  /** What set it: "dextbench rig check", "dextbench rig state", "dextbench run". */
  setBy: string;
  user: string;
  host: string;
  /** ISO time it was set. */
  at: string;
  why: string;
  /** The health check's run id, when a check set it. */
  runId?: string;
}

export class HealthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HealthError';
  }
}

const COMMAND_TIMEOUT_MS = 15_000;
// mkdir -p -m only sets the mode of the last folder; the shared base is 0777 like the lease's.
const WRITE = 'umask 022; mkdir -p "$1" && chmod 0777 "$1" 2>/dev/null; cat > "$2.$3" && mv -f "$2.$3" "$2"';

export function healthFileFor(baseDir: string, rigName: string): string {
  return `${baseDir.replace(/\/+$/, '') || ''}/${rigName.replace(/[^A-Za-z0-9._-]/g, '_')}.health`;
}

/** A record with who sets it and when filled in. */
export function healthRecord(rig: string, state: HealthState, fields: { setBy: string; why: string; runId?: string }): HealthRecord {
  return {
    rig, state, setBy: fields.setBy, user: userInfo().username, host: hostname(), at: new Date().toISOString(),
    why: fields.why, ...(fields.runId !== undefined ? { runId: fields.runId } : {}),
  };
}

/** The record in a .health file's text, or why it is not one. */
export function parseHealthRecord(text: string): HealthRecord | { invalid: string } {
  let value: Partial<Record<keyof HealthRecord, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return { invalid: 'it is not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { invalid: 'it is not a JSON object' };
  if (!(HEALTH_STATES as readonly unknown[]).includes(value.state)) {
    return { invalid: `its state is ${JSON.stringify(value.state)}, expected one of ${HEALTH_STATES.join(', ')}` };
  }
  for (const key of ['setBy', 'at', 'why'] as const) {
    if (typeof value[key] !== 'string') return { invalid: `its "${key}" is not a string` };
  }
  return {
    rig: String(value.rig ?? ''), state: value.state as HealthState, setBy: value.setBy as string,
    user: String(value.user ?? '?'), host: String(value.host ?? '?'), at: value.at as string, why: value.why as string,
    ...(typeof value.runId === 'string' ? { runId: value.runId } : {}),
  };
}

/**
 * The rig's health on its host. Never set: unknown. A file that cannot be understood is unknown too
 * (a check decides), with why saying what is wrong with it.
 */
export async function readHealth(exec: Exec, baseDir: string, rigName: string): Promise<HealthRecord> {
  const file = healthFileFor(baseDir, rigName);
  const result = await run(exec, ['sh', '-c', 'if [ -e "$1" ]; then cat "$1"; else echo none; exit 3; fi', 'sh', file], undefined, true);
  if (result.exitCode === 3 && result.stdout.trim() === 'none') {
    return { rig: rigName, state: 'unknown', setBy: '', user: '', host: '', at: '', why: 'never checked' };
  }
  if (!result.ok) throw new HealthError(`could not read the health of rig "${rigName}" (${file} on ${exec.where}): ${why(result)}`);
  const parsed = parseHealthRecord(result.stdout);
  if ('invalid' in parsed) {
    return { rig: rigName, state: 'unknown', setBy: '', user: '', host: '', at: '', why: `${file} cannot be read: ${parsed.invalid}` };
  }
  return { ...parsed, rig: rigName };
}

export async function writeHealth(exec: Exec, baseDir: string, record: HealthRecord): Promise<void> {
  const base = baseDir.replace(/\/+$/, '');
  const file = healthFileFor(base, record.rig);
  const tmp = `${process.pid}.${Date.now()}.tmp`;
  const result = await run(exec, ['sh', '-c', WRITE, 'sh', base, file, tmp], JSON.stringify(record) + '\n');
  if (!result.ok) {
    throw new HealthError(`could not write the health of rig "${record.rig}" (${file} on ${exec.where}): ${why(result)}` +
      (/permission/i.test(result.stderr) ? `; every user of the rig needs write access: sudo chmod 0777 ${base}` : ''));
  }
}

/** One line: the state, who set it, when and why. */
export function describeHealth(record: HealthRecord): string {
  if (!record.setBy) return `${record.state} (${record.why})`;
  return `${record.state}, set by ${record.setBy} (${record.user}@${record.host}) at ${record.at}: ${record.why}` +
    (record.runId ? ` (check run ${record.runId})` : '');
}

/** What a run does with a rig in this state. */
export function runDecision(record: HealthRecord, hasCheck: boolean): 'run' | 'check' | 'refuse' {
  if (record.state === 'bad' || record.state === 'maintenance') return 'refuse';
  if (record.state === 'unknown' && hasCheck) return 'check';
  return 'run';
}

/** The state a health check leaves: passed is good; failed or cancelled is bad. */
export function stateAfterCheck(outcome: 'passed' | 'failed' | 'cancelled'): 'good' | 'bad' {
  return outcome === 'passed' ? 'good' : 'bad';
}

/** The one line a run that refuses the rig prints: the state, who set it, when, why, and the command that changes it. */
export function refusalLine(record: HealthRecord, rigFile: string): string {
  const rigOption = `--rig ${rigFile}`;
  const fix = record.state === 'maintenance'
    ? `to put it back in service: dextbench rig state good --why "…" ${rigOption}`
    : `once it is fixed: dextbench rig check ${rigOption} (or dextbench rig state good --why "…" ${rigOption})`;
  return `${healthLine(record)}; ${fix}`;
}

/** The rig's state, who set it, when and why: `rig "x" is bad (set by …, user@host, at …): why`. */
export function healthLine(record: HealthRecord): string {
  const state = record.state === 'maintenance' ? 'in maintenance' : record.state;
  const who = record.setBy ? ` (set by ${record.setBy}, ${record.user}@${record.host}, at ${record.at})` : '';
  return `rig "${record.rig}" is ${state}${who}: ${record.why}`;
}

function run(exec: Exec, argv: string[], stdin?: string, idempotent = false): Promise<ExecResult> {
  return exec.run(argv, { timeoutMs: COMMAND_TIMEOUT_MS, nothrow: true, idempotent, ...(stdin !== undefined ? { stdin } : {}) });
}

function why(result: ExecResult): string {
  return result.stderr.trim().split('\n').at(-1) || (result.timedOut ? 'timed out' : `exit ${result.exitCode}`);
}
