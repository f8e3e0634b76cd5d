// shutdown on the simulated Mac: `-r now` restarts it (sysext.ts reboot: terminated extensions are
// gone, devices re-enumerate, the boot time changes) a moment after the command has answered, as
// a real Mac goes down after shutdown printed its line. Root only, as Apple's shutdown.c checks
// first (`shutdown: NOT super-user`); the simulated user is root only through sudo. Halt, sleep
// and later times are refused: a halted simulated Mac would never come back.
import { reboot } from '../sysext.ts';
import type { Tool } from './context.ts';

/** How long after its answer the simulated Mac goes down. */
const GOING_DOWN_MS = 150;
const USAGE = 'usage: shutdown [-] [-h [-u] [-n] | -r [-n] | -s | -k] time [warning-message ...]\n';

export const shutdown: Tool = ({ mac, argv, out, err, asRoot }) => {
  if (!asRoot) { err('shutdown: NOT super-user\n'); return 1; }
  const flags = new Set<string>();
  let i = 0;
  for (; i < argv.length && /^-[hknorsu]+$/.test(argv[i]!); i++) for (const c of argv[i]!.slice(1)) flags.add(c);
  const time = argv[i];
  const modes = ['h', 'r', 's', 'k'].filter((m) => flags.has(m));
  if (time === undefined || time.startsWith('-') || modes.length !== 1) {
    if (modes.length > 1) err('shutdown: incompatible switches -h, -k, -r, and -s\n');
    else if (modes.length === 0) err('shutdown: -h, -r, -s, or -k is required\n');
    err(USAGE);
    return 1;
  }
  if (!flags.has('r')) {
    err(`shutdown: the simulated Mac only restarts (-r): -${modes[0]} would leave nothing to come back\n`);
    return 1;
  }
  if (time.toLowerCase() !== 'now') {
    err(`shutdown: the simulated Mac restarts only now, not at ${time}\n`);
    return 1;
  }
  out('Shutdown NOW!\n\r\nSystem shutdown time has arrived\x07\x07\r\n');
  mac.schedule('shutdown:restart', GOING_DOWN_MS, () => reboot(mac));
  return 0;
};
