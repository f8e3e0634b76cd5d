// pgrep: the simulated Mac's processes that dextbench looks for, its dexts and its ES/NE system
// extensions. Matches the pattern (an extended regular expression) against the process name, or
// with -f against the full command line; prints pids one per line; exit 0 when one matched, 1 when
// none, 2 on a usage error (pgrep(1) on macOS). The name is the executable's basename cut to
// MAXCOMLEN (16), as p_comm holds it.
import { extensionExecutablePath, extensionProcesses } from '../extension-processes.ts';
import { dextSource } from '../matching.ts';
import type { Tool } from './context.ts';

const USAGE = 'usage: pgrep [-Lfilnoqvx] [-d delim] [-F pidfile] [-G gid]\n' +
  '             [-P ppid] [-U uid] [-g pgrp] [-t tty] [-u euid] pattern ...\n';
const MAXCOMLEN = 16;

interface SimProcess { pid: number; commandLine: string }

export const pgrep: Tool = ({ mac, argv, out, err }) => {
  let full = false, exact = false, list = false, invert = false, ignoreCase = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { i++; break; }
    if (!arg.startsWith('-') || arg === '-') break;
    for (const flag of arg.slice(1)) {
      if (flag === 'f') full = true;
      else if (flag === 'x') exact = true;
      else if (flag === 'l') list = true;
      else if (flag === 'v') invert = true;
      else if (flag === 'i') ignoreCase = true;
      else { err(`pgrep: illegal option -- ${flag}\n${USAGE}`); return 2; }
    }
  }
  const patterns = argv.slice(i);
  if (patterns.length === 0) { err(USAGE); return 2; }
  let regexes: RegExp[];
  try {
    regexes = patterns.map((p) => new RegExp(exact ? `^(?:${p})$` : p, ignoreCase ? 'i' : ''));
  } catch (e) {
    err(`pgrep: Cannot compile regular expression \`${patterns[0]}' (${(e as Error).message})\n`);
    return 2;
  }
  const processes: SimProcess[] = [
    ...mac.state.dexts.map((d) => ({ pid: d.pid, commandLine: dextSource(d).processImagePath })),
    ...extensionProcesses(mac).map((p) => ({ pid: p.pid, commandLine: extensionExecutablePath(p) })),
  ].sort((a, b) => a.pid - b.pid);
  const matched = processes.filter((proc) => {
    const subject = full ? proc.commandLine : proc.commandLine.split('/').at(-1)!.slice(0, MAXCOMLEN);
    return regexes.some((r) => r.test(subject)) !== invert;
  });
  for (const proc of matched) out(list ? `${proc.pid} ${full ? proc.commandLine : proc.commandLine.split('/').at(-1)!.slice(0, MAXCOMLEN)}\n` : `${proc.pid}\n`);
  return matched.length > 0 ? 0 : 1;
};
