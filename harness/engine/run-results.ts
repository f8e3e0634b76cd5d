// What a run's Playwright JSON report (results.json) says about each scenario on each rig: its
// outcome, its failure class (the `dextbench.class` annotation) and where it failed. The health
// check reads its failing step from it; infrastructure retries read which scenarios to run again.
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { isFailureClass, type FailureClass } from '../common/failure-class.ts';
import { testsOf, type JsonAnnotation, type JsonAttachment, type JsonError, type JsonReport } from '../common/playwright-json.ts';
import { FAILURE_CLASS_FIELD } from './failure-class.ts';

export interface ScenarioResult {
  /** Absolute path of the scenario file. */
  file: string;
  /** The rig it ran on (its Playwright project). */
  rig: string;
  /** Playwright's outcome: expected, unexpected, flaky (passed on one of Playwright's --retries) or skipped. */
  outcome: 'expected' | 'unexpected' | 'flaky' | 'skipped';
  /** Attempts Playwright made (1 + its own --retries used). */
  attempts: number;
  /** The last attempt's status: passed, failed, timedOut, interrupted, skipped. */
  lastStatus: string;
  failureClass?: FailureClass;
  /** The last attempt's failure, one line: `file:line: message` (file relative to rootDir). */
  failure?: string;
}

/** A scenario with what `dextbench report` also shows: its name, when it began, how long its attempts took, its last attempt's attachments. */
export interface ScenarioRun extends ScenarioResult {
  title: string;
  startTime?: string;
  /** All attempts together. */
  durationMs: number;
  attachments: JsonAttachment[];
  /** The test's own annotations (those of its last attempt, and any added after the run, e.g. dextbench.infra-retry). */
  annotations: JsonAnnotation[];
  /** When it passed on a later attempt: its first failed attempt (1-based), that attempt's failure line and class. */
  firstFailure?: { attempt: number; failure: string; failureClass?: FailureClass };
}

/** The scenarios of results.json; undefined when the run wrote none (refused before any test). */
export function readRunResults(resultsFile: string, rootDir: string): ScenarioResult[] | undefined {
  return readRunDetails(resultsFile, rootDir)?.scenarios.map(({ title: _t, startTime: _s, durationMs: _d, attachments: _a, annotations: _n, firstFailure: _f, ...result }) => result);
}

/** The same with each scenario's name, timing and attachments, and when the run began. */
export function readRunDetails(resultsFile: string, rootDir: string): { startTime?: string; scenarios: ScenarioRun[] } | undefined {
  if (!existsSync(resultsFile)) return undefined;
  const report = JSON.parse(readFileSync(resultsFile, 'utf8')) as JsonReport;
  const specRoot = report.config?.rootDir ?? rootDir;
  const out: ScenarioRun[] = [];
  for (const { spec, test } of testsOf(report)) {
    const last = test.results.at(-1);
    const entry: ScenarioRun = {
      file: resolve(specRoot, spec.file), rig: test.projectName, outcome: test.status,
      attempts: test.results.length, lastStatus: last?.status ?? 'skipped',
      title: spec.title, ...(last?.startTime ? { startTime: last.startTime } : {}),
      durationMs: test.results.reduce((sum, r) => sum + (r.duration ?? 0), 0), attachments: last?.attachments ?? [],
      annotations: test.annotations ?? [],
    };
    const annotations = [...(last?.annotations ?? []), ...(test.annotations ?? [])];
    const failureClass = annotations.find((a) => a.type === FAILURE_CLASS_FIELD)?.description;
    if (isFailureClass(failureClass)) entry.failureClass = failureClass;
    const error = last?.error ?? last?.errors?.[0];
    if (error && last?.status !== 'passed') entry.failure = failureLine(error, rootDir);
    // A pass on a later attempt: Playwright keeps the earlier failure (and its class) only on that attempt.
    const firstFailed = last?.status === 'passed' ? test.results.findIndex((r) => r.status !== 'passed' && r.status !== 'skipped') : -1;
    const failed = test.results[firstFailed];
    const failedError = failed?.error ?? failed?.errors?.[0];
    if (failed && failedError) {
      const failedClass = failed.annotations?.find((a) => a.type === FAILURE_CLASS_FIELD)?.description;
      entry.firstFailure = { attempt: firstFailed + 1, failure: failureLine(failedError, rootDir), ...(isFailureClass(failedClass) ? { failureClass: failedClass } : {}) };
    }
    out.push(entry);
  }
  return { ...(report.stats?.startTime ? { startTime: report.stats.startTime } : {}), scenarios: out };
}

function failureLine(error: JsonError, rootDir: string): string {
  // Playwright colours messages for terminals.
  const message = (error.message ?? 'failed').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim())?.trim() ?? 'failed';
  const text = message.replace(/^Error: /, '');
  if (!error.location) return text;
  return `${relative(rootDir, error.location.file)}:${error.location.line}: ${text}`;
}
