// Runs the real `dextbench` command, as a user would, in a scratch directory.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './temp.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const bin = join(repoRoot, 'harness/cli/bin.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  cwd: string;
}

export function scratchDir(prefix = 'dextbench-cli-'): string {
  return tempDir(prefix);
}

/**
 * Every `dextbench run` appends to a history in its folder (a PGlite store: seconds, tens of MB), so
 * the CLI tests keep none (DEXTBENCH_HISTORY=off) unless they pass DEXTBENCH_HISTORY themselves.
 */
export function dextbench(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const cwd = options.cwd ?? scratchDir();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CI: '', DEXTBENCH_HISTORY: 'off', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dextbench ${args.join(' ')} did not finish within ${options.timeoutMs ?? 120_000} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, cwd });
    });
  });
}

/** Playwright's JSON report, flattened to tests with their results. */
export interface ReportTest {
  title: string;
  file: string;
  projectName: string;
  status: string;
  results: { status: string; errors: { message?: string }[]; attachments: { name: string; body?: string; path?: string; contentType: string }[]; annotations?: { type: string; description?: string }[] }[];
  annotations: { type: string; description?: string }[];
}

export function readJsonReport(cwd: string): ReportTest[] {
  const report = JSON.parse(readFileSync(join(cwd, 'dextbench-report/results.json'), 'utf8'));
  const tests: ReportTest[] = [];
  const visit = (suite: { title: string; suites?: unknown[]; specs?: { title: string; file: string; tests: { projectName: string; status: string; results: ReportTest['results']; annotations: ReportTest['annotations'] }[] }[] }) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests) tests.push({ title: `${suite.title} › ${spec.title}`, file: spec.file, projectName: t.projectName, status: t.status, results: t.results, annotations: t.annotations });
    }
    for (const child of suite.suites ?? []) visit(child as typeof suite);
  };
  for (const suite of report.suites) visit(suite);
  return tests;
}

export function attachmentText(a: { body?: string; path?: string }): string {
  if (a.body !== undefined) return Buffer.from(a.body, 'base64').toString('utf8');
  if (a.path) return readFileSync(a.path, 'utf8');
  return '';
}
