// dig on the simulated Mac (es-ne contract §6; macOS ships BIND's dig 9.10.6): one A or AAAA query
// from dig's own socket to the resolver (or @server), through the simulated network and filter.
// An answer exits 0 (+short: the addresses, or nothing for NXDOMAIN); no reply (a dropped DNS flow,
// no server) waits +time × +tries seconds, prints `;; connection timed out; no servers could be
// reached` on stdout and exits 9.
import { isIPv4, lookup } from '../network.ts';
import { sleepOrAbort, type Tool } from './context.ts';

const VERSION = '9.10.6';
const USAGE = 'Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n            {global-d-opt} host [@local-server] {local-d-opt}\n            [ host [@local-server] {local-d-opt} [...]]\n';

export const dig: Tool = async ({ mac, argv, out, err, signal }) => {
  let short = false;
  let timeS = 5;
  let tries = 3;
  let server: string | undefined;
  let name: string | undefined;
  let type: 'A' | 'AAAA' = 'A';
  for (const arg of argv) {
    if (arg.startsWith('@')) { server = arg.slice(1); continue; }
    if (arg.startsWith('+')) {
      const [key, value] = arg.slice(1).split('=') as [string, string | undefined];
      const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
      if (key === 'short') short = true;
      else if (key === 'noshort') short = false;
      else if (key === 'time' && n !== undefined) timeS = Math.max(1, n);
      else if (key === 'tries' && n !== undefined) tries = Math.max(1, n);
      else if (key === 'retry' && n !== undefined) tries = n + 1;
      else { err(`Invalid option: ${arg}\n${USAGE}`); return 1; }
      continue;
    }
    if (/^(A|AAAA)$/i.test(arg) && name !== undefined) { type = arg.toUpperCase() as 'A' | 'AAAA'; continue; }
    if (/^IN$/i.test(arg) && name !== undefined) continue;
    if (name !== undefined) { err(`dig: only one name per query on the simulated Mac: ${arg}\n`); return 1; }
    name = arg;
  }
  if (server !== undefined && !isIPv4(server)) { err(`dig: couldn't get address for '${server}': not found\n`); return 10; }
  // No name: dig asks for the root's NS records; the simulated resolver has no root zone.
  if (name === undefined) { err(USAGE); return 1; }
  const fqdn = name.endsWith('.') ? name : `${name}.`;
  const started = performance.now();
  const answer = lookup(mac, name, mac.allocPid(), server);
  const at = server ?? mac.config.network.dnsServer;
  const header = `\n; <<>> DiG ${VERSION} <<>> ${argv.join(' ')}\n;; global options: +cmd\n`;
  if (answer.kind === 'noReply') {
    await sleepOrAbort(timeS * tries * 1000, signal);
    if (signal.aborted) return 130;
    out(`${short ? '' : header};; connection timed out; no servers could be reached\n`);
    return 9;
  }
  const addresses = type === 'A' ? answer.addresses : [];
  if (short) {
    out(addresses.map((a) => `${a}\n`).join(''));
    return 0;
  }
  const status = answer.addresses.length ? 'NOERROR' : 'NXDOMAIN';
  const id = 1 + Math.floor(Math.random() * 65534);
  out(`${header};; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: ${status}, id: ${id}\n` +
    `;; flags: qr rd ra; QUERY: 1, ANSWER: ${addresses.length}, AUTHORITY: 0, ADDITIONAL: 1\n\n` +
    `;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 4096\n;; QUESTION SECTION:\n;${fqdn}\t\t\tIN\t${type}\n\n` +
    (addresses.length ? `;; ANSWER SECTION:\n${addresses.map((a) => `${fqdn}\t\t300\tIN\t${type}\t${a}\n`).join('')}\n` : '') +
    `;; Query time: ${Math.round(performance.now() - started)} msec\n;; SERVER: ${at}#53(${at})\n;; WHEN: ${new Date().toString().replace(/ GMT.*$/, '')}\n;; MSG SIZE  rcvd: ${40 + 16 * addresses.length}\n\n`);
  return 0;
};
