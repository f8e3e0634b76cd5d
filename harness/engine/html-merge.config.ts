// The config of `playwright merge-reports` that rebuilds the run's HTML report with its
// infrastructure retries (html-merge.ts): the run's project as root, so paths read as in the run's
// own report, and html-retries.ts before the HTML reporter.
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { readHtmlMergeRequest } from './html-merge.ts';
import { engineDir } from './run-config.ts';

const request = readHtmlMergeRequest();

export default defineConfig({
  testDir: request.rootDir,
  reporter: [[join(engineDir, 'html-retries.ts')], ['html', { outputFolder: request.outputFolder, open: 'never' }]],
});
