// Small results.json files shaped like Playwright's JSON reporter writes them (as
// harness/history/report.ts reads them): specs by scenario name, one test per rig (projectName),
// its results (one per attempt) with the `dextbench.class` annotation on a failure, measurements as
// a `measurements.json` attachment (base64 body) or as `measure:<name>` annotations.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp.ts';

export interface AttemptSpec {
  status: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
  class?: string;
  error?: string;
  /** As the measurements.json attachment (value, unit, bounds). */
  measurements?: { name: string; value: number; unit?: string; min?: number; max?: number }[];
  /** As `measure:<name>` annotations: `12.5 MB/s`. */
  measureAnnotations?: Record<string, string>;
}

export interface TestSpec {
  scenario: string;
  rig?: string;
  file?: string;
  /** One per attempt, Playwright's retries in order. */
  attempts: AttemptSpec[];
}

export function playwrightReport(startTime: Date, tests: TestSpec[]): object {
  const bySpec = new Map<string, TestSpec[]>();
  for (const t of tests) bySpec.set(t.scenario, [...(bySpec.get(t.scenario) ?? []), t]);
  const specs = [...bySpec].map(([title, ofSpec]) => ({
    title, file: ofSpec[0]!.file ?? 'history.yaml', ok: true,
    tests: ofSpec.map((t) => ({
      projectName: t.rig ?? 'sim', repeatEachIndex: 0, annotations: [],
      status: t.attempts.at(-1)!.status === 'passed' ? (t.attempts.length > 1 ? 'flaky' : 'expected') : 'unexpected',
      results: t.attempts.map((a, retry) => ({
        status: a.status, retry, duration: 25, workerIndex: 0, startTime: startTime.toISOString(),
        errors: a.error ? [{ message: `Error: ${a.error}\n    at history.yaml:3:5` }] : [],
        ...(a.error ? { error: { message: `Error: ${a.error}\n    at history.yaml:3:5` } } : {}),
        annotations: [
          ...(a.class ? [{ type: 'dextbench.class', description: a.class }] : []),
          ...Object.entries(a.measureAnnotations ?? {}).map(([name, description]) => ({ type: `measure:${name}`, description })),
        ],
        attachments: a.measurements
          ? [{ name: 'measurements.json', contentType: 'application/json', body: Buffer.from(JSON.stringify(a.measurements)).toString('base64') }]
          : [],
      })),
    })),
  }));
  return {
    config: { metadata: {} },
    suites: [{ title: 'history.yaml', file: 'history.yaml', specs, suites: [] }],
    errors: [],
    stats: { startTime: startTime.toISOString(), duration: 1000, expected: 0, unexpected: 0, flaky: 0, skipped: 0 },
  };
}

/** Writes it to a new temp folder; its path. */
export function writePlaywrightReport(startTime: Date, tests: TestSpec[]): string {
  const file = join(tempDir('dextbench-report-'), 'results.json');
  writeFileSync(file, JSON.stringify(playwrightReport(startTime, tests), null, 2));
  return file;
}
