// visudo on the simulated Mac: only the check mode, `visudo -c [-q] [-s] [-f file]`, which provisioning
// runs on a drop-in before installing it (a drop-in that does not parse stops every sudo). It accepts
// the rule forms the simulated sudo understands (../sudoers.ts).
// The words ("parsed OK", ">>> … syntax error near line N <<<", "parse error in … near line N") are
// sudo 1.8/1.9's as remembered, not from the reference: unconfirmed.
import { readFileSync } from 'node:fs';
import { onDisk } from '../disk.ts';
import { dropInNames, parseSudoers } from '../sudoers.ts';
import type { Tool } from './context.ts';

const USAGE = 'usage: visudo [-chqsV] [[-f] sudoers ]\n';

export const visudo: Tool = ({ mac, argv, cwd, out, err }) => {
  let check = false;
  let quiet = false;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      if (file !== undefined) { err(USAGE); return 1; }
      file = arg;
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!;
      if (c === 'c') check = true;
      else if (c === 'q') quiet = true;
      else if (c === 's') continue;
      else if (c === 'h') { out(`visudo - safely edit the sudoers file\n\n${USAGE}`); return 0; }
      else if (c === 'f') {
        file = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
        if (file === undefined) { err(`visudo: option requires an argument -- 'f'\n${USAGE}`); return 1; }
        break;
      } else { err(`visudo: invalid option -- '${c}'\n${USAGE}`); return 1; }
    }
  }
  if (!check) {
    err('visudo: the simulated Mac has no editor to run; it checks files with visudo -c [-f file]\n');
    return 1;
  }
  // Without -f: macOS's /etc/sudoers (which parses) and every drop-in it includes.
  const files = file !== undefined ? [file] : ['/etc/sudoers', ...dropInNames(mac).map((n) => `/etc/sudoers.d/${n}`)];
  for (const name of files) {
    if (name === '/etc/sudoers' && file === undefined) {
      if (!quiet) out(`${name}: parsed OK\n`);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(onDisk(mac, cwd, name).local, 'utf8');
    } catch {
      err(`visudo: unable to open ${name}: No such file or directory\n`);
      return 1;
    }
    const parsed = parseSudoers(text);
    if (!parsed.ok) {
      if (!quiet) err(`>>> ${name}: syntax error near line ${parsed.line} <<<\nparse error in ${name} near line ${parsed.line}\n`);
      return 1;
    }
    if (!quiet) out(`${name}: parsed OK\n`);
  }
  return 0;
};
