// The sudoers policy of the simulated Mac: macOS's own /etc/sudoers (root and %admin may run
// anything, with a password), then the drop-ins in /etc/sudoers.d on the Mac's disk, last match
// wins (as in sudo). The simulated user is an admin, as the first account on a Mac is.
// Only the rule form dextbench writes is understood, plus comments, includes and Defaults lines:
//   <user|%group|ALL>[,…] <host|ALL> = [(runas)] [NOPASSWD:|PASSWD:] /abs/path [args], …
// Aliases (Cmnd_Alias…) are not modelled and read as syntax errors here, unlike real sudo.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { sudoersDir } from './disk.ts';
import type { Mac } from './mac.ts';

/**
 * Where each command sudo may run lives on a Mac: rules name commands by these paths. One table,
 * by tool name; uhubctl is Homebrew's on Apple silicon.
 */
export const COMMAND_PATHS: Readonly<Record<string, string>> = {
  systemextensionsctl: '/usr/bin/systemextensionsctl',
  kill: '/bin/kill',
  uhubctl: '/opt/homebrew/bin/uhubctl',
  shutdown: '/sbin/shutdown',
  reboot: '/sbin/reboot',
  eslogger: '/usr/bin/eslogger',
  profiles: '/usr/bin/profiles',
  install: '/usr/bin/install',
  visudo: '/usr/sbin/visudo',
  ioreg: '/usr/sbin/ioreg',
  log: '/usr/bin/log',
  csrutil: '/usr/bin/csrutil',
  sw_vers: '/usr/bin/sw_vers',
  sysctl: '/usr/sbin/sysctl',
  'xcode-select': '/usr/bin/xcode-select',
  swiftc: '/usr/bin/swiftc',
};

/** The tool name of a command as sudo is given it: a name, or one of the paths above. */
export function toolNamed(command: string): string | undefined {
  if (!command.includes('/')) return command in COMMAND_PATHS ? command : undefined;
  return Object.keys(COMMAND_PATHS).find((name) => COMMAND_PATHS[name] === command);
}

export interface SudoersCommand {
  /** An absolute path, or ALL. */
  path: string;
  /** The argument pattern: undefined = any arguments, '' = none (`""`). */
  args?: string;
  nopasswd: boolean;
}

export interface SudoersRule {
  users: string[];
  host: string;
  commands: SudoersCommand[];
}

export type SudoersParse = { ok: true; rules: SudoersRule[] } | { ok: false; line: number };

const USER = /^(ALL|%?[A-Za-z_][A-Za-z0-9_.-]*)$/;
const HOST = /^(ALL|[A-Za-z0-9][A-Za-z0-9_.-]*)$/;
const RUNAS = /^\(\s*(ALL|root)(\s*:\s*(ALL|wheel|admin|root))?\s*\)\s*/;
const TAG = /^(NOPASSWD|PASSWD|SETENV|NOSETENV|NOEXEC|EXEC|LOG_INPUT|NOLOG_INPUT|LOG_OUTPUT|NOLOG_OUTPUT):\s*/;

/** Parses a sudoers file; a line it does not accept is a syntax error at that line (1-based). */
export function parseSudoers(text: string): SudoersParse {
  const rules: SudoersRule[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i]!;
    // A trailing backslash continues the line.
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!;
    const trimmed = line.trim();
    if (trimmed === '' || /^(#|@)include(dir)?\s+\S/.test(trimmed) || /^Defaults([:@!>]\S*)?(\s|$)/.test(trimmed)) continue;
    if (trimmed.startsWith('#')) continue;
    const rule = parseRule(stripComment(trimmed));
    if (!rule) return { ok: false, line: first };
    rules.push(rule);
  }
  return { ok: true, rules };
}

/** A `#` not escaped starts a comment. */
function stripComment(line: string): string {
  const m = /(^|[^\\])#/.exec(line);
  return m ? line.slice(0, m.index + m[1]!.length).trim() : line;
}

function parseRule(line: string): SudoersRule | undefined {
  const m = /^(\S+)\s+(\S+?)\s*=\s*(.+)$/.exec(line);
  if (!m) return undefined;
  const users = m[1]!.split(',');
  if (!users.every((u) => USER.test(u)) || !HOST.test(m[2]!)) return undefined;
  const commands: SudoersCommand[] = [];
  let nopasswd = false;
  for (let item of splitUnescaped(m[3]!, ',')) {
    item = item.trim();
    const runas = RUNAS.exec(item);
    if (runas) item = item.slice(runas[0].length);
    for (let tag = TAG.exec(item); tag; tag = TAG.exec(item)) {
      if (tag[1] === 'NOPASSWD') nopasswd = true;
      if (tag[1] === 'PASSWD') nopasswd = false;
      item = item.slice(tag[0].length);
    }
    if (item === 'ALL') { commands.push({ path: 'ALL', nopasswd }); continue; }
    const c = /^(\/\S+)(?:\s+(.*))?$/.exec(item);
    if (!c) return undefined;
    const args = c[2]?.trim();
    commands.push({ path: unescape(c[1]!), ...(args === undefined ? {} : { args: args === '""' ? '' : unescape(args) }), nopasswd });
  }
  return { users, host: m[2]!, commands };
}

/** Splits on `sep` not preceded by a backslash. */
function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) { current += text[i]! + text[++i]!; continue; }
    if (text[i] === sep) { parts.push(current); current = ''; continue; }
    current += text[i];
  }
  parts.push(current);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\([,:=\\ ])/g, '$1');
}

/** sudoers argument patterns are shell globs over the arguments joined by spaces. */
function argsMatch(pattern: string | undefined, args: string[]): boolean {
  if (pattern === undefined) return true;
  if (pattern === '') return args.length === 0;
  const re = new RegExp(`^${pattern.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 's');
  return re.test(args.join(' '));
}

/** Who runs sudo on the simulated Mac: this machine's user, an admin of the Mac. */
export interface SudoUser {
  name: string;
  groups: string[];
}

export function simUser(): SudoUser {
  return { name: userInfo().username, groups: ['admin', 'staff', 'everyone'] };
}

/** macOS's own /etc/sudoers. */
const BASE_RULES: SudoersRule[] = [
  { users: ['root'], host: 'ALL', commands: [{ path: 'ALL', nopasswd: false }] },
  { users: ['%admin'], host: 'ALL', commands: [{ path: 'ALL', nopasswd: false }] },
];

export function appliesTo(rule: SudoersRule, user: SudoUser): boolean {
  return rule.users.some((u) => u === 'ALL' || u === user.name || (u.startsWith('%') && user.groups.includes(u.slice(1))));
}

export type Verdict = 'nopasswd' | 'passwd' | 'denied';

/** What the policy says about running `path args…` as root: the last matching command decides. */
export function decide(rules: readonly SudoersRule[], user: SudoUser, path: string, args: string[]): Verdict {
  let verdict: Verdict = 'denied';
  for (const rule of [...BASE_RULES, ...rules]) {
    if (!appliesTo(rule, user)) continue;
    for (const command of rule.commands) {
      if ((command.path === 'ALL' || command.path === path) && argsMatch(command.args, args)) verdict = command.nopasswd ? 'nopasswd' : 'passwd';
    }
  }
  return verdict;
}

export type Policy = { ok: true; rules: SudoersRule[] } | { ok: false; file: string; line: number };

/**
 * The drop-ins on the Mac's disk, in the order sudo reads them: sorted, skipping names that contain
 * a '.' or end in '~' (man sudoers, #includedir). One that does not parse spoils the whole policy.
 */
export function loadPolicy(mac: Mac): Policy {
  // The rig's passwordlessSudo: the rules a provisioned drop-in would hold, read before the files.
  const rules: SudoersRule[] = mac.config.passwordlessSudo.length
    ? [{ users: ['%admin'], host: 'ALL', commands: mac.config.passwordlessSudo.map((path) => ({ path, nopasswd: true })) }]
    : [];
  for (const name of dropInNames(mac)) {
    let text: string;
    try { text = readFileSync(join(sudoersDir(mac), name), 'utf8'); } catch { continue; }
    const parsed = parseSudoers(text);
    if (!parsed.ok) return { ok: false, file: `/etc/sudoers.d/${name}`, line: parsed.line };
    rules.push(...parsed.rules);
  }
  return { ok: true, rules };
}

/** The drop-ins' file names in /etc/sudoers.d, in the order sudo reads them. */
export function dropInNames(mac: Mac): string[] {
  try {
    return readdirSync(sudoersDir(mac)).filter((n) => !n.includes('.') && !n.endsWith('~')).sort();
  } catch {
    return [];
  }
}
