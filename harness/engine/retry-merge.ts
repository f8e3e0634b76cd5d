// An infrastructure retry writes its reports to <reportDir>/infra-retry-N/; CI reads the run's own
// junit.xml, results.json and html/. So that those say how the run ended, a scenario that failed on
// infrastructure and then passed on a retry is rewritten there as Playwright writes a test that
// passed on its own retry: results.json gets the retry's results as later attempts (status flaky),
// junit.xml loses the testcase's error, and both carry a `dextbench.infra-retry` annotation
// (property) naming the rig it passed on; in results.json each appended attempt also carries a
// `dextbench.ran-on` annotation, the rig it ran on (common/playwright-json.ts), so that `history
// import` of it files that attempt under that rig. html/ is rebuilt the same way by Playwright
// (html-merge.ts). The retry's own reports stay where they are; the run's history reads the
// reports as they were before this rewrite (cli/run-history.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RAN_ON_ANNOTATION, testsOf, type JsonReport, type JsonTest } from '../common/playwright-json.ts';
import { mergeRetriesIntoHtml, removeHtmlBlobs } from './html-merge.ts';
import type { PassedRetry } from './infra-retries.ts';
import { addProperty, childElements, junitScenarioFile, parseJunit, recountRoot, recountSuite, serializeJunit } from './junit-xml.ts';

/** The annotation type, and JUnit property, on a test that passed on an infrastructure retry. */
export const INFRA_RETRY_FIELD = 'dextbench.infra-retry';

export function describeInfraRetry(retry: PassedRetry): string {
  return `failed on rig ${retry.from} on infrastructure; passed on rig ${retry.to} on infrastructure retry ${retry.attempt} (reports in infra-retry-${retry.attempt}/)`;
}

/**
 * Rewrites <reportDir>/results.json, junit.xml and html/ (those the run wrote) for the retries that
 * passed (html-merge.ts), then removes the blobs written for the HTML merge.
 */
export async function mergeInfraRetries(reportDir: string, rootDir: string, passed: PassedRetry[]): Promise<void> {
  try {
    await mergeReports(reportDir, rootDir, passed);
  } finally {
    removeHtmlBlobs(reportDir);
  }
}

async function mergeReports(reportDir: string, rootDir: string, passed: PassedRetry[]): Promise<void> {
  if (passed.length === 0) return;
  const mainFile = join(reportDir, 'results.json');
  if (!existsSync(mainFile)) return;
  const main = JSON.parse(readFileSync(mainFile, 'utf8')) as JsonReport;
  const merged: PassedRetry[] = [];
  for (const retry of passed) {
    const original = findTest(main, rootDir, retry.file, retry.from);
    const retryFile = join(reportDir, `infra-retry-${retry.attempt}`, 'results.json');
    if (!original || original.test.status !== 'unexpected' || !existsSync(retryFile)) continue;
    const again = findTest(JSON.parse(readFileSync(retryFile, 'utf8')) as JsonReport, rootDir, retry.file, retry.to);
    if (!again) continue;
    const annotation = { type: INFRA_RETRY_FIELD, description: describeInfraRetry(retry) };
    const before = original.test.results.length;
    const ranOn = { type: RAN_ON_ANNOTATION, description: retry.to };
    original.test.results.push(...again.test.results.map((r, i) => ({ ...r, retry: before + i, annotations: [...(r.annotations ?? []), annotation, ranOn] })));
    original.test.annotations = [...(original.test.annotations ?? []), annotation];
    original.test.status = 'flaky';
    if (main.stats) {
      main.stats.unexpected = (main.stats.unexpected ?? 1) - 1;
      main.stats.flaky = (main.stats.flaky ?? 0) + 1;
    }
    merged.push(retry);
  }
  if (merged.length === 0) return;
  writeFileSync(mainFile, JSON.stringify(main, null, 2));
  const junitFile = join(reportDir, 'junit.xml');
  if (existsSync(junitFile)) {
    const retried = merged.map((retry) => ({ rig: retry.from, scenario: junitScenarioFile(rootDir, retry.file), retry }));
    writeFileSync(junitFile, passedInJunit(readFileSync(junitFile, 'utf8'), junitFile, retried));
  }
  await mergeRetriesIntoHtml(reportDir, rootDir, merged.map((retry) => ({ ...retry, description: describeInfraRetry(retry) })));
}

function findTest(report: JsonReport, rootDir: string, file: string, rig: string): { test: JsonTest } | undefined {
  const specRoot = report.config?.rootDir ?? rootDir;
  for (const { spec, test } of testsOf(report)) {
    if (resolve(specRoot, spec.file) === file && test.projectName === rig) return { test };
  }
  return undefined;
}

/**
 * The JUnit report (junit-xml.ts: a <testsuite> per rig and scenario file, `hostname` the rig, each
 * <testcase> with its scenario's path from the project as `file`, its failure an <error> or
 * <failure> element): the retried testcase loses its error and gains the property; the suite's and
 * the root's counts follow. The testcase is found by `file`, the path itself, so its classname's
 * mapping (junitClassname) stays in one place.
 */
export function passedInJunit(xml: string, file: string, retried: { rig: string; scenario: string; retry: PassedRetry }[]): string {
  const doc = parseJunit(xml, file);
  for (const { rig, scenario, retry } of retried) {
    for (const suite of childElements(doc.documentElement!, 'testsuite').filter((s) => s.getAttribute('hostname') === rig)) {
      const failed = childElements(suite, 'testcase').find((t) => t.getAttribute('file') === scenario
        && (childElements(t, 'error').length || childElements(t, 'failure').length));
      if (!failed) continue;
      for (const element of [...childElements(failed, 'error'), ...childElements(failed, 'failure')]) {
        const before = element.previousSibling;
        if (before?.nodeType === before?.TEXT_NODE && !before?.nodeValue?.trim()) failed.removeChild(before!);
        failed.removeChild(element);
      }
      addProperty(failed, INFRA_RETRY_FIELD, describeInfraRetry(retry));
      recountSuite(suite);
      break;
    }
  }
  recountRoot(doc);
  return serializeJunit(doc);
}
