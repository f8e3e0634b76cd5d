// eslogger on the simulated Mac (macos-formats.md §5.1): `eslogger <events…>` streams the Mac's
// NOTIFY events as JSON Lines until it is stopped; `eslogger --list-events` lists the names.
// Root only, and the responsible process needs Full Disk Access (sim config tcc.fullDiskAccess
// holds `eslogger`, as a TCC payload for the terminal would): otherwise es_new_client fails and
// eslogger exits 1 naming the result. The full stderr line is not in the reference: these lines
// carry the constant, which is what callers match. An unknown name refuses the whole list (§5.3);
// that message's text is unconfirmed.
import { subscribeEs } from '../es.ts';
import { esloggerLine, EVENT_TYPES, LATER_EVENTS, type Sequence } from '../es-json.ts';
import { hasFullDiskAccess } from '../profile-grants.ts';
import { sleepOrAbort, type Tool } from './context.ts';

const USAGE = 'Usage: eslogger [--oslog] [--format format] [--oslog-subsystem subsystem] [--oslog-category category] event [...]\n       eslogger --list-events\n';

/** The events the simulated Mac raises (its probe's actions); the other names are accepted and stay quiet. */
const RAISED = new Set(['exec', 'fork', 'exit', 'open', 'create', 'unlink', 'rename', 'signal', 'mount']);

export const eslogger: Tool = async ({ mac, argv, out, err, signal, asRoot }) => {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--list-events') {
      // Listing needs no privilege (§5.3).
      out([...Object.keys(EVENT_TYPES), ...LATER_EVENTS].sort().map((n) => `${n}\n`).join(''));
      return 0;
    }
    if (arg === '--format') {
      const format = argv[++i];
      if (format !== 'json') { err(`eslogger: unsupported format: ${format ?? '(none)'}\n${USAGE}`); return 64; }
      continue;
    }
    if (arg === '--oslog' || arg === '--oslog-subsystem' || arg === '--oslog-category') {
      err('eslogger: the simulated Mac writes JSON Lines to standard output only (no --oslog)\n');
      return 64;
    }
    if (arg.startsWith('-')) { err(`eslogger: unknown option ${arg}\n${USAGE}`); return 64; }
    names.push(arg);
  }
  if (names.length === 0) { err(USAGE); return 64; }
  const known = new Set([...Object.keys(EVENT_TYPES), ...LATER_EVENTS]);
  const unknown = names.find((n) => !known.has(n));
  if (unknown !== undefined) { err(`eslogger: unknown event: ${unknown}\n`); return 1; }
  if (!asRoot) { err('eslogger: failed to create ES client: ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED\n'); return 1; }
  if (!hasFullDiskAccess(mac, 'eslogger')) { err('eslogger: failed to create ES client: ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED\n'); return 1; }

  const version = Number(mac.config.macos.productVersion.split('.')[0]) >= 26 ? 10 : 9;
  const wanted = new Set(names.filter((n) => RAISED.has(n)));
  const seq: Sequence = { global: 0n, perType: new Map() };
  const threadId = 400000 + (mac.state.nextPid % 100000);
  const unsubscribe = subscribeEs(mac, (e) => {
    if (!wanted.has(e.type)) return;
    const machTime = BigInt(Math.max(0, Date.now() - mac.state.bootTimeMs)) * 24000n;
    out(`${esloggerLine(e, version, seq, machTime, threadId)}\n`);
  });
  try {
    // Runs until stopped (the shim disconnects); bounded by a day so every wait has a deadline.
    await sleepOrAbort(86_400_000, signal);
  } finally {
    unsubscribe();
  }
  return 0;
};
