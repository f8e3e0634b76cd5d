// curl on the simulated Mac (es-ne contract §6): one HTTP(S) GET through the simulated network.
// Exit codes and words as curl's: 0 (HTTP 200, empty body), 6 a name that does not resolve (also a
// dropped DNS flow), 7 a refused connect or a filter's drop (the defunct socket's EBADF; an
// inference, reference §D.4), 28 a connect that runs into --max-time / --connect-timeout.
// -v prints curl's `*` lines, where modern curl names the errno of a failed connect.
import { writeFileSync } from 'node:fs';
import { onDisk } from '../disk.ts';
import { connect, isIPv4, lookup, MDNSRESPONDER_PID } from '../network.ts';
import { sleepOrAbort, type Tool } from './context.ts';

/** macOS gives up on a TCP connect after 75 s (net.inet.tcp.keepinit). */
const KERNEL_CONNECT_TIMEOUT_MS = 75_000;

interface Options {
  silent: boolean;
  showError: boolean;
  verbose: boolean;
  output?: string;
  maxTimeMs?: number;
  connectTimeoutMs?: number;
  writeOut?: string;
  url?: string;
}

class Usage extends Error {
  constructor(message: string, readonly code = 2) { super(message); }
}

const VALUE_SHORT = new Set(['o', 'm', 'w']);
const FLAG_SHORT = new Set(['s', 'S', 'v', 'k', 'L', 'f']);
const LONG: Record<string, string> = {
  '--silent': 's', '--show-error': 'S', '--verbose': 'v', '--insecure': 'k', '--location': 'L', '--fail': 'f',
  '--output': 'o', '--max-time': 'm', '--write-out': 'w',
};

function seconds(text: string, option: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Usage(`curl: option ${option}: expected a proper numerical parameter`);
  return Math.round(Number(text) * 1000);
}

function parse(argv: string[]): Options {
  const o: Options = { silent: false, showError: false, verbose: false };
  const set = (key: string, value: string | undefined, option: string): void => {
    const need = (): string => {
      if (value === undefined) throw new Usage(`curl: option ${option}: requires parameter`);
      return value;
    };
    if (key === 's') o.silent = true;
    else if (key === 'S') o.showError = true;
    else if (key === 'v') o.verbose = true;
    else if (key === 'o') o.output = need();
    else if (key === 'm') o.maxTimeMs = seconds(need(), option);
    else if (key === 'w') o.writeOut = need();
    else if (key === 'connect-timeout') o.connectTimeoutMs = seconds(need(), option);
    // -k -L -f: no certificates, redirects or HTTP errors in this network.
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--connect-timeout') { set('connect-timeout', argv[++i], arg); continue; }
    if (arg === '--noproxy') { i++; continue; }
    if (arg.startsWith('--')) {
      const key = LONG[arg];
      if (!key) throw new Usage(`curl: option ${arg}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`);
      set(key, VALUE_SHORT.has(key) ? argv[++i] : undefined, arg);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        if (VALUE_SHORT.has(c)) {
          const rest = arg.slice(j + 1);
          set(c, rest || argv[++i], `-${c}`);
          break;
        }
        if (!FLAG_SHORT.has(c)) throw new Usage(`curl: option -${c}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`);
        set(c, undefined, `-${c}`);
      }
      continue;
    }
    o.url = arg;
  }
  return o;
}

export const curl: Tool = async ({ mac, argv, cwd, out, err, signal }) => {
  let o: Options;
  try {
    o = parse(argv);
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    err(`${e.message}\n`);
    return e.code;
  }
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const verbose = (line: string): void => { if (o.verbose) err(`${line}\n`); };
  // -s hides the progress meter and the error line; -S brings the error line back.
  const fail = (code: number, message: string): number => {
    if (!o.silent || o.showError) err(`curl: (${code}) ${message}\n`);
    return code;
  };
  if (!o.url) { err('curl: no URL specified!\ncurl: try \'curl --help\' or \'curl --manual\' for more information\n'); return 2; }
  if (!o.silent) err('  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n');

  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(o.url) ? o.url : `http://${o.url}`);
  } catch {
    return fail(3, 'URL using bad/illegal format or missing URL');
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') return fail(1, `Protocol "${scheme}" not supported or disabled in libcurl`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const pid = mac.allocPid();

  let address = host;
  if (!isIPv4(host)) {
    // getaddrinfo: mDNSResponder sends the query, so the DNS flow is its own.
    const answer = lookup(mac, host, MDNSRESPONDER_PID);
    if (answer.kind === 'noReply' || answer.addresses.length === 0) {
      verbose(`* Could not resolve host: ${host}`);
      verbose('* Closing connection 0');
      return fail(6, `Could not resolve host: ${host}`);
    }
    address = answer.addresses[0]!;
  }
  verbose(`*   Trying ${address}:${port}...`);
  const connection = connect(mac, { address, port, protocol: 'tcp', ...(host !== address ? { hostname: host } : {}), pid });
  if (connection === 'refused' || connection === 'dropped') {
    const why = connection === 'refused' ? 'Connection refused' : 'Bad file descriptor';
    verbose(`* connect to ${address} port ${port} failed: ${why}`);
    verbose(`* Failed to connect to ${host} port ${port} after ${elapsed()} ms: Couldn't connect to server`);
    verbose('* Closing connection 0');
    return fail(7, `Failed to connect to ${host} port ${port} after ${elapsed()} ms: ${why}`);
  }
  if (connection === 'blackHoled') {
    const limit = Math.min(o.maxTimeMs ?? Infinity, o.connectTimeoutMs ?? Infinity, KERNEL_CONNECT_TIMEOUT_MS);
    await sleepOrAbort(limit, signal);
    if (signal.aborted) return 130;
    verbose(`* Connection timed out after ${elapsed()} milliseconds`);
    verbose('* Closing connection 0');
    return fail(28, `Connection timed out after ${elapsed()} milliseconds`);
  }
  verbose(`* Connected to ${host} (${address}) port ${port} (#0)`);
  verbose(`> GET ${url.pathname}${url.search} HTTP/1.1`);
  verbose(`> Host: ${url.host}`);
  verbose('> User-Agent: curl/8.7.1');
  verbose('> Accept: */*');
  verbose('>');
  verbose('< HTTP/1.1 200 OK');
  verbose('< Content-Length: 0');
  verbose('<');
  verbose(`* Connection #0 to host ${host} left intact`);
  if (o.output !== undefined && o.output !== '/dev/null' && o.output !== '-') {
    const target = onDisk(mac, cwd, o.output);
    if (!target.writable) return fail(23, `Failure writing output to destination, passed 0 returned 4294967295`);
    writeFileSync(target.local, '');
  }
  if (o.writeOut !== undefined) {
    out(o.writeOut.replace(/%\{http_code\}|%\{response_code\}/g, '200').replace(/%\{exitcode\}/g, '0').replace(/%\{remote_ip\}/g, address).replace(/\\n/g, '\n'));
  }
  return 0;
};
