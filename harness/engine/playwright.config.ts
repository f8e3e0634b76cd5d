// The Playwright config `dextbench run` drives: one project per rig; a rig's scenarios run one at a
// time in one worker (project workers: 1), different rigs in parallel.
import { defineConfig } from '@playwright/test';
import { loadRig } from '../scenario/index.ts';
import type { RigOptions } from './fixtures.ts';
import { buildReporters } from './reporters.ts';
import { engineDir, readRunConfig, rigTag } from './run-config.ts';

const run = readRunConfig();
const rigs = run.rigFiles.map((file) => loadRig(file, { vars: run.vars }));

export default defineConfig<RigOptions, RigOptions>({
  // Playwright's rootDir is the top-level testDir: every report (HTML, JSON, JUnit, --list) shows
  // paths relative to it, so it is the project the user ran from (scenarios/…, not
  // ../../scenarios/… from this folder). The spec itself is found through each project's testDir.
  testDir: run.rootDir,
  testMatch: 'scenario.spec.ts',
  // The package may live in node_modules; its spec must still be found.
  testIgnore: [],
  outputDir: run.outputDir,
  // Each scenario is its own unit, so --shard splits scenarios, not rigs.
  fullyParallel: true,
  workers: Math.max(1, rigs.length),
  timeout: 2 * 60_000,
  reporter: buildReporters(run.reporters, run.reportDir),
  globalSetup: './global-setup.ts',
  // Scenario scripts (the script: step) load as Node's own ES modules: Playwright's transform (and its
  // cache) would shift the line numbers a failing script is reported at.
  build: { external: ['**/*.mjs'] },
  projects: rigs.map((rig) => ({
    name: rig.name,
    testDir: engineDir,
    workers: 1,
    // Several rigs: each runs the scenarios tagged for it (the ones it has the devices for).
    ...(rigs.length > 1 ? { grep: new RegExp(`${escapeRegExp(rigTag(rig.name))}(?:\\s|$)`) } : {}),
    use: { rigFile: rig.file },
  })),
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
