// `sw_vers`: the macOS product name, version and build (macos-formats.md §6.2).
import type { Exec } from '../exec.ts';
import { parseSwVers, type SwVers } from '../parsers/index.ts';
import { failure } from './tool-error.ts';

export type MacosVersion = SwVers;

export async function macosVersion(exec: Exec, options: { timeoutMs?: number } = {}): Promise<MacosVersion> {
  const result = await exec.run(['sw_vers'], { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true, idempotent: true });
  if (!result.ok) throw failure(result, 'reading the macOS version');
  return parseSwVers(result.stdout);
}
