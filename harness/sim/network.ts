// The simulated Mac's network (es-ne contract §6): names and their addresses, the sockets that
// listen, one DNS server, and the content filter every flow passes while one runs. The curl, nc
// and dig shims ask it what happens to their flows. An address with a host but nothing listening
// refuses; an address with no host at all black-holes (the connect runs into its timeout).
import { dnsVerdict, flowVerdict, runningFilter, type Protocol } from './flowgate.ts';
import type { Mac } from './mac.ts';

/** mDNSResponder resolves names for every app (getaddrinfo): its pid is the DNS flow's. */
export const MDNSRESPONDER_PID = 197;

export function isIPv4(text: string): boolean {
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text) && text.split('.').every((n) => Number(n) <= 255);
}

const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** A DNS answer (no addresses: NXDOMAIN), or no reply at all (a dropped query, no server). */
export type Lookup = { kind: 'answer'; addresses: string[] } | { kind: 'noReply' };

/** One A query from `pid` to `server` (default: the Mac's resolver), through the filter. */
export function lookup(mac: Mac, name: string, pid: number, server = mac.config.network.dnsServer): Lookup {
  const filter = runningFilter(mac);
  if (filter) {
    if (flowVerdict(mac, filter, { address: server, port: 53, protocol: 'udp', pid }) === 'drop') return { kind: 'noReply' };
    if (dnsVerdict(mac, filter, norm(name), pid) === 'drop') return { kind: 'noReply' };
  }
  if (!listening(mac, server, 53, 'udp')) return { kind: 'noReply' };
  const hosts = mac.config.network.hosts;
  const found = Object.entries(hosts).find(([host]) => norm(host) === norm(name));
  return { kind: 'answer', addresses: found ? [found[1]] : [] };
}

function listening(mac: Mac, address: string, port: number, protocol: Protocol): boolean {
  return mac.config.network.listening.includes(`${address}:${port}/${protocol}`);
}

/** Whether something is at the address: one of the named hosts, or the DNS server. */
function hostAt(mac: Mac, address: string): boolean {
  return address === mac.config.network.dnsServer || Object.values(mac.config.network.hosts).includes(address);
}

export type Connection = 'open' | 'refused' | 'dropped' | 'blackHoled';

export interface FlowRequest {
  address: string;
  port: number;
  protocol: Protocol;
  /** The name the app connected to (FlowGate also learns it from the DNS answer). */
  hostname?: string;
  pid: number;
}

/** A new flow: the filter's verdict first (a drop makes the socket defunct), then the network. */
export function connect(mac: Mac, flow: FlowRequest): Connection {
  const filter = runningFilter(mac);
  if (filter && flowVerdict(mac, filter, flow) === 'drop') return 'dropped';
  if (listening(mac, flow.address, flow.port, flow.protocol)) return 'open';
  return hostAt(mac, flow.address) ? 'refused' : 'blackHoled';
}

/** Service names as /etc/services gives them (what nc prints in `[tcp/https]`). */
const SERVICES: Record<string, string> = { '22/tcp': 'ssh', '53/udp': 'domain', '53/tcp': 'domain', '80/tcp': 'http', '443/tcp': 'https', '443/udp': 'https' };

export function serviceName(port: number, protocol: Protocol): string {
  return SERVICES[`${port}/${protocol}`] ?? '*';
}
