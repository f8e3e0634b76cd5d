// `log stream|show --style ndjson` lines (reference/macos-formats.md §4).
import { isRecord, parseJsonLossless, toBigInt, toSafeNumber } from './json.ts';

/** One unified-log event. */
export interface UnifiedLogEntry {
  timestamp: Date;
  /** The timestamp as printed (`2025-08-09 10:11:55.521570-0400`): keeps the microseconds a Date drops. */
  timestampText: string;
  eventMessage: string;
  /** '' when not set. */
  subsystem: string;
  /** '' when not set. */
  category: string;
  processID: number;
  processImagePath: string;
  /** Basename of processImagePath (the log has no `process` key). */
  process: string;
  senderImagePath?: string;
  /** Basename of senderImagePath. */
  sender?: string;
  /** `Default`, `Info` (seen on real Macs); `Error`, `Fault`, `Debug` (fixtures). */
  messageType: string;
  /** `logEvent` (seen); others such as `activityCreateEvent` exist. */
  eventType: string;
  traceID: bigint;
  threadID?: bigint;
  machTimestamp?: bigint;
  /** The whole object: integers beyond 2^53 are bigints, others numbers. */
  raw: Record<string, unknown>;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses one line of `log … --style ndjson`. Returns null for notice lines (anything not starting
 * with `{`, e.g. `Filtering the log data using …`), blank lines, and objects that are not events
 * (the `{"count":N,"finished":1}` footer of `log show`).
 *
 * @throws Error (one line) when a `{` line is not valid JSON or an event has an unreadable timestamp.
 */
export function parseUnifiedLogLine(line: string): UnifiedLogEntry | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  const raw = parseJsonLossless(text, 'unified log line');
  if (!isRecord(raw) || typeof raw['eventMessage'] !== 'string' || typeof raw['eventType'] !== 'string') return null;
  const timestampText = typeof raw['timestamp'] === 'string' ? raw['timestamp'] : '';
  const processImagePath = typeof raw['processImagePath'] === 'string' ? raw['processImagePath'] : '';
  const senderImagePath = typeof raw['senderImagePath'] === 'string' ? raw['senderImagePath'] : undefined;
  const threadID = toBigInt(raw['threadID']);
  const machTimestamp = toBigInt(raw['machTimestamp']);
  return {
    timestamp: parseLogTimestamp(timestampText),
    timestampText,
    eventMessage: raw['eventMessage'],
    subsystem: typeof raw['subsystem'] === 'string' ? raw['subsystem'] : '',
    category: typeof raw['category'] === 'string' ? raw['category'] : '',
    processID: toSafeNumber(raw['processID']) ?? -1,
    processImagePath,
    process: basename(processImagePath),
    ...(senderImagePath !== undefined ? { senderImagePath, sender: basename(senderImagePath) } : {}),
    messageType: typeof raw['messageType'] === 'string' ? raw['messageType'] : '',
    eventType: raw['eventType'],
    traceID: toBigInt(raw['traceID']) ?? 0n,
    ...(threadID !== undefined ? { threadID } : {}),
    ...(machTimestamp !== undefined ? { machTimestamp } : {}),
    raw,
  };
}

/**
 * Converts the unified log's `YYYY-MM-DD HH:MM:SS.ffffff±HHMM` (space, no colon in the offset:
 * not something Date.parse accepts) to a Date (millisecond precision).
 *
 * @throws Error for any other shape.
 */
export function parseLogTimestamp(text: string): Date {
  const match = TIMESTAMP.exec(text.trim());
  if (!match) throw new Error(`unified log timestamp "${text.slice(0, 40)}" is not YYYY-MM-DD HH:MM:SS.ffffff±HHMM`);
  const [, day, time, fraction = '', zone] = match;
  const millis = (fraction + '000').slice(0, 3);
  const offset = zone === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${zone!.slice(-2)}`;
  const date = new Date(`${day}T${time}.${millis}${offset}`);
  if (Number.isNaN(date.getTime())) throw new Error(`unified log timestamp "${text.slice(0, 40)}" is not a valid date`);
  return date;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
