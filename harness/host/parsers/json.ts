// Lossless JSON for macOS tool output: unified-log traceID/machTimestamp/threadID and eslogger
// st_ino exceed 2^53 (reference/macos-formats.md §4.4, §5.4), which JSON.parse would round.
import { parse } from 'lossless-json';

/**
 * Parses JSON keeping every digit: integers that fit a double exactly stay numbers, larger ones
 * become bigints, numbers with a fraction or exponent are numbers.
 *
 * @throws Error (one line) for invalid JSON.
 */
export function parseJsonLossless(text: string, what: string): unknown {
  try {
    return parse(text, null, parseNumber);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${what} is not valid JSON: ${reason.split('\n')[0]}`);
  }
}

function parseNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : BigInt(text);
  }
  return Number(text);
}

/** An integer field as a bigint (number, bigint or digit string); undefined otherwise. */
export function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** An integer field as a number when it is exactly representable; undefined otherwise. */
export function toSafeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return undefined;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
