// kill: only the simulated Mac's dext and ES/NE extension processes exist here; killing one
// crashes it (a dext rematches, an extension is started again by launchd).
import { crashExtensionProcess, extensionProcesses } from '../extension-processes.ts';
import { crashDext, SIGNALS } from '../matching.ts';
import type { Tool } from './context.ts';

function signalName(spec: string): string | undefined {
  const s = spec.toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(s)) {
    if (s === '0') return '0';
    return Object.entries(SIGNALS).find(([, n]) => String(n) === s)?.[0];
  }
  return s in SIGNALS ? s : undefined;
}

export const kill: Tool = ({ mac, argv, err }) => {
  let signal = 'TERM';
  const args = [...argv];
  if (args[0] === '-s') {
    args.shift();
    const name = signalName(args.shift() ?? '');
    if (!name) { err(`kill: unknown signal; kill -l lists signals\n`); return 1; }
    signal = name;
  } else if (args[0]?.startsWith('-') && args[0] !== '--') {
    const name = signalName(args.shift()!.slice(1));
    if (!name) { err(`kill: unknown signal; kill -l lists signals\n`); return 1; }
    signal = name;
  }
  if (args[0] === '--') args.shift();
  if (args.length === 0) { err('usage: kill [-s signal_name] pid ...\n'); return 2; }
  let status = 0;
  for (const arg of args) {
    const pid = /^\d+$/.test(arg) ? Number(arg) : undefined;
    const dext = mac.state.dexts.find((d) => d.pid === pid);
    const extension = extensionProcesses(mac).find((p) => p.pid === pid);
    if (!dext && !extension) { err(`kill: ${arg}: No such process\n`); status = 1; continue; }
    // Signal 0 only checks that the process exists.
    if (signal === '0') continue;
    if (dext) crashDext(mac, dext, signal);
    else crashExtensionProcess(mac, extension!);
  }
  mac.settle();
  return status;
};
