// A run as the history keeps it, read from Playwright's JSON report (results.json, which every
// `dextbench run` writes, or one that CI merged from blob reports): each scenario's attempts on
// each rig with their status, failure class (the `dextbench.class` annotation) and error line, and
// its measurements (the `measurements.json` attachment when its file is at hand; else the
// `measure:<name>` annotations, which carry value and unit but not the bounds), and the builds of
// the extensions it ran (the `dextbench.extension` annotations). An attempt that ran on another rig
// than its test's (an infrastructure retry merged into the run's results.json, marked
// `dextbench.ran-on`) is filed, with its measurements and builds, under the rig it ran on.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { EXTENSION_ANNOTATION, parseExtensionBuild } from '../common/extension-build.ts';
import { isFailureClass, type FailureClass } from '../common/failure-class.ts';
import { rigOfAttempt, testsOf, type JsonAnnotation, type JsonReport, type JsonResult } from '../common/playwright-json.ts';

const CLASS_ANNOTATION = 'dextbench.class';
const MEASURE_ANNOTATION = 'measure:';

export interface ResultRow {
  scenario: string;
  file: string;
  rig: string;
  /** --repeat-each index. */
  repeat: number;
  /** Playwright's retry index (0: first attempt). */
  attempt: number;
  /** passed, failed, timedOut, interrupted, skipped. */
  status: string;
  class?: FailureClass;
  durationMs: number;
  error?: string;
  /**
   * An attempt that ran on another rig than its test's (an infrastructure retry merged into
   * results.json): the test's rig, the one it had failed on. Not stored; `rig` is where it ran.
   */
  movedFrom?: string;
}

export interface MeasurementRow {
  scenario: string;
  rig: string;
  name: string;
  unit: string;
  value: number;
  min?: number;
  max?: number;
}

/** A build of an extension: its Info.plist version and content hash, when the run knew them. */
export interface DextVersion {
  version?: string;
  sha256?: string;
}

export interface RunRecord {
  /** Its identity in the history (runKey); a run without one is never taken for another. */
  key?: string;
  commit?: string;
  /**
   * By bundle id. A run whose rigs ran different builds of one bundle keeps each, keyed
   * `<bundle id>@<rig>`, rather than one of them as if it were the run's.
   */
  dextVersions: Record<string, DextVersion>;
  rig: string;
  started: Date;
  ended: Date;
  source?: string;
  results: ResultRow[];
  measurements: MeasurementRow[];
}

/** Builds by bundle id, then by the rig that ran them. */
export type RigBuilds = Map<string, Map<string, DextVersion>>;

/** Reads a results.json; one clear line when it is not a Playwright JSON report. */
export function readReport(file: string): RunRecord {
  return readReportWithBuilds(file).record;
}

/**
 * The same, with the builds still per rig: a run whose reports are several (its infrastructure
 * retries, cli/run-history.ts) adds them together (addBuilds) and collapses them once (dextVersionsOf),
 * so that a retry on a rig with another build keeps both.
 */
export function readReportWithBuilds(file: string): { record: RunRecord; builds: RigBuilds } {
  let report: JsonReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
  } catch (error) {
    throw new Error(`${file}: not a Playwright JSON report (${(error as Error).message})`);
  }
  if (!Array.isArray(report.suites) || typeof report.stats?.startTime !== 'string') {
    throw new Error(`${file}: not a Playwright JSON report (expected "suites" and "stats.startTime"; write one with --reporter json)`);
  }
  return recordOf(report, file);
}

function recordOf(report: JsonReport, source: string): { record: RunRecord; builds: RigBuilds } {
  const results: ResultRow[] = [];
  const measurements: MeasurementRow[] = [];
  const builds: RigBuilds = new Map();
  // The tests as Playwright reported them (scenario × project × repeat), whatever rig an attempt ran on: the run's identity.
  const tests = new Set<string>();
  for (const { spec, test } of testsOf(report)) {
    for (const a of test.annotations ?? []) addBuild(builds, test.projectName, a);
    for (const result of test.results) {
      const rig = rigOfAttempt(test, result);
      for (const a of result.annotations ?? []) addBuild(builds, rig, a);
      const annotations = [...(result.annotations ?? []), ...(test.annotations ?? [])];
      const row: ResultRow = {
        scenario: spec.title, file: spec.file, rig, repeat: test.repeatEachIndex ?? 0,
        attempt: result.retry, status: result.status, durationMs: result.duration,
      };
      if (result.status !== 'passed' && result.status !== 'skipped') {
        const failureClass = annotations.find((a) => a.type === CLASS_ANNOTATION)?.description;
        if (isFailureClass(failureClass)) row.class = failureClass;
        const message = result.error?.message ?? result.errors?.[0]?.message;
        if (message) row.error = firstLine(message);
      }
      if (rig !== test.projectName) row.movedFrom = test.projectName;
      results.push(row);
      tests.add(testKey({ scenario: spec.title, rig: test.projectName, repeat: row.repeat }));
      for (const m of measurementsOf(result)) measurements.push({ scenario: spec.title, rig, ...m });
    }
  }
  // A moved attempt follows that rig's own attempts of the scenario, as when the run records its
  // retries itself (cli/run-history.ts): the index it has on the failed test may be one of theirs.
  const lastAttempt = new Map<string, number>();
  for (const r of results) if (!r.movedFrom) lastAttempt.set(testKey(r), Math.max(lastAttempt.get(testKey(r)) ?? -1, r.attempt));
  for (const r of results.filter((r) => r.movedFrom)) {
    r.attempt = (lastAttempt.get(testKey(r)) ?? -1) + 1;
    lastAttempt.set(testKey(r), r.attempt);
  }
  const started = new Date(report.stats!.startTime!);
  const meta = report.config?.metadata ?? {};
  const commit = typeof meta['gitCommit'] === 'object' && meta['gitCommit'] !== null ? (meta['gitCommit'] as { hash?: string }).hash : undefined;
  const record: RunRecord = {
    key: runKey(started, tests),
    ...(commit ? { commit } : {}),
    dextVersions: dextVersionsOf(builds),
    rig: [...new Set(results.map((r) => r.rig))].sort().join(', '),
    started, ended: new Date(started.getTime() + (report.stats?.duration ?? 0)),
    source, results, measurements,
  };
  return { record, builds };
}

/** One test of a run: scenario × rig × repeat (its attempts share it). */
export function testKey(r: { scenario: string; rig: string; repeat: number }): string {
  return `${r.scenario}\u0000${r.rig}\u0000${r.repeat}`;
}

function addBuild(builds: RigBuilds, rig: string, annotation: JsonAnnotation): void {
  const build = annotation.type === EXTENSION_ANNOTATION ? parseExtensionBuild(annotation.description) : undefined;
  if (!build) return;
  const byRig = builds.get(build.bundle) ?? new Map<string, DextVersion>();
  byRig.set(rig, { ...(build.version ? { version: build.version } : {}), ...(build.sha256 ? { sha256: build.sha256 } : {}) });
  builds.set(build.bundle, byRig);
}

/** Adds `more`'s builds to `builds`; where both have one for a bundle on a rig, `builds`' stays. */
export function addBuilds(builds: RigBuilds, more: RigBuilds): void {
  for (const [bundle, byRig] of more) {
    const into = builds.get(bundle) ?? new Map<string, DextVersion>();
    for (const [rig, build] of byRig) if (!into.has(rig)) into.set(rig, build);
    builds.set(bundle, into);
  }
}

/**
 * A report's identity: its start (Playwright's, to the millisecond; a blob report merged keeps it)
 * and which scenarios ran on which rigs (its projects: an infrastructure retry merged into it
 * does not make it another run). Not the file it came from: CI's copy of a run's results.json,
 * or its blob report, is the run the run itself appended.
 */
function runKey(started: Date, tests: Set<string>): string {
  return createHash('sha256').update(JSON.stringify([started.toISOString(), [...tests].sort()])).digest('hex');
}

/** bundle → build, or `bundle@rig` → build for each rig when the rigs ran different builds. */
export function dextVersionsOf(builds: RigBuilds): Record<string, DextVersion> {
  const out: Record<string, DextVersion> = {};
  for (const [bundle, byRig] of [...builds].sort(([a], [b]) => a.localeCompare(b))) {
    const distinct = new Set([...byRig.values()].map((b) => JSON.stringify(b)));
    if (distinct.size === 1) out[bundle] = byRig.values().next().value!;
    else for (const [rig, build] of [...byRig].sort(([a], [b]) => a.localeCompare(b))) out[`${bundle}@${rig}`] = build;
  }
  return out;
}

type Measured = Omit<MeasurementRow, 'scenario' | 'rig'>;

function measurementsOf(result: JsonResult): Measured[] {
  const attachment = result.attachments?.find((a) => a.name === 'measurements.json');
  const text = attachment?.body !== undefined ? Buffer.from(attachment.body, 'base64').toString('utf8')
    : attachment?.path && existsSync(attachment.path) ? readFileSync(attachment.path, 'utf8') : undefined;
  if (text !== undefined) {
    const list = JSON.parse(text) as { name: string; value: number; unit?: string; min?: number; max?: number }[];
    return list.map((m) => ({
      name: m.name, unit: m.unit ?? '', value: m.value,
      ...(typeof m.min === 'number' ? { min: m.min } : {}), ...(typeof m.max === 'number' ? { max: m.max } : {}),
    }));
  }
  const out: Measured[] = [];
  for (const a of result.annotations ?? []) {
    if (!a.type.startsWith(MEASURE_ANNOTATION)) continue;
    // `12.5 MB/s`: the value, then the unit (scene.ts writes it so).
    const m = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?: (.+))?$/i.exec(a.description ?? '');
    if (m) out.push({ name: a.type.slice(MEASURE_ANNOTATION.length), value: Number(m[1]), unit: m[2] ?? '' });
  }
  return out;
}

/** Playwright's message, uncoloured, its first non-empty line, without the `[class] ` the engine puts first (kept in its own column). */
function firstLine(message: string): string {
  const line = (message.replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim()) ?? '').trim().replace(/^Error: /, '');
  const classed = /^\[([a-z]+)\] /.exec(line);
  return classed && isFailureClass(classed[1]) ? line.slice(classed[0].length) : line;
}
