// sudo on the simulated Mac. The sudoers policy (../sudoers.ts) decides per command path: a
// NOPASSWD drop-in rule runs it at once; otherwise `-n` refuses, `-S` reads the admin's password
// from stdin, and without either there is no terminal to ask on. `-l <command>` prints the command's
// full path when it may run, without running it. Commands run as the simulated tools they name;
// `install` is sudo's own here, so that it writes the Mac's disk (/etc/sudoers.d), never this
// machine's.
// sudo's words are from sudo 1.9 as remembered, not from the reference: unconfirmed, except
// "sudo: a password is required" (harness/host/tools/kill.ts relies on it).
import type { Readable } from 'node:stream';
import { appliesTo, decide, loadPolicy, simUser, toolNamed, COMMAND_PATHS, type SudoersRule } from '../sudoers.ts';
import type { RawTool, RawToolContext, Tool } from './context.ts';
import { install } from './install.ts';

/** The simulated tools sudo can run, by name (the registry in index.ts). */
export type ToolLookup = (name: string) => { text: Tool } | { raw: RawTool } | undefined;

/** sudo's passwd_timeout default: 5 minutes to type the password. */
const PASSWORD_TIMEOUT_MS = 5 * 60_000;
const USAGE = 'usage: sudo -h | -K | -k | -V\n' +
  'usage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]\n' +
  'usage: sudo -l [-ABkNnS] [-g group] [-h host] [-p prompt] [-U user] [-u user] [command [arg ...]]\n' +
  'usage: sudo [-ABbEHkNnPS] [-C num] [-D directory] [-g group] [-h host] [-p prompt] [-R directory] [-T timeout] [-u user] [VAR=value] [-i | -s] [command [arg ...]]\n';

interface SudoArgs {
  nonInteractive: boolean;
  list: boolean;
  readPassword: boolean;
  prompt: string;
  resetTimestamp: boolean;
  command: string[];
}

function parseArgs(argv: string[]): SudoArgs | string {
  const args: SudoArgs = { nonInteractive: false, list: false, readPassword: false, prompt: 'Password:', resetTimestamp: false, command: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { i++; break; }
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
      if (name === '--prompt' || name === '--user') {
        const value = inline ?? argv[++i];
        if (value === undefined) return `option '${name}' requires an argument`;
        if (name === '--user' && value !== 'root' && value !== '0') return `the simulated Mac runs commands as root only, not ${value}`;
        if (name === '--prompt') args.prompt = value;
        continue;
      }
      if (name === '--non-interactive') args.nonInteractive = true;
      else if (name === '--list') args.list = true;
      else if (name === '--stdin') args.readPassword = true;
      else if (name === '--reset-timestamp') args.resetTimestamp = true;
      else return `unrecognized option '${arg}'`;
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!;
      if (c === 'n') args.nonInteractive = true;
      else if (c === 'l') args.list = true;
      else if (c === 'S') args.readPassword = true;
      else if (c === 'k') args.resetTimestamp = true;
      else if (c === 'p' || c === 'u') {
        const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
        if (value === undefined) return `option requires an argument -- '${c}'`;
        if (c === 'u' && value !== 'root' && value !== '0') return `the simulated Mac runs commands as root only, not ${value}`;
        if (c === 'p') args.prompt = value;
        break;
      } else return `invalid option -- '${c}'`;
    }
  }
  args.command = argv.slice(i);
  return args;
}

export function sudo(lookup: ToolLookup): RawTool {
  return async (ctx) => {
    const { mac, err } = ctx;
    const out = (text: string): void => ctx.out(Buffer.from(text));
    const args = parseArgs(ctx.argv);
    if (typeof args === 'string') { err(`sudo: ${args}\n${USAGE}`); return 1; }
    const policy = loadPolicy(mac);
    if (!policy.ok) {
      // A drop-in that does not parse stops sudo altogether: why provisioning checks with visudo -c first.
      err(`>>> ${policy.file}: syntax error near line ${policy.line} <<<\nsudo: parse error in ${policy.file} near line ${policy.line}\n` +
        'sudo: no valid sudoers sources found, quitting\nsudo: unable to initialize policy plugin\n');
      return 1;
    }
    const user = simUser();
    const host = mac.config.name;
    if (args.command.length === 0) {
      if (args.list) return listPrivileges(ctx, args, policy.rules.filter((r) => appliesTo(r, user)), user.name, host);
      if (args.resetTimestamp) return 0;
      err(USAGE);
      return 1;
    }

    const [given, ...rest] = args.command as [string, ...string[]];
    const name = toolNamed(given);
    const tool = name === undefined ? undefined : name === 'install' ? { text: install } : lookup(name);
    if (name === undefined || !tool) { err(`sudo: ${given}: command not found\n`); return 1; }
    const path = COMMAND_PATHS[name]!;
    const verdict = decide(policy.rules, user, path, rest);
    if (verdict === 'denied') {
      err(`Sorry, user ${user.name} is not allowed to execute '${[path, ...rest].join(' ')}' as root on ${host}.\n`);
      return 1;
    }
    if (verdict === 'passwd' && !(await authenticate(ctx, args))) return 1;
    if (args.list) {
      out(`${[path, ...rest].join(' ')}\n`);
      return 0;
    }
    // Root only here: the simulated user is an admin, not root (shutdown checks for root).
    if ('raw' in tool) return tool.raw({ ...ctx, argv: rest, asRoot: true });
    return tool.text({ mac, argv: rest, cwd: ctx.cwd, signal: ctx.signal, err, out, asRoot: true });
  };
}

/** A password sudo needs: -n refuses, -S reads one line of stdin, and otherwise there is no terminal. */
async function authenticate(ctx: RawToolContext, args: SudoArgs): Promise<boolean> {
  if (args.nonInteractive) { ctx.err('sudo: a password is required\n'); return false; }
  if (!args.readPassword) {
    ctx.err('sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n' +
      'sudo: a password is required\n');
    return false;
  }
  if (args.prompt) ctx.err(args.prompt);
  const line = await readLine(ctx.stdin, ctx.signal, PASSWORD_TIMEOUT_MS);
  if (line === 'timeout') { ctx.err('sudo: timed out reading password\n'); return false; }
  if (line === undefined) { ctx.err('sudo: no password was provided\nsudo: a password is required\n'); return false; }
  if (line === ctx.mac.config.adminPassword) return true;
  ctx.err('Sorry, try again.\nsudo: 1 incorrect password attempt\n');
  return false;
}

/**
 * One line of stdin, without its newline; what follows stays in the stream for the command. Undefined
 * at the end of input with nothing read.
 */
function readLine(stdin: Readable, signal: AbortSignal, timeoutMs: number): Promise<string | undefined | 'timeout'> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    const finish = (value: string | undefined | 'timeout'): void => {
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      signal.removeEventListener('abort', onEnd);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const nl = buffered.indexOf(0x0a);
      if (nl < 0) return;
      stdin.pause();
      const rest = buffered.subarray(nl + 1);
      if (rest.length) stdin.unshift(rest);
      finish(buffered.subarray(0, nl).toString('utf8').replace(/\r$/, ''));
    };
    const onEnd = (): void => finish(buffered.length ? buffered.toString('utf8') : undefined);
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    signal.addEventListener('abort', onEnd, { once: true });
  });
}

/** `sudo -l` with no command: what the user may run (listing needs no password when any rule is NOPASSWD). */
async function listPrivileges(ctx: RawToolContext, args: SudoArgs, rules: readonly SudoersRule[], user: string, host: string): Promise<number> {
  const lines = ['(ALL) ALL'];
  for (const rule of rules) {
    for (const c of rule.commands) lines.push(`(root) ${c.nopasswd ? 'NOPASSWD: ' : ''}${c.path}${c.args === undefined ? '' : ` ${c.args || '""'}`}`);
  }
  if (!rules.some((r) => r.commands.some((c) => c.nopasswd)) && !(await authenticate(ctx, args))) return 1;
  ctx.out(Buffer.from(`User ${user} may run the following commands on ${host}:\n${lines.map((l) => `    ${l}\n`).join('')}`));
  return 0;
}
