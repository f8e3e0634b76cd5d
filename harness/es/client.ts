// Is an ES client running? Its row under the endpoint_security category of `systemextensionsctl
// list` (activated enabled), its process (`pgrep -f <bundle>.systemextension/Contents/MacOS/`), and,
// when it is not running, the reason it logged: `<Name> failed: es_new_client ES_NEW_CLIENT_RESULT_…`
// (contract §5), mapped to its fix.
import type { Exec } from '../host/exec.ts';
import type { SystemExtensionRow } from '../host/parsers/index.ts';
import { logShow, type LogEntry } from '../host/tools/log.ts';
import type { SystemExtensionsCtl } from '../host/tools/systemextensionsctl.ts';
import { oneLine, ToolError } from '../host/tools/tool-error.ts';
import { findNewClientResult, newClientFix, type EsNewClientResult } from './new-client.ts';

export const ES_CATEGORY = 'com.apple.system_extension.endpoint_security';

export interface EsClientState {
  /** The bundle's rows under the endpoint_security category. */
  rows: SystemExtensionRow[];
  /** The active row is `activated enabled`. */
  enabled: boolean;
  /** Pids of the extension's process. */
  pids: number[];
  running: boolean;
}

/** `pgrep -f <pattern>`: pids one per line, exit 1 when none. */
export async function pgrep(exec: Exec, pattern: string, timeoutMs = 10_000): Promise<number[]> {
  const result = await exec.run(['pgrep', '-f', pattern], { timeoutMs, nothrow: true, idempotent: true });
  if (result.exitCode === 1) return [];
  if (!result.ok) throw new ToolError(`pgrep -f ${pattern} on ${exec.where} ${result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? result.signal}`}${result.stderr.trim() ? `: ${oneLine(result.stderr)}` : ''}`, result);
  return result.stdout.split('\n').map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);
}

/** What `pgrep -f` looks for: the executable inside the installed `<bundle>.systemextension`. */
export function extensionProcessPattern(bundle: string): string {
  return `${bundle}.systemextension/Contents/MacOS/`;
}

export async function esClientState(exec: Exec, sysext: SystemExtensionsCtl, bundle: string): Promise<EsClientState> {
  const [{ list }, pids] = await Promise.all([sysext.list(), pgrep(exec, extensionProcessPattern(bundle))]);
  const rows = list.extensions.filter((r) => r.bundleId === bundle && r.category === ES_CATEGORY);
  const enabled = rows.some((r) => r.state === 'activated enabled');
  return { rows, enabled, pids, running: enabled && pids.length > 0 };
}

export interface EsClientFailure {
  result: EsNewClientResult;
  line: string;
  fix: string;
}

/**
 * The extension's last es_new_client outcome logged since `since` (its subsystem is its bundle id,
 * contract §5): a failure with its fix, or undefined when the last one succeeded or none was logged.
 */
export async function lastNewClientFailure(exec: Exec, bundle: string, since: Date): Promise<EsClientFailure | undefined> {
  const entries: LogEntry[] = await logShow(exec, {
    start: since, predicate: `subsystem == "${bundle}" AND eventMessage CONTAINS "es_new_client"`, timeoutMs: 20_000,
  });
  const last = entries.at(-1);
  if (!last) return undefined;
  const result = findNewClientResult(last.eventMessage);
  if (!result || result === 'ES_NEW_CLIENT_RESULT_SUCCESS') return undefined;
  return { result, line: last.eventMessage, fix: newClientFix(result, { kind: 'extension', bundle }) };
}

export function describeClient(bundle: string, s: EsClientState): string {
  const rows = s.rows.length
    ? s.rows.map((r) => `${r.shortVersion}/${r.bundleVersion} [${r.state}]`).join(', ')
    : `no row under ${ES_CATEGORY}`;
  const proc = s.pids.length ? `process ${s.pids.join(', ')}` : 'no process';
  return `${bundle}: ${rows}; ${proc}`;
}
