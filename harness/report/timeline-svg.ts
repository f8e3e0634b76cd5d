// A scenario's timeline as an inline SVG, drawn here rather than in the browser so it shows with
// scripts off: lanes sharing one time axis — steps as bars from start to end coloured by outcome,
// host commands as bars of their duration, registry and port changes, log lines, measurements and
// the rest (activator, warnings, safe state) as marks. Each mark's <title> is its detail (a
// tooltip). A dense lane (a chatty log) is drawn as counts per slice of the axis, within a budget of
// marks per scenario that the report sets from how many scenarios it holds, so fifty scenarios
// stay under a megabyte.
import type { TimelineEntry } from './model.ts';

const WIDTH = 960;
const LABEL = 104;
const RIGHT = 18;
const ROW = 18;
const AXIS = 18;
/** A lane never gets fewer marks than this before it is drawn as slices with counts. */
const MIN_LANE_MARKS = 12;
const DETAIL_CHARS = 160;

type LaneName = 'steps' | 'commands' | 'registry' | 'log' | 'measure' | 'events';
const LANES: { name: LaneName; label: string }[] = [
  { name: 'steps', label: 'steps' },
  { name: 'commands', label: 'host commands' },
  { name: 'registry', label: 'registry' },
  { name: 'log', label: 'log' },
  { name: 'measure', label: 'measurements' },
  { name: 'events', label: 'events' },
];

interface Mark {
  start: number;
  end: number;
  /** CSS class: the outcome or kind. */
  tone: string;
  detail: string;
}

export interface TimelineDrawing {
  svg: string;
  steps: number;
}

/** `markBudget`: the most marks (beside the step bars) the picture may hold, shared among its lanes. */
export function timelineSvg(entries: TimelineEntry[], label: string, markBudget: number): TimelineDrawing {
  const lanes = new Map<LaneName, Mark[]>(LANES.map((l) => [l.name, []]));
  const steps = stepBars(entries);
  lanes.set('steps', steps);
  for (const e of entries) {
    const lane = laneOf(e);
    if (lane) lanes.get(lane)!.push(markOf(e, lane));
  }
  const shown = LANES.filter((l) => l.name === 'steps' || lanes.get(l.name)!.length > 0);
  const laneCap = Math.max(MIN_LANE_MARKS, Math.floor(markBudget / Math.max(1, shown.length - 1)));
  const span = Math.max(1, ...entries.map((e) => e.t), ...steps.map((s) => s.end));
  const x = (t: number) => LABEL + (t / span) * (WIDTH - LABEL - RIGHT);
  const height = shown.length * ROW + AXIS + 4;
  const parts: string[] = [];
  shown.forEach((lane, row) => {
    const y = 2 + row * ROW;
    parts.push(`<text class="lane" x="4" y="${y + 12}">${lane.label}</text><line class="lane-rule" x1="${LABEL}" x2="${WIDTH - RIGHT}" y1="${y + ROW - 1}" y2="${y + ROW - 1}"/>`);
    const marks = lanes.get(lane.name)!;
    if (lane.name === 'steps') parts.push(...marks.map((m) => stepRect(m, x, y)));
    else if (marks.length > laneCap) parts.push(...buckets(marks, lane.label, span, laneCap).map((m) => markRect(m, x, y, 'bucket')));
    else parts.push(...marks.map((m) => markRect(m, x, y, 'mark')));
  });
  parts.push(axis(span, x, shown.length * ROW + 2));
  const svg = `<svg class="timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="${esc(`timeline of ${label}`)}">${parts.join('')}</svg>`;
  return { svg, steps: steps.length };
}

/** Each step's `started` paired with its end (passed, failed, timedOut); one never ended runs to the end. */
function stepBars(entries: TimelineEntry[]): Mark[] {
  const open = new Map<string, { start: number; kind: string; at: string; phase: string }[]>();
  const bars: Mark[] = [];
  const last = Math.max(0, ...entries.map((e) => e.t));
  for (const e of entries) {
    if (e.type !== 'step') continue;
    const key = `${e['phase']}\u0000${e['kind']}\u0000${e['at']}`;
    if (e['status'] === 'started') {
      open.set(key, [...(open.get(key) ?? []), { start: e.t, kind: String(e['kind']), at: String(e['at'] ?? ''), phase: String(e['phase'] ?? '') }]);
      continue;
    }
    const begun = open.get(key)?.shift();
    const start = begun?.start ?? e.t - Number(e['durationMs'] ?? 0);
    const status = String(e['status']);
    bars.push({
      start, end: e.t, tone: status,
      detail: `${e['phase']}: ${e['kind']} — ${e['at']} — ${status} in ${ms(Number(e['durationMs'] ?? e.t - start))}${e['message'] ? `: ${e['message']}` : ''}`,
    });
  }
  for (const started of [...open.values()].flat()) {
    bars.push({ start: started.start, end: last, tone: 'unfinished', detail: `${started.phase}: ${started.kind} — ${started.at} — did not finish` });
  }
  return bars.sort((a, b) => a.start - b.start);
}

function laneOf(e: TimelineEntry): LaneName | undefined {
  switch (e.type) {
    case 'step': return undefined;
    case 'exec': return 'commands';
    case 'registry': case 'port-on': case 'port-off': return 'registry';
    case 'log': case 'log-gap': return 'log';
    case 'measure': return 'measure';
    default: return 'events';
  }
}

function markOf(e: TimelineEntry, lane: LaneName): Mark {
  const { t, type, ...rest } = e;
  if (lane === 'commands') {
    const duration = Number(e['durationMs'] ?? 0);
    const argv = Array.isArray(e['argv']) ? (e['argv'] as unknown[]).map(String).join(' ') : '';
    const ok = e['exitCode'] === 0 && !e['timedOut'];
    // A stream dextbench ended itself (log stream, eslogger): SIGTERM, or a shell's 128 + 15 for it.
    const stopped = !ok && !e['timedOut'] && (e['signal'] === 'SIGTERM' || e['exitCode'] === 143);
    return {
      start: Math.max(0, t - duration), end: t, tone: ok ? 'ok' : stopped ? 'stopped' : 'bad',
      detail: `${argv} → ${e['timedOut'] ? 'timed out' : stopped ? 'stopped by dextbench' : e['signal'] ? `signal ${e['signal']}` : `exit ${e['exitCode']}`} in ${ms(duration)}`,
    };
  }
  if (lane === 'log') {
    return { start: t, end: t, tone: type === 'log-gap' ? 'bad' : 'info', detail: type === 'log' ? `${e['process']}: ${e['message']}` : `${type} ${fields(rest)}` };
  }
  if (lane === 'measure') {
    const bounds = [e['min'] !== undefined ? `min ${e['min']}` : '', e['max'] !== undefined ? `max ${e['max']}` : ''].filter(Boolean).join(', ');
    return { start: t, end: t, tone: 'info', detail: `${e['name']} = ${e['value']}${e['unit'] ? ` ${e['unit']}` : ''}${bounds ? ` (${bounds})` : ''}` };
  }
  const bad = type === 'warning' || (type === 'scenario-end' && e['status'] !== 'passed');
  return { start: t, end: t, tone: bad ? 'bad' : 'info', detail: `${type ?? e['event'] ?? 'event'} ${fields(rest)}` };
}

/** `change=device-added device=echo …`: shorter than JSON once escaped for HTML. */
function fields(record: Record<string, unknown>): string {
  return Object.entries(record).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

/** A dense lane as counts per slice: each slice says how many, and its first and last mark. */
function buckets(marks: Mark[], label: string, span: number, count: number): Mark[] {
  const size = span / count;
  const slices = new Map<number, Mark[]>();
  for (const m of marks) {
    const i = Math.min(count - 1, Math.floor(m.start / size));
    slices.set(i, [...(slices.get(i) ?? []), m]);
  }
  return [...slices].map(([i, ms_]) => ({
    start: i * size, end: (i + 1) * size,
    tone: ms_.some((m) => m.tone === 'bad') ? 'bad' : 'info',
    detail: `${ms_.length} ${label} ${ms(Math.round(i * size))}–${ms(Math.round((i + 1) * size))}; first: ${ms_[0]!.detail}${ms_.length > 1 ? `; last: ${ms_.at(-1)!.detail}` : ''}`,
  }));
}

function stepRect(m: Mark, x: (t: number) => number, y: number): string {
  const x0 = x(m.start);
  const w = Math.max(2, x(m.end) - x0);
  return `<rect class="step ${m.tone}" x="${n(x0)}" y="${y + 2}" width="${n(w)}" height="${ROW - 5}" rx="2"><title>${esc(clip(m.detail))}</title></rect>`;
}

function markRect(m: Mark, x: (t: number) => number, y: number, kind: string): string {
  const x0 = x(m.start);
  const w = Math.max(2, x(m.end) - x0);
  return `<rect class="${kind} ${m.tone}" x="${n(x0 - (m.end === m.start ? 1 : 0))}" y="${y + 4}" width="${n(w)}" height="${ROW - 9}"><title>${esc(clip(m.detail))}</title></rect>`;
}

function axis(span: number, x: (t: number) => number, y: number): string {
  const step = niceStep(span / 8);
  const ticks: string[] = [`<line class="axis" x1="${LABEL}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}"/>`];
  for (let t = 0; t <= span; t += step) {
    const at = n(x(t));
    ticks.push(`<line class="axis" x1="${at}" x2="${at}" y1="${y}" y2="${y + 4}"/><text class="tick" x="${at}" y="${y + 14}">${ms(t)}</text>`);
  }
  return ticks.join('');
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power;
}

/** 250ms, 1.5s, 2m05s. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '?';
  if (value < 1000) return `${Math.round(value)}ms`;
  if (value < 60_000) return `${Number((value / 1000).toFixed(value < 10_000 ? 2 : 1))}s`;
  const s = Math.round(value / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function clip(text: string): string {
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text;
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
