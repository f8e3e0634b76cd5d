// Durations and byte sizes as people write them in YAML: `500ms`, `1m30s`, `256MiB`.
import { z } from 'zod';
import { showValue } from './issues.ts';

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
/** One or more number+unit parts, largest first by convention: 500ms, 2s, 1m30s, 1h. */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);

function durationMessage(input: unknown): string {
  return `expected a duration like 500ms, 2s or 1m, got ${showValue(input)}`;
}

/** '500ms' | '2s' | '1m' | '1m30s' | '1h' → milliseconds (rounded to whole ms). Throws on anything else. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) throw new Error(durationMessage(text));
  let ms = 0;
  for (const m of trimmed.matchAll(DURATION_PART)) ms += Number(m[1]) * DURATION_UNITS_MS[m[2] as keyof typeof DURATION_UNITS_MS];
  return Math.round(ms);
}

/** A zod type for a duration string; its output is milliseconds. */
export const duration = z
  .string({ error: (issue) => durationMessage(issue.input) })
  .regex(DURATION_RE, { error: (issue) => durationMessage(issue.input) })
  .transform((text) => parseDuration(text))
  .meta({ description: 'A duration: 500ms, 2s, 1m, 1m30s, 1h.' });

const SIZE_UNITS = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
} as const;
export const BYTE_SIZE_PATTERN = '^\\d+(\\.\\d+)?\\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$';
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/;

function sizeMessage(input: unknown): string {
  return `expected a size like 1024, 4KiB, 256MiB or 1GB, got ${showValue(input)}`;
}

/** '256MiB' | '4KiB' | '1GB' | '1024' (or a number) → bytes. Throws on anything else or a fraction of a byte. */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(sizeMessage(value));
    return value;
  }
  const m = SIZE_RE.exec(value.trim());
  if (!m) throw new Error(sizeMessage(value));
  const unit = (m[2] === 'kB' ? 'KB' : m[2] ?? 'B') as keyof typeof SIZE_UNITS;
  const bytes = Number(m[1]) * SIZE_UNITS[unit];
  if (!Number.isSafeInteger(bytes)) throw new Error(`${sizeMessage(value)} (not a whole number of bytes)`);
  return bytes;
}

/** A zod type for a byte size (string with unit, or a plain integer); its output is bytes. */
export const byteSize = z
  .union([
    z.number().int({ error: (issue) => sizeMessage(issue.input) }).nonnegative({ error: (issue) => sizeMessage(issue.input) }),
    z.string().regex(SIZE_RE, { error: (issue) => sizeMessage(issue.input) }),
  ], { error: (issue) => sizeMessage(issue.input) })
  .transform((value, ctx) => {
    try {
      return parseByteSize(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, input: value });
      return z.NEVER;
    }
  })
  .meta({ description: 'A size in bytes: 1024, 4KiB, 256MiB, 1GB.' });
