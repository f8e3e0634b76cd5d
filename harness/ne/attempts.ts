// Connection attempts from the Mac through the rig's Exec (so they work locally and over ssh):
// curl for a URL, nc -z for host:port over TCP or UDP, dig for a DNS lookup. Each runs with the
// tool's own timeout (curl --max-time, nc -G/-w, dig +time) and an Exec deadline a little past it,
// and comes back classified (outcome.ts). A tool that is missing or refuses its arguments is a
// ToolError, never an outcome.
import { formatArgv, type Exec, type ExecResult } from '../host/exec.ts';
import { ToolError } from '../host/tools/tool-error.ts';
import { classifyCurl, classifyDig, classifyNc, digAddresses, toolLine, type Classified, type FlowOutcome } from './outcome.ts';

export interface AttemptResult {
  outcome: FlowOutcome;
  /** Why, in the tool's own words where it said something. */
  reason: string;
  exitCode: number | null;
  stderr: string;
  argv: string[];
  durationMs: number;
}

export interface LookupResult extends AttemptResult {
  /** The addresses dig printed (empty: no answer, or none came). */
  addresses: string[];
}

/** What the Exec deadline adds to the tool's own timeout: a process start over ssh, and its exit. */
const EXEC_GRACE_MS = 5_000;

/** The tools' timeouts in whole seconds, never 0 (curl and nc read 0 as "no timeout"). */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

async function attempt(exec: Exec, argv: string[], toolSeconds: number, classify: (r: ExecResult) => Classified): Promise<AttemptResult & { stdout: string }> {
  const result = await exec.run(argv, { timeoutMs: toolSeconds * 1000 + EXEC_GRACE_MS, nothrow: true });
  const tool = argv[0]!;
  if (result.exitCode === 127 || result.exitCode === -2) {
    throw new ToolError(`${tool} is not available on ${exec.where}: ${toolLine(result.stderr, tool) || 'command not found'}`, result);
  }
  const classified = classify(result);
  if (classified.outcome === undefined) {
    throw new ToolError(`${formatArgv(argv)} on ${exec.where} did not make the attempt: ${classified.reason}`, result);
  }
  return {
    outcome: classified.outcome, reason: classified.reason, exitCode: result.exitCode, stderr: result.stderr, stdout: result.stdout,
    argv, durationMs: result.durationMs,
  };
}

/** `curl -sS -v -o /dev/null --max-time N <url>`: -v so that the errno of a failed connect is printed (curl 7.8x+ hides it otherwise). */
export async function curlUrl(exec: Exec, url: string, options: { timeoutMs: number }): Promise<AttemptResult> {
  const s = seconds(options.timeoutMs);
  const argv = ['curl', '-sS', '-v', '-o', '/dev/null', '--max-time', String(s), url];
  const { stdout: _stdout, ...result } = await attempt(exec, argv, s, classifyCurl);
  return result;
}

/** `nc -z` to host:port: TCP with a connect timeout (-G, macOS nc), UDP with -u. */
export async function ncConnect(
  exec: Exec, host: string, port: number, protocol: 'tcp' | 'udp', options: { timeoutMs: number },
): Promise<AttemptResult> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ToolError(`not a port: ${port}`);
  const s = seconds(options.timeoutMs);
  const argv = protocol === 'udp'
    ? ['nc', '-u', '-z', '-w', String(s), host, String(port)]
    : ['nc', '-z', '-G', String(s), '-w', String(s), host, String(port)];
  const { stdout: _stdout, ...result } = await attempt(exec, argv, s, classifyNc);
  return result;
}

/** `dig +short +time=N +tries=1 <name> A`. */
export async function digLookup(exec: Exec, name: string, options: { timeoutMs: number }): Promise<LookupResult> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ToolError(`not a DNS name: ${JSON.stringify(name)}`);
  const s = seconds(options.timeoutMs);
  const argv = ['dig', '+short', `+time=${s}`, '+tries=1', name, 'A'];
  const { stdout, ...result } = await attempt(exec, argv, s, classifyDig);
  return { ...result, addresses: result.outcome === 'allowed' ? digAddresses(stdout) : [] };
}
