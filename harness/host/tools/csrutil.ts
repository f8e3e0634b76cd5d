// `csrutil status`: is System Integrity Protection on (macos-formats.md §6.1).
import type { Exec } from '../exec.ts';
import { parseCsrutilStatus, type CsrutilStatus } from '../parsers/index.ts';
import { failure } from './tool-error.ts';

export type SipStatus = CsrutilStatus;

export async function sipStatus(exec: Exec, options: { timeoutMs?: number } = {}): Promise<SipStatus> {
  const result = await exec.run(['csrutil', 'status'], { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true, idempotent: true });
  if (!result.ok) throw failure(result, 'reading the SIP status');
  return parseCsrutilStatus(result.stdout);
}
