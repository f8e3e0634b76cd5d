// The run's HTML report after infrastructure retries: each Playwright run that writes an HTML report
// also writes a blob of it (reporters.ts, <reportDir>/.html-blob/); when retries passed, the run's
// html/ is rebuilt by Playwright's own `merge-reports` from the run's blob and those retries' blobs,
// with html-retries.ts folding each passed retry into the run's test (html-merge.config.ts). The
// report so shows the scenario once, flaky, with the failed attempt and the one that passed, their
// steps and attachments, and says on which rig it passed. The blobs are removed afterwards.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { withDeadline } from '../common/time.ts';
import { engineDir } from './run-config.ts';

/** Where a run that writes an HTML report writes its blob, under its report dir. */
export const HTML_BLOB_DIR = '.html-blob';
export const HTML_BLOB_FILE = 'report.zip';
const MERGE_DEADLINE_MS = 5 * 60_000;

/** A retry that passed: the scenario file (absolute), its rigs, and the blob it is in. */
export interface HtmlRetry { file: string; from: string; to: string; blob: string; description: string }
export interface HtmlMergeRequest { rootDir: string; outputFolder: string; mainBlob: string; retries: HtmlRetry[] }

const ENV_KEY = 'DEXTBENCH_HTML_MERGE';

export function readHtmlMergeRequest(): HtmlMergeRequest {
  const raw = process.env[ENV_KEY];
  if (!raw) throw new Error('this config merges a dextbench run\'s HTML report; `dextbench run` uses it after infrastructure retries');
  return JSON.parse(raw) as HtmlMergeRequest;
}

/**
 * Rebuilds <reportDir>/html with the retries that passed (each `attempt` in <reportDir>/infra-retry-N/).
 * Returns false, leaving html/ as the run wrote it, when a blob is missing or the merge failed.
 */
export async function mergeRetriesIntoHtml(reportDir: string, rootDir: string, retries: (Omit<HtmlRetry, 'blob'> & { attempt: number })[]): Promise<boolean> {
  const mainBlob = join(reportDir, HTML_BLOB_DIR, HTML_BLOB_FILE);
  const retryBlob = (attempt: number) => join(reportDir, `infra-retry-${attempt}`, HTML_BLOB_DIR, HTML_BLOB_FILE);
  if (!existsSync(join(reportDir, 'html')) || !existsSync(mainBlob) || retries.some((r) => !existsSync(retryBlob(r.attempt)))) return false;
  const mergeDir = join(reportDir, '.html-merge');
  rmSync(mergeDir, { recursive: true, force: true });
  mkdirSync(mergeDir);
  try {
    copyFileSync(mainBlob, join(mergeDir, 'run.zip'));
    for (const attempt of new Set(retries.map((r) => r.attempt))) copyFileSync(retryBlob(attempt), join(mergeDir, `infra-retry-${attempt}.zip`));
    const request: HtmlMergeRequest = {
      rootDir, outputFolder: join(reportDir, 'html'), mainBlob: 'run.zip',
      retries: retries.map(({ attempt, ...r }) => ({ ...r, blob: `infra-retry-${attempt}.zip` })),
    };
    const failed = await runMergeReports(mergeDir, request);
    if (failed) console.log(`dextbench: the HTML report could not be merged with its infrastructure retries (playwright merge-reports ${failed}); their own reports are in infra-retry-N/html/`);
    return !failed;
  } finally {
    rmSync(mergeDir, { recursive: true, force: true });
  }
}

/** The blobs the run and its retries wrote for the merge: only html/ is the report. */
export function removeHtmlBlobs(reportDir: string): void {
  rmSync(join(reportDir, HTML_BLOB_DIR), { recursive: true, force: true });
  const retries = existsSync(reportDir) ? readdirSync(reportDir).filter((name) => /^infra-retry-\d+$/.test(name)) : [];
  for (const dir of retries) rmSync(join(reportDir, dir, HTML_BLOB_DIR), { recursive: true, force: true });
}

/** Runs `playwright merge-reports` on the blobs in mergeDir; what went wrong, or undefined. */
async function runMergeReports(mergeDir: string, request: HtmlMergeRequest): Promise<string | undefined> {
  const playwrightCli = createRequire(import.meta.url).resolve('@playwright/test/cli');
  const child = spawn(process.execPath, [playwrightCli, 'merge-reports', '--config', join(engineDir, 'html-merge.config.ts'), mergeDir], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, [ENV_KEY]: JSON.stringify(request) },
  });
  const closed = new Promise<number>((resolveCode) => child.on('close', (code) => resolveCode(code ?? 1)));
  try {
    const code = await withDeadline(closed, MERGE_DEADLINE_MS, 'playwright merge-reports');
    return code === 0 ? undefined : `exited ${code}`;
  } catch (error) {
    child.kill('SIGKILL');
    return (error as Error).message;
  }
}
