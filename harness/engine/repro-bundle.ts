// A failing scenario's repro bundle: the folder `repro/` in its test-results folder, with what
// `dextbench repro` needs to rerun it with the same inputs and to say how another rig differs:
//   scenario.yaml, rig.yaml  the files as they ran (variables expanded; paths inside the project
//                            `./`-relative to its root, others absolute)
//   inputs.json              the variables, seeds and Playwright's parameters of that attempt
//   manifest.json            macOS build, extensions (bundle id, version, content hash), hubs, devices, dextbench
//   timeline.jsonl, the failure artifacts and error.txt
// The reports get its files as attachments and the rerun command as a text attachment, which the
// list output prints under the failure. A bundle travels (uploaded by CI, opened in a developer's
// checkout at another path): it names project files relative to the project's root (the run's
// directory), its own files by name, and nothing by the path of the machine that wrote it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { TestInfo } from '@playwright/test';
import { packageRoot } from '../common/package-root.ts';
import { projectRelative } from '../common/project-path.ts';
import type { RigSession } from '../rig/connect.ts';
import { collectManifest, type ReproManifest } from '../rig/manifest.ts';
import type { ExtensionDecl } from '../rig/types.ts';
import { DeferredStepArgs, projectPath, resolvedRigYaml, resolvedScenarioYaml, type Scenario } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';

export const BUNDLE_DIR = 'repro';
/** What the bundle copies from the test's folder when the scenario left them. */
const COPIED = ['timeline.jsonl', 'systemextensionsctl-list.txt', 'ioreg-usb.txt', 'unified-log.txt', 'unified-log.ndjson', 'measurements.json'];

export interface ReproInputs {
  format: 1;
  /** `file`: relative to the project's root when inside it (dextbench repro resolves it against its own). */
  scenario: { name: string; file: string; vars: Record<string, string> };
  rig: { name: string; file: string; vars: Record<string, string> };
  /** --var of the run. */
  vars: Record<string, string>;
  /** The seed of every step that takes one, by its YAML line. */
  seeds: { at: string; kind: string; seed: string }[];
  playwright: { title: string; project: string; repeatEachIndex: number; retry: number; status: string };
  /** Set when the run kept the rig as the failure left it (--hold). */
  held?: { until: string };
  errors: string[];
  createdAt: string;
}

export interface BundleSource {
  scenario: Scenario;
  extensions: Record<string, ExtensionDecl>;
  runVars: Record<string, string>;
  rootDir: string;
}

/** Writes the bundle and attaches it; returns its folder. Never throws: a bundle is a bonus to the failure. */
export async function saveReproBundle(rig: RigSession, source: BundleSource, testInfo: TestInfo, held?: { until: string }): Promise<string> {
  const dir = testInfo.outputPath(BUNDLE_DIR);
  mkdirSync(dir, { recursive: true });
  const { scenario } = source;
  const write = (name: string, body: string) => writeFileSync(join(dir, name), body);
  const attempt = (name: string, produce: () => string) => {
    try {
      write(name, produce());
    } catch (error) {
      write(`${name}.error.txt`, `could not write ${name}: ${(error as Error).message}\n`);
    }
  };
  const root = source.rootDir;
  attempt('scenario.yaml', () => resolvedScenarioYaml(scenario.file, { steps: stepRegistry, vars: source.runVars, rigVars: rig.definition.vars }, root));
  attempt('rig.yaml', () => resolvedRigYaml(rig.definition.file, { vars: source.runVars }, root));
  const inputs: ReproInputs = {
    format: 1,
    scenario: { name: scenario.name, file: projectRelative(root, scenario.file), vars: portableVars(scenario.vars, root) },
    rig: { name: rig.definition.name, file: projectRelative(root, rig.definition.file), vars: portableVars(rig.definition.vars, root) },
    vars: portableVars(source.runVars, root),
    seeds: seedsOf(scenario, source.rootDir),
    playwright: { title: testInfo.title, project: testInfo.project.name, repeatEachIndex: testInfo.repeatEachIndex, retry: testInfo.retry, status: testInfo.status ?? 'failed' },
    ...(held ? { held } : {}),
    errors: testInfo.errors.map((e) => e.message ?? String(e.value)),
    createdAt: new Date().toISOString(),
  };
  write('inputs.json', `${JSON.stringify(inputs, null, 2)}\n`);
  const manifest: ReproManifest = await collectManifest(rig, { devices: scenario.uses.devices, extensions: source.extensions }, dextbenchBuild(), root);
  write('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  write('error.txt', `${inputs.errors.join('\n\n')}\n`);
  for (const name of COPIED) {
    const from = testInfo.outputPath(name);
    if (existsSync(from)) copyFileSync(from, join(dir, name));
  }
  for (const [name, contentType] of [['scenario.yaml', 'application/yaml'], ['rig.yaml', 'application/yaml'], ['manifest.json', 'application/json'], ['inputs.json', 'application/json']] as const) {
    // As bodies of non-text types: in the HTML and JSON reports, not printed by the list reporter.
    if (existsSync(join(dir, name))) await testInfo.attach(`${BUNDLE_DIR}/${name}`, { body: readFileSync(join(dir, name)), contentType });
  }
  await testInfo.attach('repro', { body: `npx dextbench repro ${relative(source.rootDir, dir) || '.'}`, contentType: 'text/plain' });
  return dir;
}

/** Values that are paths inside the project (the loaders make path variables absolute) as `./` from its root. */
function portableVars(vars: Record<string, string>, root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, isAbsolute(value) ? projectPath(root, value) : value]));
}

function seedsOf(scenario: Scenario, rootDir: string): ReproInputs['seeds'] {
  return [...scenario.setup, ...scenario.steps, ...scenario.cleanup].flatMap((step) => {
    const args = step.args instanceof DeferredStepArgs ? step.args.template : step.args;
    const seed = typeof args === 'object' && args !== null ? (args as { seed?: unknown }).seed : undefined;
    if (seed === undefined) return [];
    return [{ at: `${relative(rootDir, step.location.file)}:${step.location.line}`, kind: step.kind, seed: String(seed) }];
  });
}

let build: ReproManifest['dextbench'] | undefined;
/** dextbench's version, and its git commit when it runs from a checkout. */
function dextbenchBuild(): ReproManifest['dextbench'] {
  if (build) return build;
  const version = String((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  let commit: string | undefined;
  // Only dextbench's own checkout: installed under node_modules, git would name the user's project.
  if (existsSync(join(packageRoot, '.git'))) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
    } catch {
      // No git here: the version alone says which dextbench ran.
    }
  }
  build = { version, ...(commit ? { commit } : {}) };
  return build;
}
