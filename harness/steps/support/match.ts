// `expect:` of channel steps: a subset of the response. Scalars compare by value (64-bit integers
// exactly, as text), "/re/flags" strings as regular expressions, `{ min, max }` as a range,
// `{ not: x }` as anything but x, enum names by their last word (`done` matches IO_STATE_DONE).

export function subsetMismatches(actual: unknown, expected: unknown, path = ''): string[] {
  const at = path || 'response';
  if (typeof expected === 'string') {
    const re = /^\/(.*)\/([dgimsuy]*)$/s.exec(expected);
    if (re) return new RegExp(re[1]!, re[2]).test(String(actual)) ? [] : [`${at} = ${show(actual)} does not match ${expected}`];
  }
  if (isNot(expected)) {
    return subsetMismatches(actual, expected.not, path).length > 0 ? [] : [`${at} = ${show(actual)}, expected anything else`];
  }
  if (isRange(expected) && (typeof actual === 'number' || typeof actual === 'bigint')) {
    const value = Number(actual);
    if (expected.min !== undefined && value < expected.min) return [`${at} = ${show(actual)}, below min ${expected.min}`];
    if (expected.max !== undefined && value > expected.max) return [`${at} = ${show(actual)}, above max ${expected.max}`];
    return [];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at} = ${show(actual)}, expected a list`];
    if (actual.length !== expected.length) return [`${at} has ${actual.length} items, expected ${expected.length}`];
    return expected.flatMap((e, i) => subsetMismatches(actual[i], e, `${at}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${at} = ${show(actual)}, expected an object`];
    return Object.entries(expected).flatMap(([key, e]) =>
      subsetMismatches((actual as Record<string, unknown>)[key], e, path ? `${path}.${key}` : key));
  }
  return sameScalar(actual, expected) ? [] : [`${at} = ${show(actual)}, expected ${show(expected)}`];
}

function isNot(v: unknown): v is { not: unknown } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'not' in v;
}

function isRange(v: unknown): v is { min?: number; max?: number } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => (k === 'min' || k === 'max') && typeof (v as Record<string, unknown>)[k] === 'number');
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
