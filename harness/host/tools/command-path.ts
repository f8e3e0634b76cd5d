// Whether a tool is installed on the host: `command -v <name>` in the host's /bin/sh, the name passed
// as a positional parameter (never part of the script).
import type { Exec } from '../exec.ts';
import { failure } from './tool-error.ts';

/** The tool's path on the host's PATH, or undefined when it is not there. */
export async function commandPath(exec: Exec, name: string, options: { timeoutMs?: number } = {}): Promise<string | undefined> {
  const result = await exec.run(['/bin/sh', '-c', 'command -v "$1"', 'sh', name], { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true, idempotent: true });
  if (result.ok) return result.stdout.trim() || undefined;
  // `command -v` says nothing for a name it cannot find, and exits 1 (bash, zsh) or 127 (dash);
  // anything else is the shell failing.
  if ((result.exitCode === 1 || result.exitCode === 127) && !result.stdout.trim() && !result.stderr.trim()) return undefined;
  throw failure(result, `looking for ${name}`);
}
