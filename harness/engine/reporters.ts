// `--reporter html,junit,json,blob` becomes reporters with their report files under the report dir,
// and annotations embedded as JUnit properties: measurements, and a failed test's class
// (`<property name="dextbench.class" value="product">`, see failure-class.ts). JUnit testcases are
// named `[rig] title` and, by the reporter that follows Playwright's, classed by their scenario file
// (junit-xml.ts).
import { join } from 'node:path';
import { HTML_BLOB_DIR, HTML_BLOB_FILE } from './html-merge.ts';
import { engineDir } from './run-config.ts';
import type { ReporterDescription } from '@playwright/test';

export const KNOWN_REPORTERS = ['list', 'line', 'dot', 'html', 'junit', 'json', 'blob', 'github', 'null'] as const;
const TERMINAL = new Set(['list', 'line', 'dot', 'github', 'null']);

export function buildReporters(names: string[], reportDir: string): ReporterDescription[] {
  const chosen = names.length ? names : ['list'];
  const reporters: ReporterDescription[] = chosen.map((name): ReporterDescription => {
    switch (name) {
      case 'html': return ['html', { outputFolder: join(reportDir, 'html'), open: 'never' }];
      case 'junit': return ['junit', { outputFile: join(reportDir, 'junit.xml'), embedAnnotationsAsProperties: true, includeProjectInTestName: true }];
      case 'json': return ['json', { outputFile: join(reportDir, 'results.json') }];
      case 'blob': return ['blob', { outputDir: join(reportDir, 'blob') }];
      default: return [name];
    }
  });
  // The HTML report can only be rebuilt from a blob: infrastructure retries merge into it (html-merge.ts).
  if (chosen.includes('html')) reporters.push(['blob', { outputDir: join(reportDir, HTML_BLOB_DIR), fileName: HTML_BLOB_FILE }]);
  if (chosen.includes('junit')) reporters.push([join(engineDir, 'junit-scenarios.ts'), { outputFile: join(reportDir, 'junit.xml') }]);
  // People watching a run expect progress in the terminal even when they asked for file reports.
  if (!chosen.some((n) => TERMINAL.has(n))) reporters.unshift(['list']);
  return reporters;
}
