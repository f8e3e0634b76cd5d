// A run as the history keeps it, read from Playwright's JSON report (results.json, which every
// `dextbench run` writes, or one that CI merged from blob reports): each scenario's attempts on
// each rig with their status, failure class (the `dextbench.class` annotation) and error line, and
// its measurements (the `measurements.json` attachment when its file is at hand; else the
// `measure:<name>` annotations, which carry value and unit but not the bounds), and the builds of
// the extensions it ran (the `dextbench.extension` annotations).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { EXTENSION_ANNOTATION, parseExtensionBuild } from '../common/extension-build.ts';
import { isFailureClass, type FailureClass } from '../common/failure-class.ts';

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

interface JsonAnnotation { type: string; description?: string }
interface JsonAttachment { name: string; path?: string; body?: string }
interface JsonResult {
  status: string;
  retry: number;
  duration: number;
  errors?: { message?: string }[];
  error?: { message?: string };
  annotations?: JsonAnnotation[];
  attachments?: JsonAttachment[];
}
interface JsonTest { projectName: string; repeatEachIndex?: number; annotations?: JsonAnnotation[]; results: JsonResult[] }
interface JsonSuite { specs?: { title: string; file: string; tests: JsonTest[] }[]; suites?: JsonSuite[] }
interface JsonReport { config?: { metadata?: Record<string, unknown> }; suites?: JsonSuite[]; stats?: { startTime?: string; duration?: number } }

/** Reads a results.json; one clear line when it is not a Playwright JSON report. */
export function readReport(file: string): RunRecord {
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

function recordOf(report: JsonReport, source: string): RunRecord {
  const results: ResultRow[] = [];
  const measurements: MeasurementRow[] = [];
  const builds = new Map<string, Map<string, DextVersion>>();
  const visit = (suite: JsonSuite): void => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        for (const a of [...(test.annotations ?? []), ...test.results.flatMap((r) => r.annotations ?? [])]) {
          const build = a.type === EXTENSION_ANNOTATION ? parseExtensionBuild(a.description) : undefined;
          if (!build) continue;
          const byRig = builds.get(build.bundle) ?? new Map<string, DextVersion>();
          byRig.set(test.projectName, { ...(build.version ? { version: build.version } : {}), ...(build.sha256 ? { sha256: build.sha256 } : {}) });
          builds.set(build.bundle, byRig);
        }
        for (const result of test.results) {
          const annotations = [...(result.annotations ?? []), ...(test.annotations ?? [])];
          const row: ResultRow = {
            scenario: spec.title, file: spec.file, rig: test.projectName, repeat: test.repeatEachIndex ?? 0,
            attempt: result.retry, status: result.status, durationMs: result.duration,
          };
          if (result.status !== 'passed' && result.status !== 'skipped') {
            const failureClass = annotations.find((a) => a.type === CLASS_ANNOTATION)?.description;
            if (isFailureClass(failureClass)) row.class = failureClass;
            const message = result.error?.message ?? result.errors?.[0]?.message;
            if (message) row.error = firstLine(message);
          }
          results.push(row);
          for (const m of measurementsOf(result)) measurements.push({ scenario: spec.title, rig: test.projectName, ...m });
        }
      }
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  for (const suite of report.suites ?? []) visit(suite);
  const started = new Date(report.stats!.startTime!);
  const meta = report.config?.metadata ?? {};
  const commit = typeof meta['gitCommit'] === 'object' && meta['gitCommit'] !== null ? (meta['gitCommit'] as { hash?: string }).hash : undefined;
  return {
    key: runKey(started, results),
    ...(commit ? { commit } : {}),
    dextVersions: dextVersionsOf(builds),
    rig: [...new Set(results.map((r) => r.rig))].sort().join(', '),
    started, ended: new Date(started.getTime() + (report.stats?.duration ?? 0)),
    source, results, measurements,
  };
}

/**
 * A report's identity: its start (Playwright's, to the millisecond; a blob report merged keeps it)
 * and which scenarios ran on which rigs. Not the file it came from: CI's copy of a run's
 * results.json, or its blob report, is the run the run itself appended.
 */
function runKey(started: Date, results: ResultRow[]): string {
  const tests = [...new Set(results.map((r) => `${r.scenario}\u0000${r.rig}\u0000${r.repeat}`))].sort();
  return createHash('sha256').update(JSON.stringify([started.toISOString(), tests])).digest('hex');
}

/** bundle → build, or `bundle@rig` → build for each rig when the rigs ran different builds. */
function dextVersionsOf(builds: Map<string, Map<string, DextVersion>>): Record<string, DextVersion> {
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
