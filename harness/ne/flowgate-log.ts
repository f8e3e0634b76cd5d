// FlowGate's unified log lines (es-ne contract §5, dext-fixtures/es-ne-contract.md): category filter,
// under the subsystem of the filter's bundle id (FlowGate's own is com.example.flowgate), so a filter
// of your own that logs these lines under its bundle id is followed the same way.
//   FlowGate started rules=<n>
//   verdict=<allow|drop> protocol=<tcp|udp> remote=<ip>:<port> hostname=<name or -> pid=<pid>
//   dns verdict=<allow|drop> name=<qname> pid=<pid>
// Values never contain spaces (FlowGate writes a space as %20); the parser reads key=value tokens,
// so keys it does not know, or in another order, do not break it.

export const FLOWGATE_BUNDLE = 'com.example.flowgate';
export const FLOWGATE_CATEGORY = 'filter';

/** What `log stream --predicate` gets to see the lines of filters with these bundle ids. */
export function verdictPredicate(bundles: string[]): string {
  if (bundles.length === 0) throw new Error('verdictPredicate: no bundle id');
  return bundles.map((b) => `subsystem == ${JSON.stringify(b)}`).join(' OR ');
}

export type Verdict = 'allow' | 'drop';

export interface FlowVerdict {
  kind: 'flow';
  verdict: Verdict;
  protocol: string;
  /** `ip:port` as logged. */
  remote: string;
  /** The address without the port (IPv6 without its brackets). */
  address: string;
  port: number;
  /** Undefined when FlowGate logged `-` (the flow had no host name). */
  hostname?: string;
  pid: number;
}

export interface DnsVerdict {
  kind: 'dns';
  verdict: Verdict;
  name: string;
  pid: number;
}

export interface FlowGateStarted {
  kind: 'started';
  rules: number;
}

export type FlowGateLine = FlowVerdict | DnsVerdict | FlowGateStarted;

/** key=value tokens, %-decoded (a value with a space is written %20). */
function tokens(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const token of text.trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) continue;
    let value = token.slice(eq + 1);
    try { value = decodeURIComponent(value); } catch { /* a stray % is kept as written */ }
    out.set(token.slice(0, eq), value);
  }
  return out;
}

function verdictOf(value: string | undefined): Verdict | undefined {
  return value === 'allow' || value === 'drop' ? value : undefined;
}

function pidOf(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** `1.2.3.4:443`, `[::1]:443`, or `fe80::1:443` (the last colon splits). */
function splitRemote(remote: string): { address: string; port: number } | undefined {
  const m = /^\[?(.+?)\]?:(\d+)$/.exec(remote);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { address: m[1]!, port } : undefined;
}

/** One of FlowGate's messages (the eventMessage), or undefined for any other line. */
export function parseFlowGateMessage(message: string): FlowGateLine | undefined {
  const started = /^FlowGate started\b(.*)$/.exec(message);
  if (started) {
    const rules = tokens(started[1]!).get('rules');
    return rules !== undefined && /^\d+$/.test(rules) ? { kind: 'started', rules: Number(rules) } : undefined;
  }
  if (message.startsWith('dns ')) {
    const t = tokens(message.slice(4));
    const verdict = verdictOf(t.get('verdict'));
    const pid = pidOf(t.get('pid'));
    const name = t.get('name');
    return verdict && pid !== undefined && name ? { kind: 'dns', verdict, name, pid } : undefined;
  }
  if (message.startsWith('verdict=')) {
    const t = tokens(message);
    const verdict = verdictOf(t.get('verdict'));
    const pid = pidOf(t.get('pid'));
    const remote = t.get('remote');
    const protocol = t.get('protocol');
    const split = remote ? splitRemote(remote) : undefined;
    if (!verdict || pid === undefined || !remote || !split || !protocol) return undefined;
    const hostname = t.get('hostname');
    return { kind: 'flow', verdict, protocol, remote, ...split, ...(hostname && hostname !== '-' ? { hostname } : {}), pid };
  }
  return undefined;
}

/** What `ne.expect`'s match may name, and what each compares against. */
export interface VerdictMatch {
  protocol?: string;
  /** `ip:port`, or just the ip. */
  remote?: string;
  hostname?: string;
  port?: number;
  /** The DNS query name (a dns verdict). */
  name?: string;
}

/** Why `line` is not the verdict wanted: one reason per key that differs; empty when it matches. */
export function verdictMismatches(line: FlowVerdict | DnsVerdict, verdict: Verdict, match: VerdictMatch = {}): string[] {
  const why: string[] = [];
  if (line.verdict !== verdict) why.push(`verdict=${line.verdict}`);
  const dnsOnly = match.name !== undefined;
  const flowKeys = (['protocol', 'remote', 'hostname', 'port'] as const).filter((k) => match[k] !== undefined);
  if (line.kind === 'dns') {
    if (flowKeys.length) why.push(`a dns verdict has no ${flowKeys.join('/')}`);
    if (dnsOnly && !sameName(line.name, match.name!)) why.push(`name=${line.name}`);
    return why;
  }
  if (dnsOnly) why.push('a flow verdict, not a dns one');
  if (match.protocol !== undefined && line.protocol.toLowerCase() !== match.protocol.toLowerCase()) why.push(`protocol=${line.protocol}`);
  if (match.remote !== undefined && line.remote !== match.remote && line.address !== match.remote) why.push(`remote=${line.remote}`);
  if (match.hostname !== undefined && !sameName(line.hostname ?? '', match.hostname)) why.push(`hostname=${line.hostname ?? '-'}`);
  if (match.port !== undefined && line.port !== match.port) why.push(`port=${line.port}`);
  return why;
}

/** DNS names compare without case and without a trailing root dot. */
function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/\.$/, '');
  return norm(a) === norm(b);
}

/** A verdict as one short text, for messages: `drop tcp 192.0.2.20:443 (blocked.example) pid 612`. */
export function describeVerdict(line: FlowVerdict | DnsVerdict): string {
  return line.kind === 'dns'
    ? `dns ${line.verdict} ${line.name} pid ${line.pid}`
    : `${line.verdict} ${line.protocol} ${line.remote}${line.hostname ? ` (${line.hostname})` : ''} pid ${line.pid}`;
}
