// The unified log: an entry store, the NSPredicate subset `log` accepts here, and the output styles.
import { createHash, randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { SimState } from './state.ts';

export type MessageType = 'Default' | 'Info' | 'Debug' | 'Error' | 'Fault';

export interface LogEntry {
  /** Wall clock, microseconds since the epoch. */
  us: bigint;
  machTimestamp: bigint;
  traceID: bigint;
  threadID: number;
  messageType: MessageType;
  subsystem: string;
  category: string;
  processID: number;
  processImagePath: string;
  senderImagePath: string;
  eventMessage: string;
}

export interface LogSource {
  processID: number;
  processImagePath: string;
  senderImagePath?: string;
  threadID: number;
}

export const KERNEL: LogSource = { processID: 0, processImagePath: '/kernel', threadID: 0x97b };
export const SYSEXTD: LogSource = { processID: 283, processImagePath: '/usr/libexec/sysextd', threadID: 0xaeed };
export const KERNELMANAGERD: LogSource = { processID: 108, processImagePath: '/usr/libexec/kernelmanagerd', threadID: 0x168d };

const MAX_ENTRIES = 5000;

export class LogStore {
  private readonly listeners = new Set<(e: LogEntry) => void>();

  constructor(private readonly state: SimState) {}

  entries(): readonly LogEntry[] {
    return this.state.log;
  }

  append(source: LogSource, message: string, opts: { subsystem?: string; category?: string; type?: MessageType } = {}): LogEntry {
    // Strictly increasing timestamps keep `--start` filtering and ordering unambiguous.
    let us = BigInt(Date.now()) * 1000n;
    if (us <= this.state.lastLogUs) us = this.state.lastLogUs + 1n;
    this.state.lastLogUs = us;
    // Apple silicon's mach timebase ticks at 24 MHz since boot.
    const sinceBootUs = us - BigInt(this.state.bootTimeMs) * 1000n;
    const entry: LogEntry = {
      us,
      machTimestamp: (sinceBootUs > 0n ? sinceBootUs : 0n) * 24n,
      // Real traceIDs are often above 2^53 (§4.4); keep some there so consumers must stay exact.
      traceID: (1n << 54n) + BigInt(`0x${randomBytes(7).toString('hex')}`) % (1n << 55n),
      threadID: source.threadID,
      messageType: opts.type ?? 'Default',
      subsystem: opts.subsystem ?? '',
      category: opts.category ?? '',
      processID: source.processID,
      processImagePath: source.processImagePath,
      senderImagePath: source.senderImagePath ?? source.processImagePath,
      eventMessage: message,
    };
    this.state.log.push(entry);
    if (this.state.log.length > MAX_ENTRIES) this.state.log.splice(0, this.state.log.length - MAX_ENTRIES);
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  subscribe(listener: (e: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

// ---------------------------------------------------------------- predicates

export class PredicateError extends Error {}

export type Predicate = (e: LogEntry) => boolean;

type Tok = { t: 'str' | 'num' | 'word' | 'op' | 'mod' | '(' | ')'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')') { out.push({ t: c, v: c }); i++; continue; }
    if (c === '"' || c === "'") {
      let v = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\' && j + 1 < src.length) { j++; v += src[j] === 'n' ? '\n' : src[j] === 't' ? '\t' : src[j]; }
        else v += src[j];
      }
      if (j >= src.length) throw new PredicateError(`unterminated string starting at offset ${i}`);
      out.push({ t: 'str', v });
      i = j + 1;
      continue;
    }
    if (c === '[') {
      const end = src.indexOf(']', i);
      if (end < 0) throw new PredicateError(`unterminated modifier at offset ${i}`);
      out.push({ t: 'mod', v: src.slice(i + 1, end).toLowerCase() });
      i = end + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<>', '&&', '||'].includes(two)) { out.push({ t: 'op', v: two }); i += 2; continue; }
    if (c === '=' || c === '!') { out.push({ t: 'op', v: c }); i++; continue; }
    const num = /^\d+/.exec(src.slice(i));
    if (num) { out.push({ t: 'num', v: num[0] }); i += num[0].length; continue; }
    const word = /^[A-Za-z_][\w.]*/.exec(src.slice(i));
    if (word) { out.push({ t: 'word', v: word[0] }); i += word[0].length; continue; }
    throw new PredicateError(`unexpected character '${c}' at offset ${i}`);
  }
  return out;
}

const FIELDS: Record<string, (e: LogEntry) => string> = {
  process: (e) => basename(e.processImagePath),
  sender: (e) => basename(e.senderImagePath),
  subsystem: (e) => e.subsystem,
  category: (e) => e.category,
  eventmessage: (e) => e.eventMessage,
  composedmessage: (e) => e.eventMessage,
  processimagepath: (e) => e.processImagePath,
  senderimagepath: (e) => e.senderImagePath,
  processid: (e) => String(e.processID),
  processidentifier: (e) => String(e.processID),
};

const COMPARATORS = new Set(['==', '=', '!=', '<>', 'contains', 'beginswith', 'endswith']);

/** Parse the supported NSPredicate subset into a matcher. */
export function parsePredicate(src: string): Predicate {
  const toks = tokenize(src);
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const isKw = (tok: Tok | undefined, ...kws: string[]): boolean =>
    !!tok && ((tok.t === 'word' && kws.includes(tok.v.toUpperCase())) || (tok.t === 'op' && kws.includes(tok.v)));

  const orExpr = (): Predicate => {
    let left = andExpr();
    while (isKw(peek(), 'OR', '||')) { pos++; const l = left, r = andExpr(); left = (e) => l(e) || r(e); }
    return left;
  };
  const andExpr = (): Predicate => {
    let left = notExpr();
    while (isKw(peek(), 'AND', '&&')) { pos++; const l = left, r = notExpr(); left = (e) => l(e) && r(e); }
    return left;
  };
  const notExpr = (): Predicate => {
    if (isKw(peek(), 'NOT', '!')) { pos++; const inner = notExpr(); return (e) => !inner(e); }
    return primary();
  };
  const primary = (): Predicate => {
    const tok = peek();
    if (!tok) throw new PredicateError('unexpected end of predicate');
    if (tok.t === '(') {
      pos++;
      const inner = orExpr();
      if (peek()?.t !== ')') throw new PredicateError('missing )');
      pos++;
      return inner;
    }
    if (tok.t !== 'word') throw new PredicateError(`expected a key path, found ${JSON.stringify(tok.v)}`);
    const get = FIELDS[tok.v.toLowerCase()];
    if (!get) throw new PredicateError(`unsupported key path ${tok.v}`);
    pos++;
    const opTok = peek();
    const op = opTok && (opTok.t === 'op' || opTok.t === 'word') ? opTok.v.toLowerCase() : '';
    if (!COMPARATORS.has(op)) throw new PredicateError(`expected a comparison after ${tok.v}`);
    pos++;
    let caseless = false;
    if (peek()?.t === 'mod') { caseless = toks[pos]!.v.includes('c'); pos++; }
    const lit = peek();
    if (!lit || (lit.t !== 'str' && lit.t !== 'num')) throw new PredicateError(`expected a string after ${tok.v} ${op}`);
    pos++;
    const want = caseless ? lit.v.toLowerCase() : lit.v;
    const norm = (s: string): string => (caseless ? s.toLowerCase() : s);
    switch (op) {
      case '==': case '=': return (e) => norm(get(e)) === want;
      case '!=': case '<>': return (e) => norm(get(e)) !== want;
      case 'contains': return (e) => norm(get(e)).includes(want);
      case 'beginswith': return (e) => norm(get(e)).startsWith(want);
      default: return (e) => norm(get(e)).endsWith(want);
    }
  };

  if (toks.length === 0) throw new PredicateError('empty predicate');
  const pred = orExpr();
  if (pos < toks.length) throw new PredicateError(`unexpected ${JSON.stringify(toks[pos]!.v)}`);
  return pred;
}

// ---------------------------------------------------------------- formatting

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD HH:MM:SS.ffffff±HHMM` in the daemon's local time zone (§4.4). */
export function formatTimestamp(us: bigint): string {
  const d = new Date(Number(us / 1000n));
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `.${(us % 1_000_000n).toString().padStart(6, '0')}${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

function uuidFor(text: string): string {
  const h = createHash('sha1').update(text).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// Real output escapes '/' as '\/' (§4.4); bigints are written as bare exact integers.
function jsonValue(v: string | number | bigint | null): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v).replace(/\//g, '\\/');
  return JSON.stringify(v);
}

export function toNdjson(e: LogEntry, bootUuid: string): string {
  const fields: Array<[string, string | number | bigint | null]> = [
    ['timezoneName', ''],
    ['messageType', e.messageType],
    ['eventType', 'logEvent'],
    ['source', null],
    ['formatString', e.eventMessage],
    ['userID', 0],
    ['activityIdentifier', 0],
    ['subsystem', e.subsystem],
    ['category', e.category],
    ['threadID', e.threadID],
    ['senderImageUUID', uuidFor(e.senderImagePath)],
    ['bootUUID', bootUuid],
    ['processImagePath', e.processImagePath],
    ['senderImagePath', e.senderImagePath],
    ['timestamp', formatTimestamp(e.us)],
    ['machTimestamp', e.machTimestamp],
    ['eventMessage', e.eventMessage],
    ['processImageUUID', uuidFor(e.processImagePath)],
    ['traceID', e.traceID],
    ['processID', e.processID],
    ['senderProgramCounter', 0],
    ['parentActivityIdentifier', 0],
  ];
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${jsonValue(v)}`).join(',')}}`;
}

export const DEFAULT_HEADER = 'Timestamp                       Thread     Type        Activity             PID    TTL  ';

/** The default (syslog-like) style of §4.3. */
export function toDefaultLine(e: LogEntry): string {
  const proc = basename(e.processImagePath);
  const sender = basename(e.senderImagePath);
  const senderPart = sender !== proc ? `(${sender}) ` : '';
  const scope = e.subsystem ? `[${e.subsystem}:${e.category}] ` : '';
  return `${formatTimestamp(e.us)} ${`0x${e.threadID.toString(16)}`.padEnd(10)} ${e.messageType.padEnd(11)} ${'0x0'.padEnd(20)} ${String(e.processID).padEnd(6)} ${'0'.padEnd(4)} ${proc}: ${senderPart}${scope}${e.eventMessage}`;
}

/** Which message types a level admits (`log stream --level`, `log show --info/--debug`). */
export function levelAdmits(level: 'default' | 'info' | 'debug', type: MessageType): boolean {
  if (type === 'Info') return level !== 'default';
  if (type === 'Debug') return level === 'debug';
  return true;
}
