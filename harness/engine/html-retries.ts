// The reporter that runs before Playwright's HTML reporter in `playwright merge-reports` (see
// html-merge.ts): the merge reads the run's blob and its infrastructure retries' blobs, each as a
// project tree of its own; before the HTML reporter builds the report, each retry that passed is
// moved into the run's own test as its later attempts (the test turns flaky, as Playwright shows a
// test that passed on its own retry) with the `dextbench.infra-retry` annotation, and the retries'
// trees are dropped. Which blob a test came from is told by the merge's onReportConfigure, which it
// calls before each blob's events (Playwright 1.65's reporter v2 interface, as its HTML reporter uses).
import { basename } from 'node:path';
import type { FullConfig, Suite, TestCase } from '@playwright/test/reporter';
import { readHtmlMergeRequest } from './html-merge.ts';
import { INFRA_RETRY_FIELD } from './retry-merge.ts';

export default class HtmlRetries {
  private root: Suite | undefined;
  private blob = '';
  private readonly blobOf = new Map<TestCase, string>();

  version(): 'v2' {
    return 'v2';
  }

  printsToStdio(): boolean {
    return false;
  }

  onConfigure(_config: FullConfig): void {}

  onBegin(suite: Suite): void {
    this.root = suite;
  }

  onReportConfigure(params: { reportPath: string }): void {
    this.blob = basename(params.reportPath);
  }

  onTestBegin(test: TestCase): void {
    if (!this.blobOf.has(test)) this.blobOf.set(test, this.blob);
  }

  onEnd(): void {
    const root = this.root;
    if (!root) return;
    const request = readHtmlMergeRequest();
    const find = (blob: string, rig: string, file: string) => root.allTests()
      .find((t) => this.blobOf.get(t) === blob && t.parent.project()?.name === rig && t.location.file === file);
    for (const retry of request.retries) {
      const original = find(request.mainBlob, retry.from, retry.file);
      const again = find(retry.blob, retry.to, retry.file);
      if (!original || !again) continue;
      const annotation = { type: INFRA_RETRY_FIELD, description: retry.description };
      const before = original.results.length;
      for (const [i, result] of again.results.entries()) {
        original.results.push(Object.assign(result, { retry: before + i, annotations: [...result.annotations, annotation] }));
      }
      original.annotations.push(annotation);
    }
    // Only the run's own tree stays: a test appears once, on the rig the run gave it. A suite's
    // children are its `_entries` (TeleSuite in Playwright 1.65; `suites` is a filtered copy).
    const entries = (root as unknown as { _entries?: unknown[] })._entries;
    for (const project of root.suites) {
      if (project.allTests().some((t) => this.blobOf.has(t) && this.blobOf.get(t) !== request.mainBlob)) entries?.splice(entries.indexOf(project), 1);
    }
  }
}
