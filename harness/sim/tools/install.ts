// install(1) as root on the simulated Mac, reached only through its sudo (a shim named install would
// shadow this machine's own install for every command). It copies files onto the Mac's disk: into
// /etc/sudoers.d (kept in the Mac's state dir) or elsewhere inside that state dir; any other target
// is this machine's and is refused.
// BSD install's usage line is from its man page; its error words and exit status 71 (EX_OSERR) are
// unconfirmed.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { onDisk, sudoersDir } from '../disk.ts';
import type { Tool } from './context.ts';

const USAGE = 'usage: install [-bCcpSsUv] [-f flags] [-g group] [-m mode] [-o owner] file1 file2\n' +
  '       install [-bCcpSsUv] [-f flags] [-g group] [-m mode] [-o owner] file1 ... fileN directory\n';
const EX_USAGE = 64;
const EX_OSERR = 71;

export const install: Tool = ({ mac, argv, cwd, err }) => {
  let mode = 0o755;
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { operands.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { operands.push(arg); continue; }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!;
      if ('bCcpSsUv'.includes(c)) continue;
      if (!'fgmo'.includes(c)) { err(`install: illegal option -- ${c}\n${USAGE}`); return EX_USAGE; }
      const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
      if (value === undefined) { err(`install: option requires an argument -- ${c}\n${USAGE}`); return EX_USAGE; }
      // Owner, group and flags: every file the simulated root writes is the Mac's own.
      if (c === 'm') {
        if (!/^[0-7]{1,4}$/.test(value)) { err(`install: invalid file mode: ${value}\n`); return EX_USAGE; }
        mode = parseInt(value, 8);
      }
      break;
    }
  }
  if (operands.length < 2) { err(USAGE); return EX_USAGE; }
  // /etc/sudoers.d is there on every Mac.
  mkdirSync(sudoersDir(mac), { recursive: true });
  const target = operands.at(-1)!;
  const sources = operands.slice(0, -1);
  const to = onDisk(mac, cwd, target);
  const intoDir = isDir(to.local);
  if (sources.length > 1 && !intoDir) { err(`install: ${target}: Not a directory\n`); return EX_OSERR; }
  for (const source of sources) {
    const dest = intoDir ? onDisk(mac, cwd, join(target, basename(source))) : to;
    if (!dest.writable) {
      err(`install: ${dest.local}: the simulated Mac writes only its own disk (/etc/sudoers.d and ${mac.stateDir}); refusing to write this machine's file\n`);
      return EX_OSERR;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(onDisk(mac, cwd, source).local);
    } catch (e) {
      err(`install: ${source}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      return EX_OSERR;
    }
    // Written aside and renamed, as BSD install does: sudo never reads half a drop-in (it skips names with a '.').
    const tmp = join(dirname(dest.local), `INS@${process.pid}.${basename(dest.local)}`);
    try {
      writeFileSync(tmp, bytes);
      chmodSync(tmp, mode);
      renameSync(tmp, dest.local);
    } catch (e) {
      rmSync(tmp, { force: true });
      err(`install: ${target}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      return EX_OSERR;
    }
  }
  return 0;
};

function isDir(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}
