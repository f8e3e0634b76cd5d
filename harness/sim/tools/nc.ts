// nc -z on the simulated Mac (es-ne contract §6, macOS nc's words): a connect to host:port through
// the simulated network, TCP or UDP (-u). Success is `Connection to H port P [tcp/https] succeeded!`
// on stderr; a failure is `nc: connectx to H port P (tcp) failed: <errno>` and exit 1: refused,
// Bad file descriptor for a filter's drop (inference, reference §D.4), Operation timed out after
// -G (connect timeout) or -w. Only -z (port scanning) is modelled: nothing here sends data.
import { connect, isIPv4, lookup, MDNSRESPONDER_PID, serviceName } from '../network.ts';
import { sleepOrAbort, type Tool } from './context.ts';

// The first and last lines of macOS nc's usage (its Apple-only options sit between them).
const USAGE = 'usage: nc [-46AacCDdEFhklMnOortUuvz] [-K tc] [-b boundif] [-i interval] [-p source_port]\n' +
  '\t  [-s source_ip_address] [-w timeout] [-X proxy_version]\n\t  [-x proxy_address[:port]] [hostname] [port[s]]\n';

/** macOS gives up on a TCP connect after 75 s (net.inet.tcp.keepinit). */
const KERNEL_CONNECT_TIMEOUT_MS = 75_000;

export const nc: Tool = async ({ mac, argv, err, signal }) => {
  let udp = false;
  let scan = false;
  let connectTimeoutMs: number | undefined;
  let idleTimeoutMs: number | undefined;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') { positional.push(arg); continue; }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!;
      if (c === 'u') udp = true;
      else if (c === 'z') scan = true;
      else if (c === 'v' || c === 'n' || c === '4') continue;
      else if (c === 'G' || c === 'w') {
        const value = arg.slice(j + 1) || argv[++i];
        if (value === undefined || !/^\d+$/.test(value)) { err(`nc: timeout cannot be ${value === undefined ? 'empty' : value}\n`); return 1; }
        if (c === 'G') connectTimeoutMs = Number(value) * 1000;
        else idleTimeoutMs = Number(value) * 1000;
        break;
      } else { err(`nc: illegal option -- ${c}\n${USAGE}`); return 1; }
    }
  }
  if (positional.length !== 2) { err(USAGE); return 1; }
  if (!scan) { err('nc: the simulated Mac models nc -z only (connection tests): add -z\n'); return 1; }
  const [host, portText] = positional as [string, string];
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) { err(`nc: port number invalid: ${portText}\n`); return 1; }
  const port = Number(portText);
  const protocol = udp ? 'udp' : 'tcp';
  const pid = mac.allocPid();

  let address = host;
  if (!isIPv4(host)) {
    const answer = lookup(mac, host, MDNSRESPONDER_PID);
    if (answer.kind === 'noReply' || answer.addresses.length === 0) { err('nc: getaddrinfo: nodename nor servname provided, or not known\n'); return 1; }
    address = answer.addresses[0]!;
  }
  const failed = (why: string): number => { err(`nc: connectx to ${host} port ${port} (${protocol}) failed: ${why}\n`); return 1; };
  const connection = connect(mac, { address, port, protocol, ...(host !== address ? { hostname: host } : {}), pid });
  if (connection === 'refused') return failed('Connection refused');
  if (connection === 'dropped') return failed('Bad file descriptor');
  if (connection === 'blackHoled' && !udp) {
    // UDP cannot tell a black hole from a quiet listener: nc -uz says it succeeded.
    await sleepOrAbort(Math.min(connectTimeoutMs ?? Infinity, idleTimeoutMs ?? Infinity, KERNEL_CONNECT_TIMEOUT_MS), signal);
    if (signal.aborted) return 130;
    return failed('Operation timed out');
  }
  err(`Connection to ${host} port ${port} [${protocol}/${serviceName(port, protocol)}] succeeded!\n`);
  return 0;
};
