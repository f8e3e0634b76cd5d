// `sysctl -n kern.boottime`: when the host last booted, the way to tell that a reboot happened.
import type { Exec } from '../exec.ts';
import { parseBootTime, type BootTime } from '../parsers/index.ts';
import { failure, ToolError } from './tool-error.ts';

export async function bootTime(exec: Exec, options: { timeoutMs?: number } = {}): Promise<BootTime> {
  const result = await exec.run(['sysctl', '-n', 'kern.boottime'], { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true, idempotent: true });
  if (!result.ok) throw failure(result, 'reading the boot time');
  try {
    return parseBootTime(result.stdout);
  } catch (error) {
    throw new ToolError(`reading the boot time on ${exec.where}: ${(error as Error).message}`, result);
  }
}
