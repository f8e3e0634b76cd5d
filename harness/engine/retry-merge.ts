// An infrastructure retry writes its reports to <reportDir>/infra-retry-N/; CI reads the run's own
// junit.xml and results.json. So that those say how the run ended, a scenario that failed on
// infrastructure and then passed on a retry is rewritten there as Playwright writes a test that
// passed on its own retry: results.json gets the retry's results as later attempts (status flaky),
// junit.xml loses the testcase's error, and both carry a `dextbench.infra-retry` annotation
// (property) naming the rig it passed on. The retry's own reports stay where they are; the run's
// history reads the reports as they were before this rewrite (cli/run-history.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PassedRetry } from './infra-retries.ts';

/** The annotation type, and JUnit property, on a test that passed on an infrastructure retry. */
export const INFRA_RETRY_FIELD = 'dextbench.infra-retry';

interface JsonAnnotation { type: string; description?: string }
interface JsonResult { retry: number; status: string; annotations?: JsonAnnotation[] }
interface JsonTest { projectName: string; status: string; annotations?: JsonAnnotation[]; results: JsonResult[] }
interface JsonSuite { specs?: { title: string; file: string; tests: JsonTest[] }[]; suites?: JsonSuite[] }
interface JsonReport { config?: { rootDir?: string }; suites?: JsonSuite[]; stats?: { unexpected?: number; flaky?: number } }

export function describeInfraRetry(retry: PassedRetry): string {
  return `failed on rig ${retry.from} on infrastructure; passed on rig ${retry.to} on infrastructure retry ${retry.attempt} (reports in infra-retry-${retry.attempt}/)`;
}

/** Rewrites <reportDir>/results.json and junit.xml (those the run wrote) for the retries that passed. */
export function mergeInfraRetries(reportDir: string, rootDir: string, passed: PassedRetry[]): void {
  if (passed.length === 0) return;
  const mainFile = join(reportDir, 'results.json');
  if (!existsSync(mainFile)) return;
  const main = JSON.parse(readFileSync(mainFile, 'utf8')) as JsonReport;
  const titles: { rig: string; title: string; retry: PassedRetry }[] = [];
  for (const retry of passed) {
    const original = findTest(main, rootDir, retry.file, retry.from);
    const retryFile = join(reportDir, `infra-retry-${retry.attempt}`, 'results.json');
    if (!original || original.test.status !== 'unexpected' || !existsSync(retryFile)) continue;
    const again = findTest(JSON.parse(readFileSync(retryFile, 'utf8')) as JsonReport, rootDir, retry.file, retry.to);
    if (!again) continue;
    const annotation = { type: INFRA_RETRY_FIELD, description: describeInfraRetry(retry) };
    const before = original.test.results.length;
    original.test.results.push(...again.test.results.map((r, i) => ({ ...r, retry: before + i, annotations: [...(r.annotations ?? []), annotation] })));
    original.test.annotations = [...(original.test.annotations ?? []), annotation];
    original.test.status = 'flaky';
    if (main.stats) {
      main.stats.unexpected = (main.stats.unexpected ?? 1) - 1;
      main.stats.flaky = (main.stats.flaky ?? 0) + 1;
    }
    titles.push({ rig: retry.from, title: original.title, retry });
  }
  if (titles.length === 0) return;
  writeFileSync(mainFile, JSON.stringify(main, null, 2));
  const junitFile = join(reportDir, 'junit.xml');
  if (existsSync(junitFile)) writeFileSync(junitFile, passedInJunit(readFileSync(junitFile, 'utf8'), titles));
}

function findTest(report: JsonReport, rootDir: string, file: string, rig: string): { title: string; test: JsonTest } | undefined {
  const specRoot = report.config?.rootDir ?? rootDir;
  const visit = (suite: JsonSuite): { title: string; test: JsonTest } | undefined => {
    for (const spec of suite.specs ?? []) {
      if (resolve(specRoot, spec.file) !== file) continue;
      const test = spec.tests.find((t) => t.projectName === rig);
      if (test) return { title: spec.title, test };
    }
    for (const child of suite.suites ?? []) {
      const found = visit(child);
      if (found) return found;
    }
    return undefined;
  };
  for (const suite of report.suites ?? []) {
    const found = visit(suite);
    if (found) return found;
  }
  return undefined;
}

/**
 * Playwright's JUnit report (one <testsuite> per rig and spec file, `hostname` the rig, a
 * <testcase> per scenario named by its title, its failure an <error> or <failure> element): the
 * retried testcase loses its error and gains the property; the suite's and the root's counts follow.
 */
export function passedInJunit(xml: string, retried: { rig: string; title: string; retry: PassedRetry }[]): string {
  let removedTotal = { errors: 0, failures: 0 };
  const out = xml.replace(/<testsuite [^>]*>[\s\S]*?<\/testsuite>/g, (suite) => {
    const host = /^<testsuite [^>]*\bhostname="([^"]*)"/.exec(suite)?.[1];
    const here = retried.filter((r) => escapeXml(r.rig) === host);
    if (here.length === 0) return suite;
    const removed = { errors: 0, failures: 0 };
    let changed = suite;
    for (const { title, retry } of here) {
      changed = changed.replace(new RegExp(`<testcase name="${escapeRegExp(escapeXml(title))}"[^>]*>[\\s\\S]*?</testcase>`), (testcase) => {
        let text = testcase.replace(/<error\b[\s\S]*?<\/error>\n?/, () => { removed.errors++; return ''; })
          .replace(/<failure\b[\s\S]*?<\/failure>\n?/, () => { removed.failures++; return ''; });
        const property = `<property name="${INFRA_RETRY_FIELD}" value="${escapeXml(describeInfraRetry(retry))}">\n</property>\n`;
        text = text.includes('</properties>') ? text.replace('</properties>', `${property}</properties>`)
          : text.replace(/^(<testcase [^>]*>\n?)/, `$1<properties>\n${property}</properties>\n`);
        return text;
      });
    }
    removedTotal = { errors: removedTotal.errors + removed.errors, failures: removedTotal.failures + removed.failures };
    return lessCounted(changed, /^<testsuite [^>]*>/, removed);
  });
  return lessCounted(out, /<testsuites [^>]*>/, removedTotal);
}

/** The element's errors="n" and failures="n" attributes lowered by what was removed. */
function lessCounted(xml: string, element: RegExp, removed: { errors: number; failures: number }): string {
  return xml.replace(element, (tag) => tag
    .replace(/\berrors="(\d+)"/, (_, n: string) => `errors="${Math.max(0, Number(n) - removed.errors)}"`)
    .replace(/\bfailures="(\d+)"/, (_, n: string) => `failures="${Math.max(0, Number(n) - removed.failures)}"`));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
