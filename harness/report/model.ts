// What `dextbench report` shows of one run, read from its Playwright JSON report (results.json)
// through the engine's reader: each scenario on each rig with its outcome, class, failure line,
// repro command and timeline (the `timeline.jsonl` attachment: an inline body, or a file in
// test-results/ that may be gone by now). A scenario that passed on a later attempt shows its first
// failed attempt's line and class: on Playwright's --retries (flaky), or on dextbench's
// infrastructure retry on another rig of its class (retried; engine/retry-merge.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { INFRA_RETRY_FIELD } from '../engine/retry-merge.ts';
import type { JsonAttachment } from '../common/playwright-json.ts';
import { readRunDetails, type ScenarioRun } from '../engine/run-results.ts';

export interface TimelineEntry {
  t: number;
  type?: string;
  [key: string]: unknown;
}

/** The row's state as the report colours it: flaky passed on Playwright's retry, retried on an infrastructure retry on another rig. */
export type Outcome = 'failed' | 'flaky' | 'retried' | 'passed' | 'skipped';

export interface ReportScenario {
  /** For the anchor (#s-…). */
  id: string;
  title: string;
  /** The scenario file, relative to where the report is made. */
  file: string;
  rig: string;
  outcome: Outcome;
  attempts: number;
  durationMs: number;
  /** The failure's class and line: the last attempt's, or for flaky and retried the first failed attempt's. */
  failureClass?: string;
  failure?: string;
  /** Flaky and retried: which attempt failed (1-based). */
  failedAttempt?: number;
  /** Retried: the rig it passed on, and the infrastructure retry's number (its reports are in infra-retry-N/). */
  passedOn?: { rig: string; retry: number };
  /** Retried, when the annotation is not in the form this reads: its text as written. */
  retryNote?: string;
  repro?: string;
  timeline?: TimelineEntry[];
  /** Why there is no timeline, one line. */
  noTimeline?: string;
}

export interface RunModel {
  source: string;
  startTime?: string;
  /** Failures first, then flaky, retried, passed, skipped; by name within each. */
  scenarios: ReportScenario[];
}

export const DEFAULT_REPORT_DIR = 'dextbench-report';

/** The results.json a path names: the file itself or the run folder holding it; one clear line when there is none. */
export function resultsFileOf(path: string | undefined, cwd: string): string {
  const target = path ?? DEFAULT_REPORT_DIR;
  const full = resolve(cwd, target);
  const isDir = existsSync(full) && statSync(full).isDirectory();
  const file = isDir ? join(full, 'results.json') : full;
  if (!existsSync(file)) {
    const where = isDir || path === undefined ? `in ${target.replace(/\/?$/, '/')}` : `at ${target}`;
    throw new Error(`report: no results.json ${where} — run \`npx dextbench run\` first, or pass a results.json or a run folder (--output)`);
  }
  return file;
}

const ORDER: Record<Outcome, number> = { failed: 0, flaky: 1, retried: 2, passed: 3, skipped: 4 };

export function readRunModel(resultsFile: string, cwd: string): RunModel {
  let details: ReturnType<typeof readRunDetails>;
  try {
    details = readRunDetails(resultsFile, cwd);
  } catch (error) {
    throw new Error(`report: ${relative(cwd, resultsFile) || resultsFile} is not a Playwright JSON report (${(error as Error).message.split('\n')[0]}); write one with \`npx dextbench run --reporter json\``);
  }
  if (!details) throw new Error(`report: no results.json at ${resultsFile}`);
  if (!details.scenarios.length) throw new Error(`report: ${relative(cwd, resultsFile) || resultsFile} holds no scenario results (expected Playwright's JSON report of a \`dextbench run\`)`);
  const used = new Set<string>();
  const scenarios = details.scenarios.map((s) => scenarioOf(s, cwd, used));
  scenarios.sort((a, b) => ORDER[a.outcome] - ORDER[b.outcome] || a.title.localeCompare(b.title) || a.rig.localeCompare(b.rig));
  return { source: resultsFile, ...(details.startTime ? { startTime: details.startTime } : {}), scenarios };
}

function scenarioOf(s: ScenarioRun, cwd: string, used: Set<string>): ReportScenario {
  const infraRetry = s.outcome === 'flaky' ? s.annotations.find((a) => a.type === INFRA_RETRY_FIELD) : undefined;
  const outcome: Outcome = s.outcome === 'unexpected' ? 'failed' : infraRetry ? 'retried' : s.outcome === 'flaky' ? 'flaky' : s.outcome === 'skipped' ? 'skipped' : 'passed';
  const out: ReportScenario = {
    id: uniqueId(`${s.title}-${s.rig}`, used), title: s.title, file: shown(s.file, cwd), rig: s.rig,
    outcome, attempts: s.attempts, durationMs: Math.round(s.durationMs),
  };
  const failureClass = s.firstFailure?.failureClass ?? s.failureClass;
  if (failureClass) out.failureClass = failureClass;
  const failure = s.firstFailure?.failure ?? s.failure;
  // The class has its own column.
  if (failure) out.failure = failure.replace(/^(\S+:\d+: )?\[[a-z]+\] /, '$1').replace(/^(\.\.\/\S+?)(:\d+: )/, (_m, file: string, rest: string) => shown(resolve(cwd, file), cwd) + rest);
  if (s.firstFailure) out.failedAttempt = s.firstFailure.attempt;
  if (infraRetry) {
    const passedOn = passedOnOf(infraRetry.description ?? '');
    if (passedOn) out.passedOn = passedOn;
    else out.retryNote = infraRetry.description ?? 'passed on an infrastructure retry';
  }
  const repro = s.attachments.find((a) => a.name === 'repro' && a.body !== undefined);
  if (repro) out.repro = attachmentText(repro)?.trim();
  const timeline = s.attachments.find((a) => a.name === 'timeline.jsonl');
  if (!timeline) {
    out.noTimeline = outcome === 'skipped' ? 'skipped: no timeline' : 'no timeline attached (the scenario ended before it began recording)';
    return out;
  }
  const text = attachmentText(timeline);
  if (text === undefined) {
    out.noTimeline = `timeline file ${timeline.path ? relative(cwd, timeline.path) : '?'} is gone (test-results/ was cleaned or moved)`;
    return out;
  }
  out.timeline = parseTimeline(text);
  return out;
}

/** The rig and retry named by retry-merge.ts's describeInfraRetry: `failed on rig A on infrastructure; passed on rig B on infrastructure retry N (…)`. */
function passedOnOf(description: string): { rig: string; retry: number } | undefined {
  const m = /; passed on rig (.+) on infrastructure retry (\d+)\b/.exec(description);
  return m ? { rig: m[1]!, retry: Number(m[2]) } : undefined;
}

/** Relative to where the report is made when it is inside it, else absolute (no ../../ chains). */
function shown(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel;
}

function attachmentText(a: JsonAttachment): string | undefined {
  if (a.body !== undefined) return Buffer.from(a.body, 'base64').toString('utf8');
  if (a.path && existsSync(a.path)) return readFileSync(a.path, 'utf8');
  return undefined;
}

/** JSON lines; a line that is not one (a file cut short) is skipped rather than losing the rest. */
export function parseTimeline(text: string): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as TimelineEntry;
      if (typeof e.t === 'number') entries.push(e);
    } catch { /* a torn last line */ }
  }
  return entries;
}

function uniqueId(text: string, used: Set<string>): string {
  const base = `s-${text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  used.add(id);
  return id;
}
