// `expect:` of channel steps: a subset of the response. Every key it names must be in the response:
// a missing or misspelt key is a mismatch that lists the keys there are (the codec fills scalar
// defaults, so a field that is 0, '' or false is present, not missing). Scalars compare by value
// (64-bit integers exactly, as text), "/re/flags" strings as regular expressions, `{ min, max }`
// as an inclusive range compared exactly (bounds: numbers, bigints, or integer strings such as
// "9007199254740993" or "0x20000000000001" for values past 2^53), `{ not: x }` as anything but x,
// enum names by their last word (`done` matches IO_STATE_DONE).
import { z } from 'zod';
import { didYouMean } from '../../scenario/index.ts';

const KEYS_SHOWN = 12;

export function subsetMismatches(actual: unknown, expected: unknown, path = ''): string[] {
  const at = path || 'response';
  if (typeof expected === 'string') {
    const re = regexOf(expected);
    if (re instanceof RegExp) return re.test(String(actual)) ? [] : [`${at} = ${show(actual)} does not match ${expected}`];
    if (re !== undefined) return [`${at}: ${re.error}`];
  }
  if (isNot(expected)) {
    return subsetMismatches(actual, expected.not, path).length > 0 ? [] : [`${at} = ${show(actual)}, expected anything else`];
  }
  // A message that has fields named min/max is matched as a subset, like any other message.
  if (isRange(expected) && !isMessage(actual)) return rangeMismatches(actual, expected, at);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at} = ${show(actual)}, expected a list`];
    if (actual.length !== expected.length) return [`${at} has ${actual.length} items, expected ${expected.length}`];
    return expected.flatMap((e, i) => subsetMismatches(actual[i], e, `${at}[${i}]`));
  }
  if (isMessage(expected)) {
    if (!isMessage(actual)) return [`${at} = ${show(actual)}, expected an object`];
    return Object.entries(expected).flatMap(([key, e]) => {
      const where = path ? `${path}.${key}` : key;
      return Object.hasOwn(actual, key) ? subsetMismatches(actual[key], e, where) : [missingKey(actual, key, where, path)];
    });
  }
  return sameScalar(actual, expected) ? [] : [`${at} = ${show(actual)}, expected ${show(expected)}`];
}

/**
 * `expect:` / `match:` values checked when the scenario loads: every `{ min, max }` bound is a
 * number or an integer, min is not above max, every "/re/" compiles. The rest is matched at run time.
 */
export const expectation = z.unknown().superRefine((value, ctx) => {
  for (const { path, message } of expectationProblems(value, [])) ctx.addIssue({ code: 'custom', path, message, input: value });
});

function expectationProblems(value: unknown, path: (string | number)[]): { path: (string | number)[]; message: string }[] {
  if (typeof value === 'string') {
    const re = regexOf(value);
    return re !== undefined && !(re instanceof RegExp) ? [{ path, message: re.error }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => expectationProblems(v, [...path, i]));
  if (!isMessage(value)) return [];
  if (isRange(value)) {
    const bounds = parseBounds(value);
    return 'error' in bounds ? [{ path: bounds.key ? [...path, bounds.key] : path, message: bounds.error }] : [];
  }
  return Object.entries(value).flatMap(([key, v]) => expectationProblems(v, [...path, key]));
}

function regexOf(text: string): RegExp | { error: string } | undefined {
  const m = /^\/(.*)\/([dgimsuy]*)$/s.exec(text);
  if (!m) return undefined;
  try {
    return new RegExp(m[1]!, m[2]);
  } catch (error) {
    return { error: `invalid regular expression ${text}: ${(error as Error).message.split(': ').at(-1)!.toLowerCase()}` };
  }
}

function isNot(v: unknown): v is { not: unknown } {
  return isMessage(v) && Object.keys(v).length === 1 && 'not' in v;
}

/** `{ min }`, `{ max }` or `{ min, max }`, whatever the bounds are (a bad bound is an error, not a subset). */
function isRange(v: unknown): v is { min?: unknown; max?: unknown } {
  if (!isMessage(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k === 'min' || k === 'max');
}

function isMessage(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

type Exact = number | bigint;

// JS compares a bigint with a number by their exact values, so neither side is ever rounded here.
function rangeMismatches(actual: unknown, range: { min?: unknown; max?: unknown }, at: string): string[] {
  const bounds = parseBounds(range);
  if ('error' in bounds) return [`${at}${bounds.key ? `.${bounds.key}` : ''}: ${bounds.error}`];
  const value = exactNumber(actual);
  if (value === undefined) return [`${at} = ${show(actual)}, expected a number for ${describeRange(bounds)}`];
  if (bounds.min !== undefined && value < bounds.min) return [`${at} = ${show(actual)}, below min ${bounds.min}`];
  if (bounds.max !== undefined && value > bounds.max) return [`${at} = ${show(actual)}, above max ${bounds.max}`];
  return [];
}

function parseBounds(range: { min?: unknown; max?: unknown }): { min?: Exact; max?: Exact } | { error: string; key?: 'min' | 'max' } {
  const out: { min?: Exact; max?: Exact } = {};
  for (const key of ['min', 'max'] as const) {
    if (!(key in range)) continue;
    const bound = exactNumber(range[key]);
    if (bound === undefined) {
      return { key, error: `expected a number, or an integer as text for values past 2^53 ("9007199254740993", "0x20000000000001"), got ${show(range[key])}` };
    }
    out[key] = bound;
  }
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) return { error: `min must not be above max (got min ${out.min}, max ${out.max})` };
  return out;
}

/** A number, a bigint, or an integer written as text (decimal or 0x hex, optionally signed). */
function exactNumber(v: unknown): Exact | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : v;
  if (typeof v !== 'string') return undefined;
  const m = /^([-+]?)(\d+|0[xX][0-9a-fA-F]+)$/.exec(v.trim());
  if (!m) return undefined;
  const magnitude = BigInt(m[2]!);
  return m[1] === '-' ? -magnitude : magnitude;
}

function describeRange(bounds: { min?: Exact; max?: Exact }): string {
  return `{ ${[bounds.min !== undefined ? `min: ${bounds.min}` : '', bounds.max !== undefined ? `max: ${bounds.max}` : ''].filter(Boolean).join(', ')} }`;
}

function missingKey(actual: Record<string, unknown>, key: string, where: string, parentPath: string): string {
  const keys = Object.keys(actual);
  const listed = keys.length > KEYS_SHOWN ? `${keys.slice(0, KEYS_SHOWN).join(', ')}, …` : keys.join(', ');
  const has = keys.length ? `it has: ${listed}` : 'it has no keys';
  const guess = didYouMean(key, keys);
  return `${where}: no such key in ${parentPath || 'the response'} (${has}${guess ? `; ${guess}` : ''})`;
}

function sameScalar(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if ((typeof actual === 'bigint' || typeof actual === 'number') && (typeof expected === 'number' || typeof expected === 'bigint' || typeof expected === 'string')) {
    return String(actual) === String(expected);
  }
  if (typeof actual === 'string' && typeof expected === 'string' && /^[A-Z][A-Z0-9_]+$/.test(actual)) {
    return actual.toLowerCase().endsWith(`_${expected.toLowerCase()}`) || actual.toLowerCase() === expected.toLowerCase();
  }
  if (actual instanceof Uint8Array && typeof expected === 'string') return Buffer.from(actual).toString('utf8') === expected;
  return false;
}

export function show(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `<${Buffer.from(v).toString('hex')}>`;
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
}
