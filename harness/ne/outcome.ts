// What a connection attempt came to, read from curl / nc / dig exit codes and their words
// (driverkit-rigs-es-ne.md §D.4). A content filter's drop is not observable as such: the kernel
// marks the socket defunct (EBADF / EOPNOTSUPP, or a reset), so the reference only *infers* that
// curl exits 7 on a drop; a dropped DNS flow shows as "could not resolve" (curl 6, dig 9); a paused
// or black-holed flow runs into --max-time (curl 28). Where the reference infers, the tables below
// are tolerant: several wordings map to one outcome.

export type FlowOutcome = 'allowed' | 'killed' | 'refused' | 'timedOut' | 'dnsFailed';

export const FLOW_OUTCOMES: readonly FlowOutcome[] = ['allowed', 'killed', 'refused', 'timedOut', 'dnsFailed'];

/** An attempt's outcome, or why the tool did not make one (a usage error, a malformed URL…). */
export type Classified = { outcome: FlowOutcome; reason: string } | { outcome: undefined; reason: string };

export interface ToolExit {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Our own deadline ran out before the tool exited. */
  timedOut: boolean;
}

// errno texts (macOS strerror, Linux where it differs) that say which way a connect failed.
const REFUSED = /Connection refused/i;
// A defunct socket (cfil_action_drop → sodefunct: EBADF, then EOPNOTSUPP on connect) or a flow
// aborted by a reset. Inference (§D.4): any of these is what a filter's drop looks like.
const KILLED = /Bad file descriptor|Operation not supported|Socket is not connected|Connection reset by peer|Connection aborted|Software caused connection abort/i;
const TIMED_OUT = /timed out|Timeout was reached/i;

/** The errno text of the most specific failure line: curl -v's `* connect to … failed: X`, else the whole text. */
function errnoText(text: string): string {
  const verbose = /^\* (?:connect to|Immediate connect fail for) .*?(?:failed)?: (.+)$/m.exec(text);
  return verbose ? verbose[1]! : text;
}

/** The first line the tool wrote as its own error (`curl: (7) …`, `nc: …`, `;; …`), for messages. */
export function toolLine(text: string, tool: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith(`${tool}: `)) ?? lines.find((l) => l.startsWith(';;')) ?? lines.at(-1) ?? '';
}

/**
 * curl (everything.curl.dev/cmdline/exitcode): 0 done; 6 could not resolve host (also a dropped DNS
 * flow, as LuLu users saw); 7 failed to connect (refused, or a filter's drop: the socket was made
 * defunct); 28 timeout (--max-time: a paused or black-holed flow); 52 empty reply and 56 receive
 * failure (a flow dropped once data was flowing).
 */
export function classifyCurl(r: ToolExit): Classified {
  if (r.timedOut) return { outcome: 'timedOut', reason: 'curl did not finish before its deadline' };
  const said = toolLine(r.stderr, 'curl');
  switch (r.exitCode) {
    case 0: return { outcome: 'allowed', reason: 'curl completed the transfer' };
    case 6: return { outcome: 'dnsFailed', reason: said };
    case 28: return { outcome: 'timedOut', reason: said };
    case 52: case 56: return { outcome: 'killed', reason: said };
    case 7: {
      const errno = errnoText(r.stderr);
      if (REFUSED.test(errno)) return { outcome: 'refused', reason: said };
      if (KILLED.test(errno)) return { outcome: 'killed', reason: said };
      if (TIMED_OUT.test(errno)) return { outcome: 'timedOut', reason: said };
      // curl 7.8x+ hides the errno behind "Couldn't connect to server" unless -v prints it: a
      // refused connect is what that most often is; a filter's drop cannot be told apart then.
      return { outcome: 'refused', reason: `${said} (curl did not say why; counted as refused)` };
    }
    default: return { outcome: undefined, reason: said || `curl exited with ${r.exitCode}` };
  }
}

/**
 * nc -z (macOS nc, derived from OpenBSD's): 0 and `Connection to H port P [tcp/x] succeeded!`; 1 and
 * `nc: connectx to H port P (tcp) failed: <errno>` (OpenBSD and Linux say `connect to`); a name that
 * does not resolve is `nc: getaddrinfo: nodename nor servname provided, or not known`.
 */
export function classifyNc(r: ToolExit): Classified {
  if (r.timedOut) return { outcome: 'timedOut', reason: 'nc did not finish before its deadline' };
  const text = `${r.stderr}\n${r.stdout}`;
  if (r.exitCode === 0) return { outcome: 'allowed', reason: toolLine(text, 'Connection') || 'nc connected' };
  const failedLine = /^nc: connectx? to .* failed: (.+)$/m.exec(text);
  const said = failedLine ? failedLine[0] : toolLine(text, 'nc');
  if (r.exitCode !== 1) return { outcome: undefined, reason: said || `nc exited with ${r.exitCode}` };
  if (/getaddrinfo|nodename nor servname|Name or service not known|No address associated/i.test(text)) return { outcome: 'dnsFailed', reason: said };
  if (failedLine) {
    const errno = failedLine[1]!;
    if (REFUSED.test(errno)) return { outcome: 'refused', reason: said };
    if (KILLED.test(errno)) return { outcome: 'killed', reason: said };
    if (TIMED_OUT.test(errno)) return { outcome: 'timedOut', reason: said };
    return { outcome: 'killed', reason: `${said} (an errno that is neither refused nor a timeout: counted as killed)` };
  }
  // macOS nc -z prints the failure; a bare exit 1 is an nc that said nothing (no -v on OpenBSD's).
  if (!said) return { outcome: 'refused', reason: 'nc exited 1 without saying why (counted as refused)' };
  return { outcome: undefined, reason: said };
}

/** dig +short: the addresses it printed, one per line (CNAME targets and comments left out). */
export function digAddresses(stdout: string): string[] {
  return stdout.split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith(';') && (/^\d{1,3}(\.\d{1,3}){3}$/.test(l) || /^[0-9a-f:]+:[0-9a-f:]*$/i.test(l)));
}

/**
 * dig: exit 0 when a server answered (with addresses, or none: NXDOMAIN / no record — the query
 * got through), 9 when no reply came (`;; connection timed out; no servers could be reached` on
 * stdout; BIND 9.18 words it `;; communications error to S#53: timed out`): a dropped DNS flow.
 * A refused or reset query is tolerated as refused / killed. 1 usage, 8 batch file, 10 internal.
 */
export function classifyDig(r: ToolExit): Classified {
  if (r.timedOut) return { outcome: 'timedOut', reason: 'dig did not finish before its deadline' };
  const text = `${r.stdout}\n${r.stderr}`;
  if (r.exitCode === 0) {
    const addresses = digAddresses(r.stdout);
    return { outcome: 'allowed', reason: addresses.length ? `answered ${addresses.join(', ')}` : 'answered with no address (NXDOMAIN or no record)' };
  }
  const said = toolLine(text, 'dig');
  if (r.exitCode === 9) {
    if (REFUSED.test(text)) return { outcome: 'refused', reason: said };
    if (KILLED.test(text)) return { outcome: 'killed', reason: said };
    return { outcome: 'timedOut', reason: said || 'no servers could be reached' };
  }
  return { outcome: undefined, reason: said || `dig exited with ${r.exitCode}` };
}
