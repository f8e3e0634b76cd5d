// Signals a process on the host (fault injection: kill a dext). Dexts run as their own user
// (_driverkit), so a privileged rig sends the signal through `sudo -n` (never prompts).
import type { Exec } from '../exec.ts';
import { oneLine, ToolError } from './tool-error.ts';

export async function killProcess(
  exec: Exec,
  pid: number,
  signal: string,
  options: { sudo: boolean; timeoutMs?: number },
): Promise<void> {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new ToolError(`kill: not a process id: ${pid}`);
  const name = signal.toUpperCase().replace(/^-/, '').replace(/^SIG/, '');
  if (!/^([A-Z][A-Z0-9]*|\d+)$/.test(name)) throw new ToolError(`kill: not a signal name: ${signal}`);
  const argv = ['kill', `-${name}`, String(pid)];
  const result = await exec.run(options.sudo ? ['sudo', '-n', ...argv] : argv, { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true });
  if (result.ok) return;
  const said = oneLine(result.stderr) || oneLine(result.stdout) || `exited with ${result.exitCode}`;
  const hint = options.sudo && /password is required|a terminal is required/.test(said)
    ? ' (the rig is privileged: give its user passwordless sudo for kill)'
    : !options.sudo && /not permitted/i.test(said) ? ' (set privileged: { sudo: true } in the rig to signal dext processes)' : '';
  throw new ToolError(`kill -${name} ${pid} on ${exec.where} failed: ${said}${hint}`, result);
}
