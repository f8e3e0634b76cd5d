// ExecGuard's unified log lines (contract §5): subsystem its bundle id (com.example.execguard), category policy.
// The Swift extension, the simulated Mac's model of it and the fixtures' cross-check all write or
// read exactly these; values never contain spaces (a space in a path is written %20).

export const EXECGUARD_BUNDLE = 'com.example.execguard';
export const EXECGUARD_CATEGORY = 'policy';

export type ExecGuardLine =
  | { kind: 'started'; result: string }
  | { kind: 'failed'; result: string }
  | { kind: 'deny'; path: string; signingId: string | null; pid: number; rule: 'path' | 'signing_id' }
  | { kind: 'allow'; path: string; signingId: string | null; pid: number; cached: boolean };

/** `key=value` tokens of a line (after its leading words). */
export function keyValues(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const token of message.split(' ')) {
    const eq = token.indexOf('=');
    if (eq > 0) out[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return out;
}

function fromLogValue(value: string): string {
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** One ExecGuard message, or undefined when it is none of its four forms. */
export function parseExecGuardLine(message: string): ExecGuardLine | undefined {
  let m = /^ExecGuard started: es_new_client (ES_NEW_CLIENT_RESULT_\w+)$/.exec(message);
  if (m) return { kind: 'started', result: m[1]! };
  m = /^ExecGuard failed: es_new_client (ES_NEW_CLIENT_RESULT_\w+)$/.exec(message);
  if (m) return { kind: 'failed', result: m[1]! };
  m = /^(deny|allow) exec (\S.*)$/.exec(message);
  if (!m) return undefined;
  const kv = keyValues(m[2]!);
  const pid = Number(kv['pid']);
  if (kv['path'] === undefined || kv['signing_id'] === undefined || !Number.isSafeInteger(pid)) return undefined;
  const base = { path: fromLogValue(kv['path']), signingId: kv['signing_id'] === '-' ? null : kv['signing_id'], pid };
  if (m[1] === 'deny') {
    const rule = kv['rule'];
    return rule === 'path' || rule === 'signing_id' ? { kind: 'deny', ...base, rule } : undefined;
  }
  const cached = kv['cached'];
  return cached === 'true' || cached === 'false' ? { kind: 'allow', ...base, cached: cached === 'true' } : undefined;
}
