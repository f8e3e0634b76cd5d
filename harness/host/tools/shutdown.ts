// `shutdown -r now`: restart the host. Run through `sudo -n` on a privileged rig (shutdown checks
// for root first: `shutdown: NOT super-user`, Apple's shutdown.c). The command may never answer:
// the Mac going down takes the connection with it, so a dropped connection, a death by signal or
// a timeout are what a restart looks like from here; whether it rebooted is told by the boot time.
import { TransportError, type Exec, type ExecResult } from '../exec.ts';
import { oneLine, ToolError } from './tool-error.ts';

export type RestartRequest =
  /** shutdown answered: it printed `Shutdown NOW!` and exited, the restart is under way. */
  | { outcome: 'accepted'; result: ExecResult }
  /** The connection dropped, the command was killed, or it did not answer in time: the host went down under it. */
  | { outcome: 'cut-off'; why: string };

export const RESTART_ARGV = ['shutdown', '-r', 'now'];

export async function requestRestart(exec: Exec, options: { sudo: boolean; timeoutMs?: number }): Promise<RestartRequest> {
  const argv = options.sudo ? ['sudo', '-n', ...RESTART_ARGV] : RESTART_ARGV;
  let result: ExecResult;
  try {
    result = await exec.run(argv, { timeoutMs: options.timeoutMs ?? 30_000, nothrow: true });
  } catch (error) {
    // Unreachable, a refused key or a changed host key: the command never ran.
    if (error instanceof TransportError && error.kind === 'dropped') return { outcome: 'cut-off', why: error.message };
    throw error;
  }
  if (result.ok) return { outcome: 'accepted', result };
  if (result.timedOut) return { outcome: 'cut-off', why: `no answer within ${result.durationMs} ms` };
  if (result.signal) return { outcome: 'cut-off', why: `killed by ${result.signal}` };
  const said = oneLine(result.stderr) || oneLine(result.stdout) || `exited with ${result.exitCode}`;
  const hint = /NOT super-user/.test(said)
    ? '; restarting needs root: set privileged: { sudo: true } in the rig, with a passwordless sudoers rule for /sbin/shutdown -r now'
    : /password is required|a terminal is required/.test(said)
      ? '; the rig is privileged: give its user passwordless sudo for /sbin/shutdown -r now (dextbench provision writes the rule)'
      : '';
  throw new ToolError(`${argv.join(' ')} on ${exec.where} failed: ${said}${hint}`, result);
}
