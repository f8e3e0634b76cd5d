// sysctl on the simulated Mac: `kern.boottime` only, which a reboot changes. Its form is BSD
// sysctl's S_timeval (`{ sec = N, usec = N } ` then ctime() without the newline); not in the
// reference, so unconfirmed for macOS, as is the unknown-oid line.
import type { Tool } from './context.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** C's ctime() without its newline, in local time: `Tue Nov 14 22:13:20 2023`. */
function ctime(date: Date): string {
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2)} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${date.getFullYear()}`;
}

export const sysctl: Tool = ({ mac, argv, out, err }) => {
  const valueOnly = argv[0] === '-n';
  const names = valueOnly ? argv.slice(1) : argv;
  if (names.length === 0 || names.some((n) => n.startsWith('-'))) {
    err('usage: sysctl [-bdehiNnoqx] name[=value] ...\n       sysctl [-bdehNnoqx] -a\n');
    return 1;
  }
  let status = 0;
  for (const name of names) {
    if (name !== 'kern.boottime') {
      err(`sysctl: unknown oid '${name}'\n`);
      status = 1;
      continue;
    }
    const ms = mac.state.bootTimeMs;
    const value = `{ sec = ${Math.floor(ms / 1000)}, usec = ${(ms % 1000) * 1000} } ${ctime(new Date(ms))}`;
    out(valueOnly ? `${value}\n` : `${name}: ${value}\n`);
  }
  return status;
};
