// log stream / log show (§4): ndjson with the real keys, the default syslog-like style, predicates.
import {
  DEFAULT_HEADER, levelAdmits, parsePredicate, PredicateError, toDefaultLine, toNdjson,
  type LogEntry, type Predicate,
} from '../log.ts';
import { sleepOrAbort, type Tool, type ToolContext } from './context.ts';

type Style = 'ndjson' | 'json' | 'default';
type Level = 'default' | 'info' | 'debug';

interface Options {
  style: Style;
  level: Level;
  predicates: string[];
  startUs?: bigint;
  endUs?: bigint;
  lastMs?: number;
  timeoutMs?: number;
}

class UsageError extends Error {}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseDuration(text: string, opt: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text);
  if (!m) throw new UsageError(`${opt}: expected <num>[s|m|h|d], got "${text}"`);
  return Number(m[1]) * DURATION_UNITS[m[2] || 's']!;
}

/** `YYYY-MM-DD[ HH:MM:SS[.ffffff]][±HHMM]`, local time unless an offset is given. */
function parseDate(text: string, opt: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(?:([+-])(\d{2}):?(\d{2}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${opt}: could not parse date "${text}"`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', sign, oh, om] = m;
  let ms: number;
  if (sign) {
    ms = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s) - (sign === '+' ? 1 : -1) * (+oh! * 60 + +om!) * 60_000;
  } else {
    ms = new Date(+y!, +mo! - 1, +d!, +h, +mi, +s).getTime();
  }
  return BigInt(ms) * 1000n + BigInt(frac.padEnd(6, '0') || '0');
}

function parseOptions(mode: 'stream' | 'show', args: string[]): Options {
  const o: Options = { style: 'default', level: 'default', predicates: [] };
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { inline = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--style': {
        const s = value();
        if (s === 'ndjson' || s === 'json') o.style = s;
        else if (s === 'default' || s === 'syslog' || s === 'compact') o.style = 'default';
        else throw new UsageError(`--style: unknown style "${s}"`);
        break;
      }
      case '--level': {
        const l = value();
        if (l !== 'default' && l !== 'info' && l !== 'debug') throw new UsageError(`--level: unknown level "${l}"`);
        o.level = l;
        break;
      }
      case '--info': if (o.level === 'default') o.level = 'info'; break;
      case '--debug': o.level = 'debug'; break;
      case '--source': case '--color': case '--no-pager': break;
      case '--predicate': o.predicates.push(value()); break;
      case '--start': if (mode !== 'show') throw new UsageError('--start is for log show'); o.startUs = parseDate(value(), arg); break;
      case '--end': if (mode !== 'show') throw new UsageError('--end is for log show'); o.endUs = parseDate(value(), arg); break;
      case '--last': if (mode !== 'show') throw new UsageError('--last is for log show'); o.lastMs = parseDuration(value(), arg); break;
      case '--timeout': if (mode !== 'stream') throw new UsageError('--timeout is for log stream'); o.timeoutMs = parseDuration(value(), arg); break;
      default:
        // An archive path or other positional: the simulated Mac has only its live store.
        throw new UsageError(arg.startsWith('-') ? `unknown option ${arg}` : `log archives are not supported: ${arg}`);
    }
  }
  return o;
}

function compile(predicates: string[]): { matcher: Predicate; joined: string } | null {
  if (predicates.length === 0) return null;
  // Several --predicate options are joined with OR (§4-E).
  const joined = predicates.join(' OR ');
  const parts = predicates.map((p) => parsePredicate(p));
  return { matcher: (e) => parts.some((p) => p(e)), joined };
}

export const log: Tool = async (ctx) => {
  const { argv, err } = ctx;
  const [mode, ...rest] = argv;
  if (mode !== 'stream' && mode !== 'show') {
    err('usage:\n    log <command>\n\ncommands:\n    show            View/search system logs\n    stream          Watch live system logs\n');
    return 64;
  }
  let opts: Options;
  let filter: ReturnType<typeof compile>;
  try {
    opts = parseOptions(mode, rest);
    filter = compile(opts.predicates);
  } catch (e) {
    if (e instanceof PredicateError) {
      // Unconfirmed: the exact text of log's predicate error; it exits 64 like its other usage errors.
      err(`log: Couldn't parse predicate: ${e.message}\n`);
      return 64;
    }
    if (e instanceof UsageError) { err(`log: ${e.message}\n`); return 64; }
    throw e;
  }
  return mode === 'show' ? show(ctx, opts, filter) : stream(ctx, opts, filter);
};

function formatter(ctx: ToolContext, style: Style): (e: LogEntry) => string {
  const boot = ctx.mac.state.bootUuid;
  return style === 'default' ? toDefaultLine : (e) => toNdjson(e, boot);
}

function notices(ctx: ToolContext, filter: ReturnType<typeof compile>): void {
  // Unconfirmed whether notices go to stdout or stderr (§4.4); consumers skip lines not starting with '{'.
  if (filter) ctx.out(`Filtering the log data using "${filter.joined}"\n`);
}

function show(ctx: ToolContext, opts: Options, filter: ReturnType<typeof compile>): number {
  const nowUs = BigInt(Date.now()) * 1000n;
  const from = opts.lastMs !== undefined ? nowUs - BigInt(Math.round(opts.lastMs * 1000)) : opts.startUs;
  const entries = ctx.mac.log.entries().filter((e) =>
    (from === undefined || e.us >= from) && (opts.endUs === undefined || e.us <= opts.endUs) &&
    levelAdmits(opts.level, e.messageType) && (!filter || filter.matcher(e)));
  notices(ctx, filter);
  if (opts.level === 'default') ctx.out('Skipping info and debug messages, pass --info and/or --debug to include.\n');
  const fmt = formatter(ctx, opts.style);
  if (opts.style === 'json') {
    ctx.out(`[${entries.map(fmt).join(',\n')}]\n`);
  } else {
    if (opts.style === 'default') ctx.out(`${DEFAULT_HEADER}\n`);
    for (const e of entries) ctx.out(`${fmt(e)}\n`);
    if (opts.style === 'ndjson') ctx.out(`{"count":${entries.length},"finished":1}\n`);
  }
  return 0;
}

async function stream(ctx: ToolContext, opts: Options, filter: ReturnType<typeof compile>): Promise<number> {
  notices(ctx, filter);
  const fmt = formatter(ctx, opts.style);
  if (opts.style === 'default') ctx.out(`${DEFAULT_HEADER}\n`);
  let first = true;
  const unsubscribe = ctx.mac.log.subscribe((e) => {
    if (!levelAdmits(opts.level, e.messageType) || (filter && !filter.matcher(e))) return;
    // --style json streams an array that is never closed (§4.2): "[{" then "},{" between objects.
    if (opts.style === 'json') { ctx.out(`${first ? '[' : ','}${fmt(e)}\n`); first = false; }
    else ctx.out(`${fmt(e)}\n`);
  });
  try {
    // Runs until the shim disconnects, or --timeout passes (bounded by a day so every wait has a deadline).
    await sleepOrAbort(opts.timeoutMs ?? 86_400_000, ctx.signal);
  } finally {
    unsubscribe();
  }
  return 0;
}
