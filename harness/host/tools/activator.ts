// The activator command (`dextbench-activator activate|deactivate …`): submits an
// OSSystemExtensionRequest and prints one JSON object per delegate callback. Exit codes: 0 finished,
// 1 failed, 3 needs user approval (the request stays pending), 64 usage error.
// `dextbench-activator filter enable|disable|status` saves or reads the NE content filter
// configuration (NEFilterManager) of a filter provider, with the same JSON lines and exit codes.
import type { Exec } from '../exec.ts';
import { formatArgv } from '../exec.ts';
import { oneLine, toolSaid, ToolError } from './tool-error.ts';

export type ActivationResult = 'completed' | 'willCompleteAfterReboot' | 'needsUserApproval' | 'failed';

/** One delegate callback as printed: `{"event":"submitted","bundle":…,"version":"1.0.0/1"}`. */
export type ActivatorEvent = { event: string } & Record<string, unknown>;

export interface ActivationError {
  code: number;
  name: string;
  message: string;
  domain?: string;
}

export interface ActivationOutcome {
  result: ActivationResult;
  events: ActivatorEvent[];
  error?: ActivationError;
  exitCode: number | null;
}

export interface ActivationRequest {
  /** A bare .dext build (the activator wraps it into its app). */
  dext?: string;
  /** An app carrying the extension in Contents/Library/SystemExtensions. */
  app?: string;
  /** A bare .systemextension build, ES or NE (the activator wraps it into its app). */
  systemExtension?: string;
  bundle: string;
  /** codesign identity for the wrapper, or "-" for ad hoc. */
  identity?: string;
  timeoutMs: number;
}

export type FilterVerb = 'enable' | 'disable' | 'status';

export interface FilterOptions {
  /** The configuration's UserDefinedName (default "dextbench <bundle>"). */
  name?: string;
  /** How long saveToPreferences may wait for the user's answer. */
  timeoutMs: number;
}

/** NEFilterManagerError names by raw value (contract §3). */
export const NE_FILTER_ERRORS: Record<number, string> = {
  1: 'configurationInvalid', 2: 'configurationDisabled', 3: 'configurationStale',
  4: 'configurationCannotBeRemoved', 5: 'configurationPermissionDenied', 6: 'configurationInternalError',
};

export type FilterOutcome =
  | { result: 'saved'; bundle: string; enabled: boolean; events: ActivatorEvent[] }
  | { result: 'status'; bundle: string; enabled: boolean; configured: boolean; events: ActivatorEvent[] }
  /** Nobody allowed "… would like to filter network content" in time; `fix` says how a rig avoids the prompt. */
  | { result: 'needsApproval'; bundle: string; message: string; fix: string; events: ActivatorEvent[] }
  | { result: 'failed'; bundle: string; error: ActivationError; events: ActivatorEvent[] };

export interface Activator {
  activate(request: ActivationRequest): Promise<ActivationOutcome>;
  deactivate(request: ActivationRequest): Promise<ActivationOutcome>;
  filter(verb: FilterVerb, bundle: string, options: FilterOptions): Promise<FilterOutcome>;
}

/** What takes the filter prompt away on an unattended rig. */
export function filterApprovalFix(bundle: string): string {
  return `install the com.apple.webcontent-filter payload (dextbench profile --ne-filter ${bundle}), or click Allow at the Mac`;
}

/** OSSystemExtensionError codes (driverkit-rigs-es-ne.md §B.3), for events that give only a code. */
export const OS_SYSTEM_EXTENSION_ERRORS: Record<number, string> = {
  1: 'unknown', 2: 'missingEntitlement', 3: 'unsupportedParentBundleLocation', 4: 'extensionNotFound',
  5: 'extensionMissingIdentifier', 6: 'duplicateExtensionIdentifer', 7: 'unknownExtensionCategory',
  8: 'codeSignatureInvalid', 9: 'validationFailed', 10: 'forbiddenBySystemPolicy', 11: 'requestCanceled',
  12: 'requestSuperseded', 13: 'authorizationRequired',
};

/** Time the activator may spend around the request itself (wrapping, codesigning, launching). */
const OVERHEAD_MS = 30_000;
const EXIT_USAGE = 64;
const EXIT_NOT_FOUND = 127;

export function activator(exec: Exec, command: string[]): Activator {
  if (command.length === 0) throw new ToolError('the rig\'s activator command is empty');
  const submit = async (verb: 'activate' | 'deactivate', request: ActivationRequest): Promise<ActivationOutcome> => {
    const builds = [['--dext', request.dext], ['--sysext', request.systemExtension], ['--app', request.app]]
      .filter((pair): pair is [string, string] => pair[1] !== undefined);
    if (builds.length !== 1) {
      throw new ToolError(`${verb} ${request.bundle}: give exactly one of a .dext, a .systemextension or an .app`);
    }
    const seconds = Math.max(1, Math.ceil(request.timeoutMs / 1000));
    const argv = [
      ...command, verb,
      ...builds[0]!,
      '--bundle', request.bundle,
      ...(request.identity !== undefined ? ['--identity', request.identity] : []),
      '--timeout', String(seconds),
    ];
    const result = await runActivator(argv, seconds, `${verb} ${request.bundle}`);
    const outcome = outcomeOf(result.stdout, result.exitCode);
    // No delegate callback decided it: the activator itself failed (wrapping, codesign, launch).
    if (outcome.result === 'failed' && !outcome.error) {
      const said = oneLine(result.stderr);
      throw new ToolError(`${verb} ${request.bundle}: ${formatArgv(argv)} exited with ${result.exitCode}${said ? `: ${said}` : ''}` +
        `${outcome.events.length ? ` after ${outcome.events.map((e) => e.event).join(', ')}` : ' before any request callback'}`, result);
    }
    return outcome;
  };
  const runActivator = async (argv: string[], seconds: number, what: string) => {
    const result = await exec.run(argv, { timeoutMs: seconds * 1000 + OVERHEAD_MS, nothrow: true });
    if (result.exitCode === EXIT_NOT_FOUND) {
      throw new ToolError(`${command[0]} is not installed on ${exec.where}: build and install the activator ` +
        '(see dext-fixtures/activator/README.md), or set activator.command in the rig', result);
    }
    if (result.exitCode === EXIT_USAGE) throw new ToolError(`${formatArgv(argv)}: usage error: ${oneLine(result.stderr) || oneLine(result.stdout)}`, result);
    if (result.timedOut || result.signal) throw new ToolError(`${what}: ${formatArgv(argv)} ${toolSaid(result)}`, result);
    return result;
  };
  const filter = async (verb: FilterVerb, bundle: string, options: FilterOptions): Promise<FilterOutcome> => {
    const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const argv = [...command, 'filter', verb, '--bundle', bundle, ...(options.name !== undefined ? ['--name', options.name] : []), '--timeout', String(seconds)];
    const result = await runActivator(argv, seconds, `filter ${verb} ${bundle}`);
    const outcome = filterOutcomeOf(bundle, result.stdout, result.exitCode);
    if (outcome) return outcome;
    const said = oneLine(result.stderr);
    throw new ToolError(`filter ${verb} ${bundle}: ${formatArgv(argv)} exited with ${result.exitCode}${said ? `: ${said}` : ''} without a filter event`, result);
  };
  return {
    activate: (request) => submit('activate', request),
    deactivate: (request) => submit('deactivate', request),
    filter,
  };
}

/** The outcome of a `filter` verb from its JSON lines; undefined when none decided it. */
export function filterOutcomeOf(bundle: string, stdout: string, exitCode: number | null): FilterOutcome | undefined {
  const events = parseActivatorEvents(stdout);
  const failed = events.find((e) => e.event === 'failed');
  if (failed) {
    const code = typeof failed.code === 'number' ? failed.code : Number(failed.code ?? NaN);
    const name = typeof failed.name === 'string' ? failed.name : NE_FILTER_ERRORS[code] ?? 'unknown';
    return { result: 'failed', bundle, events, error: {
      code: Number.isFinite(code) ? code : 1, name,
      message: typeof failed.message === 'string' ? failed.message : name,
      ...(typeof failed.domain === 'string' ? { domain: failed.domain } : {}),
    } };
  }
  const approval = events.find((e) => e.event === 'filterNeedsApproval');
  if (approval || exitCode === 3) {
    const message = typeof approval?.message === 'string' ? approval.message : 'the filter configuration waits for the user\'s approval';
    return { result: 'needsApproval', bundle, message, fix: filterApprovalFix(bundle), events };
  }
  const saved = events.findLast((e) => e.event === 'filterSaved');
  if (saved && typeof saved.enabled === 'boolean') return { result: 'saved', bundle, enabled: saved.enabled, events };
  const status = events.findLast((e) => e.event === 'filterStatus');
  if (status && typeof status.enabled === 'boolean' && typeof status.configured === 'boolean') {
    return { result: 'status', bundle, enabled: status.enabled, configured: status.configured, events };
  }
  return undefined;
}

/** The outcome the JSON lines tell, with the exit code as a fallback when they are cut short. */
export function outcomeOf(stdout: string, exitCode: number | null): ActivationOutcome {
  const events = parseActivatorEvents(stdout);
  const failed = events.find((e) => e.event === 'failed');
  if (failed) return { result: 'failed', events, error: errorOf(failed), exitCode };
  const finished = events.findLast((e) => e.event === 'finished');
  if (finished && (finished.result === 'completed' || finished.result === 'willCompleteAfterReboot')) {
    return { result: finished.result, events, exitCode };
  }
  if (exitCode === 3 || events.some((e) => e.event === 'needsUserApproval')) return { result: 'needsUserApproval', events, exitCode };
  return { result: 'failed', events, exitCode };
}

/** JSON object lines; anything else the command prints (progress text) is not an event. */
export function parseActivatorEvents(stdout: string): ActivatorEvent[] {
  const events: ActivatorEvent[] = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && typeof (value as { event?: unknown }).event === 'string') events.push(value as ActivatorEvent);
    } catch {
      // A torn line (the command was killed mid-write) carries nothing reliable.
    }
  }
  return events;
}

function errorOf(event: ActivatorEvent): ActivationError {
  const code = typeof event.code === 'number' ? event.code : Number(event.code ?? NaN);
  const name = typeof event.name === 'string' ? event.name : OS_SYSTEM_EXTENSION_ERRORS[code] ?? 'unknown';
  return {
    code: Number.isFinite(code) ? code : 1,
    name,
    message: typeof event.message === 'string' ? event.message : name,
    ...(typeof event.domain === 'string' ? { domain: event.domain } : {}),
  };
}
