// dextbench-activator: the activator app's contract (dext-fixtures/activator/README.md, contract §3)
// acted out by sysextd and NEFilterManager on the simulated Mac.
// The simulated activator "signs" with the rig's team (config.teamId) whatever --identity says.
import { isAbsolute, resolve } from 'node:path';
import { filterConfiguration, FILTER_ERRORS, saveFilter } from '../content-filter.ts';
import { BundleNotFound, findExtensionInApp, readExtensionBundle } from '../dext-bundle.ts';
import { activate, deactivate, failed, versionOf, type ActivatorEvent } from '../sysext.ts';
import { sleepOrAbort, type Tool, type ToolContext } from './context.ts';

const USAGE =
  'usage: dextbench-activator activate|deactivate (--dext <X.dext> | --sysext <X.systemextension> | --app <Y.app>) --bundle <bundle.id> [--identity <identity or ->] [--timeout <seconds>]\n' +
  '       dextbench-activator filter enable|disable|status --bundle <filter provider bundle.id> [--name <name>] [--timeout <seconds>]\n';

const EXIT = { finished: 0, failed: 1, needsApproval: 3, usage: 64 } as const;

type Options = Record<string, string>;

/** `--key value` or `--key=value` pairs among `allowed`. */
function parseOptions(rest: string[], allowed: string[]): Options | string {
  const opts: Options = {};
  for (let i = 0; i < rest.length; i++) {
    const [key, inline] = rest[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!allowed.includes(key)) return `unknown option ${rest[i]}`;
    const value = inline ?? rest[++i];
    if (value === undefined) return `${key} needs a value`;
    opts[key.slice(2)] = value;
  }
  return opts;
}

function timeoutOf(opts: Options): number | string {
  const timeout = opts['timeout'] === undefined ? 60 : Number(opts['timeout']);
  return timeout > 0 ? timeout : '--timeout must be a positive number of seconds';
}

export const activator: Tool = async (ctx) => {
  const { argv, out, err } = ctx;
  // As the real launcher: its usage on stdout, exit 0 (how doctor sees that the activator is installed).
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) { out(USAGE); return 0; }
  const usage = (why: string): number => { err(`dextbench-activator: ${why}\n${USAGE}`); return EXIT.usage; };
  const [request, ...rest] = argv;
  if (request === 'filter') return filter(ctx, rest, usage);
  if (request !== 'activate' && request !== 'deactivate') return usage('expected activate, deactivate or filter');
  const opts = parseOptions(rest, ['--dext', '--sysext', '--app', '--bundle', '--identity', '--timeout']);
  if (typeof opts === 'string') return usage(opts);
  if (!opts['bundle']) return usage('--bundle is required');
  if (['dext', 'sysext', 'app'].filter((k) => opts[k]).length !== 1) return usage('give exactly one of --dext, --sysext or --app');
  const timeout = timeoutOf(opts);
  if (typeof timeout === 'string') return usage(timeout);
  return submit(ctx, request, opts, opts['bundle'], timeout);
};

async function submit(ctx: ToolContext, request: 'activate' | 'deactivate', opts: Options, bundle: string, timeout: number): Promise<number> {
  const { mac, cwd, out } = ctx;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  let code: number = EXIT.failed;
  const emit = (e: ActivatorEvent): void => {
    out(JSON.stringify(e) + '\n');
    code = e['event'] === 'finished' ? EXIT.finished : e['event'] === 'needsUserApproval' ? EXIT.needsApproval : e['event'] === 'failed' ? EXIT.failed : code;
  };

  // A bare build is wrapped into the app at Contents/Library/SystemExtensions/<bundle>.<ext>; here
  // the build is read where it is.
  const bare = opts['dext'] ?? opts['sysext'];
  const bundlePath = bare !== undefined ? abs(bare) : findExtensionInApp(abs(opts['app']!), bundle);
  let info;
  try {
    if (!bundlePath) throw new BundleNotFound('not in the app');
    info = readExtensionBundle(bundlePath);
    if (info.bundle !== bundle) throw new BundleNotFound(`bundle is ${info.bundle}`);
  } catch (e) {
    if (!(e instanceof BundleNotFound)) throw e;
    info = undefined;
  }
  emit({ event: 'submitted', request, bundle, ...(info ? { version: versionOf(info) } : {}) });

  let work: Promise<void>;
  if (request === 'deactivate') work = deactivate(mac, bundle, emit);
  else if (!info) { emit(failed(bundle, 'extensionNotFound', 'Extension not found in App bundle')); return code; }
  else {
    const inApplications = !!opts['app'] && abs(opts['app']).startsWith('/Applications/');
    work = activate(mac, { info, teamId: mac.config.teamId, inApplications }, emit);
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeout * 1000); });
  const result = await Promise.race([work, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    // The request is left to sysextd; the activator gives up waiting, as the real one does at --timeout.
    emit(failed(bundle, 'requestCanceled', `no answer within ${timeout}s`));
  }
  return code;
}

/** `filter enable|disable|status`: NEFilterManager's configuration for one filter provider (contract §3). */
async function filter(ctx: ToolContext, rest: string[], usage: (why: string) => number): Promise<number> {
  const { mac, out, signal } = ctx;
  const [verb, ...optionArgs] = rest;
  if (verb !== 'enable' && verb !== 'disable' && verb !== 'status') return usage('expected filter enable, disable or status');
  const opts = parseOptions(optionArgs, ['--bundle', '--name', '--timeout']);
  if (typeof opts === 'string') return usage(opts);
  const bundle = opts['bundle'];
  if (!bundle) return usage('--bundle is required');
  const timeout = timeoutOf(opts);
  if (typeof timeout === 'string') return usage(timeout);
  const print = (e: Record<string, unknown>): void => out(JSON.stringify(e) + '\n');

  if (verb === 'status') {
    const saved = filterConfiguration(mac, bundle);
    print({ event: 'filterStatus', bundle, enabled: saved?.enabled ?? false, configured: saved !== undefined });
    return EXIT.finished;
  }
  const name = opts['name'] ?? `dextbench ${bundle}`;
  const enabled = verb === 'enable';
  const outcome = await saveFilter(mac, { bundle, name, enabled }, (ms) => sleepOrAbort(ms, signal), timeout * 1000);
  if (outcome.saved) {
    print({ event: 'filterSaved', bundle, enabled });
    return EXIT.finished;
  }
  if ('needsApproval' in outcome) {
    print({ event: 'filterNeedsApproval', bundle, message: `saveToPreferences is waiting for the user to allow "${name}" to filter network content (no answer within ${timeout}s)` });
    return EXIT.needsApproval;
  }
  print({ event: 'failed', bundle, domain: 'NEFilterErrorDomain', code: FILTER_ERRORS[outcome.error], name: outcome.error, message: outcome.message });
  return EXIT.failed;
}
