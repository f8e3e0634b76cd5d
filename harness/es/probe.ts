// The ES probe (contract §4): `dextbench-esprobe <action> …` runs one action on the Mac and prints one
// JSON line saying what the process saw. Exit 0: the action was attempted (whatever its outcome);
// 64: usage; 70: the probe itself failed.
import type { Exec } from '../host/exec.ts';
import { formatArgv } from '../host/exec.ts';
import { oneLine, ToolError } from '../host/tools/tool-error.ts';

export const DEFAULT_ESPROBE_COMMAND = ['dextbench-esprobe'];

export type ProbeAction =
  | { action: 'exec'; path: string; args?: string[] }
  | { action: 'fork' }
  | { action: 'signal'; signal: string }
  | { action: 'open' | 'create' | 'unlink'; path: string }
  | { action: 'rename'; path: string; to: string }
  | { action: 'mount'; image: string };

export interface ProbeResult {
  action: string;
  path?: string;
  args?: string[];
  /** The child for exec/fork/signal, the probe's own otherwise. */
  pid: number;
  /** The operation itself succeeded. */
  ok: boolean;
  exitStatus: number | null;
  signal: string | null;
  errno: number | null;
  errnoName: string | null;
  /** Whatever else the probe printed (the mount point…). */
  [key: string]: unknown;
}

/** The probe's argv for an action (after the rig's probe command). */
export function probeArgv(a: ProbeAction): string[] {
  switch (a.action) {
    case 'exec': return ['exec', a.path, ...(a.args ?? [])];
    case 'fork': return ['fork'];
    case 'signal': return ['signal', a.signal.toUpperCase().replace(/^SIG/, '')];
    case 'rename': return ['rename', a.path, a.to];
    case 'mount': return ['mount', a.image];
    default: return [a.action, a.path];
  }
}

const EXIT_USAGE = 64;
const EXIT_SOFTWARE = 70;

export async function runProbe(exec: Exec, command: readonly string[], action: ProbeAction, options: { timeoutMs: number }): Promise<ProbeResult> {
  const argv = [...command, ...probeArgv(action)];
  const result = await exec.run(argv, { timeoutMs: options.timeoutMs, nothrow: true });
  const shown = formatArgv(argv);
  const said = oneLine(result.stderr);
  if (result.timedOut) throw new ToolError(`${shown} on ${exec.where} did not finish within ${options.timeoutMs} ms`, result);
  if (result.exitCode === 127) {
    throw new ToolError(`${shown}: ${command[0]} is not on ${exec.where}; install it with dextbench provision, or set esprobe.command in the rig`, result);
  }
  if (result.exitCode === EXIT_USAGE) throw new ToolError(`${shown} refused its arguments (usage, exit 64)${said ? `: ${said}` : ''}`, result);
  if (result.exitCode === EXIT_SOFTWARE) throw new ToolError(`${shown}: the probe itself failed (exit 70)${said ? `: ${said}` : ''}`, result);
  if (result.exitCode !== 0) throw new ToolError(`${shown} exited with ${result.exitCode ?? result.signal}${said ? `: ${said}` : ''}`, result);
  return parseProbeLine(result.stdout, shown);
}

/** The probe's one JSON line (the last `{` line of stdout); a missing or wrong field is one line naming it. */
export function parseProbeLine(stdout: string, shown = 'dextbench-esprobe'): ProbeResult {
  const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).at(-1);
  if (!line) throw new ToolError(`${shown} printed no JSON line: ${oneLine(stdout) || '(nothing)'}`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ToolError(`${shown} printed a line that is not JSON (${(error as Error).message}): ${line}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ToolError(`${shown} printed ${line}, expected a JSON object`);
  const v = value as Record<string, unknown>;
  const wrong = (key: string, want: string): never => {
    throw new ToolError(`${shown} printed ${line}: "${key}" should be ${want}`);
  };
  if (typeof v['action'] !== 'string') wrong('action', 'a string');
  if (typeof v['ok'] !== 'boolean') wrong('ok', 'true or false');
  if (!Number.isSafeInteger(v['pid'])) wrong('pid', 'an integer');
  const intOrNull = (k: string): void => { if (v[k] !== null && v[k] !== undefined && !Number.isSafeInteger(v[k])) wrong(k, 'an integer or null'); };
  const strOrNull = (k: string): void => { if (v[k] !== null && v[k] !== undefined && typeof v[k] !== 'string') wrong(k, 'a string or null'); };
  intOrNull('exitStatus');
  intOrNull('errno');
  strOrNull('signal');
  strOrNull('errnoName');
  return { ...v, exitStatus: v['exitStatus'] ?? null, signal: v['signal'] ?? null, errno: v['errno'] ?? null, errnoName: v['errnoName'] ?? null } as ProbeResult;
}

/** One line for what the probe saw: `ok, exit 0`, `EPERM (errno 1)`, `killed by SIGKILL`. */
export function describeProbe(r: ProbeResult): string {
  if (!r.ok) return r.errno !== null ? `${r.errnoName ?? 'errno'} (errno ${r.errno})` : 'not ok (no errno)';
  const parts = ['ok'];
  if (r.exitStatus !== null) parts.push(`exit ${r.exitStatus}`);
  if (r.signal !== null) parts.push(`signal ${r.signal}`);
  return parts.join(', ');
}

/** EPERM: what an ES AUTH deny gives the caller (an inference, reference §D.3). */
export const EPERM = 1;
