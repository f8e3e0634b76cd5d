// `systemextensionsctl`: list, developer mode, uninstall, and waiting for an extension's state.
// Output formats: reference/macos-formats.md §1.2 (list) and §2 (developer, uninstall).
import type { Exec, ExecResult } from '../exec.ts';
import { findExtensionRows, parseSystemExtensionsList, type SystemExtensionRow, type SystemExtensionsList } from '../parsers/index.ts';
import { sleep } from '../../common/time.ts';
import { failure, oneLine, ToolError } from './tool-error.ts';

export type { SystemExtensionsList };

export interface WaitForStateOptions {
  bundleId: string;
  /** "1.0.0" or "1.0.0/1"; any version when absent. */
  version?: string;
  /** State words as printed, without brackets: `activated enabled`. */
  state: string;
  timeoutMs: number;
  pollMs?: number;
  /** Returns a message to stop waiting at once (e.g. the approval hint for `activated waiting for user`). */
  failFast?: (rows: SystemExtensionRow[]) => string | undefined;
}

export interface SystemExtensionsCtl {
  list(): Promise<{ list: SystemExtensionsList; raw: string }>;
  developerMode(): Promise<boolean>;
  setDeveloperMode(on: boolean): Promise<void>;
  uninstall(teamId: string, bundleId: string): Promise<void>;
  waitForState(options: WaitForStateOptions): Promise<SystemExtensionRow>;
}

export interface SystemExtensionsCtlOptions {
  /**
   * Run the state-changing subcommands (developer on/off, uninstall) as `sudo -n`. Whether they
   * need root is unconfirmed (reference §2); privileged rigs lose nothing by it.
   */
  sudo?: boolean;
  /** Deadline of each command. */
  timeoutMs?: number;
}

const TOOL = 'systemextensionsctl';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_POLL_MS = 250;
/** §2-A: printed by reset/uninstall (exit code unknown) while SIP is enabled. */
const SIP_REFUSAL = /cannot be used if System Integrity Protection is enabled/;
/** §2-B: `systemextensionsctl developer` prints "Developer mode is off"; "is on" is only described. */
const DEVELOPER_MODE = /Developer mode is (on|off)/i;

export function systemExtensionsCtl(exec: Exec, options: SystemExtensionsCtlOptions = {}): SystemExtensionsCtl {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const privileged = (argv: string[]) => (options.sudo ? ['sudo', '-n', ...argv] : argv);
  const run = (argv: string[], deadlineMs = timeoutMs) => exec.run(argv, { timeoutMs: deadlineMs, nothrow: true });
  // The reads (`list`, `developer` without on/off): safe to retry over a reconnected ssh connection.
  const read = (argv: string[], deadlineMs = timeoutMs) => exec.run(argv, { timeoutMs: deadlineMs, nothrow: true, idempotent: true });

  const list = async (deadlineMs = timeoutMs) => {
    const result = await read([TOOL, 'list'], deadlineMs);
    if (result.timedOut) throw failure(result, 'listing system extensions');
    const parsed = parseSystemExtensionsList(result.stdout);
    // `list` can abort after a category header (§1.2, 1-C): keep what it printed, marked incomplete.
    if (!result.ok && parsed.count === null) throw failure(result, 'listing system extensions');
    return { list: result.ok ? parsed : { ...parsed, complete: false }, raw: result.stdout };
  };

  /** Non-zero exit, a timeout, or the SIP refusal (whose exit code is unknown): the tool's words in one line. */
  const check = (result: ExecResult, what: string): void => {
    const text = `${result.stdout}\n${result.stderr}`;
    if (SIP_REFUSAL.test(text)) {
      throw new ToolError(`${what}: systemextensionsctl refused: ${oneLine(text)} (disable SIP in Recovery with \`csrutil disable\` on this rig)`, result);
    }
    if (!result.ok) throw failure(result, what);
  };

  const api: SystemExtensionsCtl = {
    list: () => list(),

    async developerMode() {
      const result = await read([TOOL, 'developer']);
      check(result, 'reading developer mode');
      const m = DEVELOPER_MODE.exec(`${result.stdout}\n${result.stderr}`);
      if (!m) throw new ToolError(`systemextensionsctl developer printed no "Developer mode is on|off": ${oneLine(result.stdout + result.stderr) || '(nothing)'}`, result);
      return m[1]!.toLowerCase() === 'on';
    },

    async setDeveloperMode(on) {
      const word = on ? 'on' : 'off';
      const result = await run(privileged([TOOL, 'developer', word]));
      check(result, `turning developer mode ${word}`);
      // What `developer on|off` prints is unconfirmed (§2 "Not found"): trust only a re-read.
      const now = await api.developerMode();
      if (now !== on) {
        const said = oneLine(result.stdout + result.stderr);
        throw new ToolError(`systemextensionsctl developer ${word} exited ${result.exitCode}${said ? ` (${said})` : ''} but developer mode is still ${now ? 'on' : 'off'}`, result);
      }
    },

    async uninstall(teamId, bundleId) {
      const result = await run(privileged([TOOL, 'uninstall', teamId, bundleId]));
      check(result, `uninstalling ${bundleId}`);
    },

    async waitForState({ bundleId, version, state, timeoutMs: waitMs, pollMs = DEFAULT_POLL_MS, failFast }) {
      const deadline = performance.now() + waitMs;
      let last: SystemExtensionsList | undefined;
      let lastError: Error | undefined;
      for (;;) {
        // A failed listing is retried until the deadline; a failFast verdict ends the wait.
        // Each listing gets what is left of the wait (at least a second), so the wait keeps its deadline.
        const callMs = Math.max(1000, Math.min(timeoutMs, Math.ceil(deadline - performance.now())));
        const fresh = await list(callMs).then((r) => r.list, (error: unknown) => { lastError = error as Error; return undefined; });
        if (fresh) {
          last = fresh;
          lastError = undefined;
          const rows = findExtensionRows(fresh, { bundleId, version });
          const hit = rows.find((r) => r.state === state);
          if (hit) return hit;
          const stop = failFast?.(rows);
          if (stop) throw new ToolError(stop);
        }
        const left = deadline - performance.now();
        if (left <= 0) break;
        await sleep(Math.min(pollMs, left));
      }
      const wanted = `${bundleId}${version ? ` (${version})` : ''}`;
      throw new ToolError(`${wanted} did not reach [${state}] within ${waitMs} ms; ${describeLastSeen(last, bundleId, lastError)}`);
    },
  };
  return api;
}

function describeLastSeen(list: SystemExtensionsList | undefined, bundleId: string, error: Error | undefined): string {
  if (!list) return `systemextensionsctl list never succeeded: ${error?.message ?? 'no answer'}`;
  const rows = list.extensions.filter((r) => r.bundleId === bundleId);
  const all = rows.length ? rows : list.extensions;
  const shown = all.map(formatRow).join('; ') || 'none';
  const tail = error ? ` (last listing failed: ${error.message})` : '';
  return rows.length
    ? `rows last seen for ${bundleId}: ${shown}${tail}`
    : `no row for ${bundleId}; the list had ${list.extensions.length} row(s): ${shown}${tail}`;
}

export function formatRow(r: SystemExtensionRow): string {
  return `${r.teamId} ${r.bundleId} (${r.shortVersion}/${r.bundleVersion}) [${r.state}]`;
}
