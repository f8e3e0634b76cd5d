// `dextbench run [files|folders] [--rig rigs/x.yaml ...] [--var NAME=value] [Playwright options]`
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { writeRunConfig, engineDir, type RunConfig } from '../engine/run-config.ts';
import { KNOWN_REPORTERS } from '../engine/reporters.ts';
import { loadRig, loadScenario } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { FileIssues, UsageError } from './errors.ts';
import { defaultPath, defaultRigFile, expandYamlPaths } from './paths.ts';

const PLAYWRIGHT_VALUED = [
  '--grep', '-g', '--grep-invert', '--repeat-each', '--retries', '--shard', '--workers', '-j',
  '--timeout', '--max-failures', '--project', '--trace', '--global-timeout',
];

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var', '--reporter', '--output'], passthroughValued: PLAYWRIGHT_VALUED });
  if (args.passthrough.includes('--config') || args.passthrough.some((a) => a.startsWith('--config='))) {
    throw new UsageError('--config is set by dextbench; choose rigs with --rig and scenarios by path');
  }
  const vars = parseVars(args.options.get('--var') ?? []);
  const rigFiles = (args.options.get('--rig') ?? [defaultRigFile()]).map((f) => resolve(f));
  const reporters = (args.options.get('--reporter') ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
  for (const r of reporters) {
    if (!(KNOWN_REPORTERS as readonly string[]).includes(r)) throw new UsageError(`unknown reporter "${r}" (known: ${KNOWN_REPORTERS.join(', ')})`);
  }
  const scenarioFiles = expandYamlPaths(args.positionals.length ? args.positionals : [defaultPath('scenarios')])
    .filter((f) => !f.endsWith('schema.json'));
  if (scenarioFiles.length === 0) throw new UsageError('no scenario files (*.yaml) found');

  // Everything is validated before a rig is touched: bad files never leave a rig half set up.
  const issues: string[] = [];
  const rigNames = new Map<string, string>();
  const rigs = [];
  for (const file of rigFiles) {
    try {
      const rig = loadRig(file, { vars });
      const other = rigNames.get(rig.name);
      if (other) issues.push(`${relative(process.cwd(), file)}: rig name "${rig.name}" is also used by ${relative(process.cwd(), other)}; rig names must be unique`);
      rigNames.set(rig.name, file);
      rigs.push(rig);
    } catch (error) {
      issues.push(errorText(error));
    }
  }
  for (const file of scenarioFiles) {
    for (const rig of rigs) {
      try {
        loadScenario(file, { steps: stepRegistry, vars, rigVars: rig.vars });
      } catch (error) {
        issues.push(errorText(error));
      }
    }
  }
  if (issues.length) {
    throw new FileIssues([...new Set(issues.flatMap((i) => i.split('\n')))]);
  }

  // --output gives a run a folder of its own (two runs in one checkout must not share reports):
  // reports in it, per-test folders in its test-results/. Default: ./dextbench-report and ./test-results.
  const output = args.options.get('--output')?.at(-1);
  const config: RunConfig = {
    rigFiles, scenarioFiles, vars, reporters,
    reportDir: output ? resolve(output) : resolve('dextbench-report'),
    outputDir: output ? resolve(output, 'test-results') : resolve('test-results'),
    rootDir: process.cwd(),
  };
  const env = { ...process.env };
  writeRunConfig(config, env);
  const playwrightCli = createRequire(import.meta.url).resolve('@playwright/test/cli');
  const child = spawn(process.execPath, [playwrightCli, 'test', '--config', join(engineDir, 'playwright.config.ts'), ...args.passthrough], {
    stdio: 'inherit', env,
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolveExit) => {
    child.on('close', (code, signal) => resolveExit(code ?? (signal ? 130 : 1)));
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
