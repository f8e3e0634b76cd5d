// Playwright's JSON report (results.json; what its `json` reporter writes, and `merge-reports
// --reporter json` from blob reports), as far as dextbench reads and rewrites it: the history
// (history/report.ts), a run's results (engine/run-results.ts) and the merge of infrastructure
// retries (engine/retry-merge.ts). Typed from Playwright 1.65's JSONReporter and its JSONReport*
// types (types/testReporter.d.ts). Only the fields these read or write; those the readers can do
// without are optional, so a report written by hand or by another Playwright still reads.

export interface JsonAnnotation { type: string; description?: string }

export interface JsonAttachment { name: string; contentType?: string; path?: string; body?: string }

export interface JsonLocation { file: string; line: number; column: number }

/** `error` is Playwright's TestError; `errors` its JSONReportError: both carry these. */
export interface JsonError { message?: string; location?: JsonLocation }

/** One attempt. */
export interface JsonResult {
  /** passed, failed, timedOut, interrupted, skipped. */
  status: string;
  /** Playwright's retry index: 0 for the first attempt. */
  retry: number;
  duration: number;
  startTime?: string;
  error?: JsonError;
  errors?: JsonError[];
  annotations?: JsonAnnotation[];
  attachments?: JsonAttachment[];
}

/** A spec on one project: dextbench's projects are its rigs. */
export interface JsonTest {
  projectName: string;
  status: 'expected' | 'unexpected' | 'flaky' | 'skipped';
  /** Not written by Playwright 1.65's JSON reporter; read when a report carries it, else 0. */
  repeatEachIndex?: number;
  /** Those of the last attempt (Playwright copies each attempt's onto the test), and any added after the run. */
  annotations?: JsonAnnotation[];
  results: JsonResult[];
}

/** A scenario (dextbench's specs are its scenarios). `file` is relative to config.rootDir. */
export interface JsonSpec { title: string; file: string; tests: JsonTest[] }

export interface JsonSuite { specs?: JsonSpec[]; suites?: JsonSuite[] }

export interface JsonReport {
  config?: { rootDir?: string; metadata?: Record<string, unknown> };
  suites?: JsonSuite[];
  /** Errors outside every test (e.g. --max-failures stopping the run). */
  errors?: JsonError[];
  stats?: { startTime?: string; duration?: number; expected?: number; unexpected?: number; flaky?: number; skipped?: number };
}

/** Every test of the report with its spec, in the report's order: a suite's specs, then its child suites, depth first. */
export function testsOf(report: JsonReport): Generator<{ spec: JsonSpec; test: JsonTest }> {
  return testsIn(report.suites ?? []);
}

function* testsIn(suites: JsonSuite[]): Generator<{ spec: JsonSpec; test: JsonTest }> {
  for (const suite of suites) {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) yield { spec, test };
    }
    yield* testsIn(suite.suites ?? []);
  }
}

/**
 * dextbench's annotation on each attempt an infrastructure retry appended to the test that failed
 * (engine/retry-merge.ts): the rig it ran on (its description), which may be another rig than the
 * test's project. The history files such an attempt, its measurements and its builds under that rig.
 */
export const RAN_ON_ANNOTATION = 'dextbench.ran-on';

/** The rig an attempt ran on: its `dextbench.ran-on` annotation's, else its test's project. */
export function rigOfAttempt(test: JsonTest, result: JsonResult): string {
  return result.annotations?.find((a) => a.type === RAN_ON_ANNOTATION)?.description || test.projectName;
}
