// dextbench-activator: the activator app's contract (brief) acted out by sysextd on the simulated Mac.
// The simulated activator "signs" with the rig's team (config.teamId) whatever --identity says.
import { isAbsolute, resolve } from 'node:path';
import { BundleNotFound, findDextInApp, readDext } from '../dext-bundle.ts';
import { activate, deactivate, failed, versionOf, type ActivatorEvent } from '../sysext.ts';
import type { Tool } from './context.ts';

const USAGE = 'usage: dextbench-activator activate|deactivate (--dext <X.dext> | --app <Y.app>) --bundle <bundle.id> [--identity <identity or ->] [--timeout <seconds>]\n';

interface Args { request: 'activate' | 'deactivate'; dext?: string; app?: string; bundle: string; timeout: number }

function parseArgs(argv: string[]): Args | string {
  const [request, ...rest] = argv;
  if (request !== 'activate' && request !== 'deactivate') return 'expected activate or deactivate';
  const opts: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const key = rest[i]!;
    if (!['--dext', '--app', '--bundle', '--identity', '--timeout'].includes(key)) return `unknown option ${key}`;
    const value = rest[++i];
    if (value === undefined) return `${key} needs a value`;
    opts[key.slice(2)] = value;
  }
  if (!opts['bundle']) return '--bundle is required';
  if (!!opts['dext'] === !!opts['app']) return 'give exactly one of --dext or --app';
  const timeout = opts['timeout'] === undefined ? 60 : Number(opts['timeout']);
  if (!(timeout > 0)) return '--timeout must be a positive number of seconds';
  return { request, dext: opts['dext'], app: opts['app'], bundle: opts['bundle'], timeout };
}

export const activator: Tool = async ({ mac, argv, cwd, out, err }) => {
  // As the real launcher: its usage on stdout, exit 0 (how doctor sees that the activator is installed).
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) { out(USAGE); return 0; }
  const args = parseArgs(argv);
  if (typeof args === 'string') { err(`dextbench-activator: ${args}\n${USAGE}`); return 64; }
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  let code = 1;
  const emit = (e: ActivatorEvent): void => {
    out(JSON.stringify(e) + '\n');
    code = e['event'] === 'finished' ? 0 : e['event'] === 'needsUserApproval' ? 3 : e['event'] === 'failed' ? 1 : code;
  };

  const dextPath = args.dext ? abs(args.dext) : findDextInApp(abs(args.app!), args.bundle);
  let info;
  try {
    if (!dextPath) throw new BundleNotFound('not in the app');
    info = readDext(dextPath);
    if (info.bundle !== args.bundle) throw new BundleNotFound(`bundle is ${info.bundle}`);
  } catch (e) {
    if (!(e instanceof BundleNotFound)) throw e;
    info = undefined;
  }
  emit({ event: 'submitted', request: args.request, bundle: args.bundle, ...(info ? { version: versionOf(info) } : {}) });

  let work: Promise<void>;
  if (args.request === 'deactivate') work = deactivate(mac, args.bundle, emit);
  else if (!info) { emit(failed(args.bundle, 'extensionNotFound', 'Extension not found in App bundle')); return code; }
  else {
    const inApplications = !!args.app && abs(args.app).startsWith('/Applications/');
    work = activate(mac, { info, teamId: mac.config.teamId, inApplications }, emit);
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), args.timeout * 1000); });
  const result = await Promise.race([work, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    // The request is left to sysextd; the activator gives up waiting, as the real one does at --timeout.
    emit(failed(args.bundle, 'requestCanceled', `no answer within ${args.timeout}s`));
  }
  return code;
};
