// `dextbench run [files|folders] [--rig rigs/x.yaml ...] [--var NAME=value] [Playwright options]`
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parse } from 'yaml';
import type { RunConfig } from '../engine/run-config.ts';
import { runPlaywright } from '../engine/playwright-process.ts';
import { runOnReservedRigs } from '../engine/reserved-run.ts';
import { mergeInfraRetries } from '../engine/retry-merge.ts';
import { KNOWN_REPORTERS } from '../engine/reporters.ts';
import { loadProjectRigs } from '../engine/project-rigs.ts';
import type { RigDefinition } from '../rig/types.ts';
import { borrowedExtensions, loadRig, loadScenario, rigsWithNeeds, type RigNeeds } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { FileIssues, UsageError } from './errors.ts';
import { attendHolds, holdForMs, readHoldNotes } from './hold.ts';
import { describeQuarantine } from '../history/quarantine.ts';
import { historyTarget } from '../history/store.ts';
import { exitIgnoringQuarantined, quarantinedNow, recordRun } from './run-history.ts';
import { defaultPath, defaultRigFile, expandYamlPaths } from './paths.ts';

const PLAYWRIGHT_VALUED = [
  '--grep', '-g', '--grep-invert', '--repeat-each', '--retries', '--shard', '--workers', '-j',
  '--timeout', '--max-failures', '--project', '--trace', '--global-timeout',
];

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var', '--reporter', '--output', '--hold-for', '--infra-retries', '--history'], flags: ['--hold'], passthroughValued: PLAYWRIGHT_VALUED });
  if (args.options.has('--hold-for') && !args.flags.has('--hold')) throw new UsageError('--hold-for goes with --hold');
  const hold = args.flags.has('--hold') ? { forMs: holdForMs(args.options.get('--hold-for')?.at(-1)) } : undefined;
  const infraRetriesText = args.options.get('--infra-retries')?.at(-1) ?? '2';
  if (!/^\d+$/.test(infraRetriesText)) throw new UsageError(`--infra-retries takes a count (0 or more), got ${JSON.stringify(infraRetriesText)}`);
  const infraRetries = Number(infraRetriesText);
  if (args.passthrough.includes('--config') || args.passthrough.some((a) => a.startsWith('--config='))) {
    throw new UsageError('--config is set by dextbench; choose rigs with --rig and scenarios by path');
  }
  const vars = parseVars(args.options.get('--var') ?? []);
  const explicitRigs = args.options.get('--rig')?.map((f) => resolve(f));
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
  const rigs: RigDefinition[] = [];
  for (const file of explicitRigs ?? [defaultRigFile()]) {
    try {
      rigs.push(loadRig(file, { vars }));
    } catch (error) {
      issues.push(errorText(error));
    }
  }
  if (!explicitRigs && rigs.length) rigs.push(...simulatedRigsForOtherNeeds(scenarioFiles, rigs[0]!, vars));
  for (const rig of rigs) {
    const other = rigNames.get(rig.name);
    if (other) issues.push(`${relative(process.cwd(), rig.file)}: rig name "${rig.name}" is also used by ${relative(process.cwd(), other)}; rig names must be unique`);
    rigNames.set(rig.name, rig.file);
  }
  // Each scenario runs on the run's rigs that have its devices and the extensions it takes from
  // the rig (with no --rig, on the first of them: each sample runs once); a role or an extension no
  // rig has is a typo, refused here.
  const runsOn: Record<string, string[]> = {};
  const anyRigVars = Object.assign({}, ...rigs.map((r) => r.vars)) as Record<string, string>;
  for (const file of scenarioFiles) {
    let needs: RigNeeds = { roles: [], extensions: [] };
    try {
      const { uses } = loadScenario(file, { steps: stepRegistry, vars, rigVars: anyRigVars, rigs });
      needs = { roles: uses.devices, extensions: borrowedExtensions(uses.extensions) };
    } catch (error) {
      issues.push(errorText(error));
    }
    const able = rigsWithNeeds(needs, rigs).slice(0, explicitRigs ? undefined : 1);
    runsOn[file] = able.map((r) => r.name);
    for (const rig of able) {
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
  const rigFiles = rigs.map((r) => r.file);

  // --output gives a run a folder of its own (two runs in one checkout must not share reports):
  // reports in it, per-test folders in its test-results/. Default: ./dextbench-report and ./test-results.
  const output = args.options.get('--output')?.at(-1);
  const config: RunConfig = {
    // Infrastructure failures are found in the JSON report, so the run always writes one.
    rigFiles, scenarioFiles, runsOn, vars, reporters: reporters.includes('json') ? reporters : [...reporters, 'json'],
    reportDir: output ? resolve(output) : resolve('dextbench-report'),
    outputDir: output ? resolve(output, 'test-results') : resolve('test-results'),
    rootDir: process.cwd(),
    ...(hold ? { hold } : {}),
  };
  // The history (default .dextbench/history, or --history / DEXTBENCH_HISTORY): quarantined
  // scenarios still run, reported as such, and the run is appended when it ends.
  const history = historyTarget(args.options.get('--history')?.at(-1), process.env, process.cwd());
  const quarantined = history.kind === 'off' ? [] : await quarantinedNow(history);
  if (quarantined.length) config.quarantined = Object.fromEntries(quarantined.map((q) => [q.scenario, describeQuarantine(q)]));
  // --list only lists: Playwright runs no global setup for it, so no rig is reserved or judged.
  const listing = args.passthrough.includes('--list');
  const exit = listing ? { ...await runPlaywright(config, args.passthrough), ran: true, refused: 0, passedRetries: [] } : await runOnReservedRigs(config, rigs, args.passthrough, infraRetries);
  const code = exit.code;
  if (history.kind !== 'off' && !listing && exit.ran) await recordRun(history, config);
  // After the history read the reports as written: the run's own reports now say how it ended.
  await mergeInfraRetries(config.reportDir, config.rootDir, exit.passedRetries);
  if (hold) await attendHolds(readHoldNotes(config.outputDir), vars);
  // A scenario refused for want of a good rig fails the run, quarantined or not: it did not run.
  return exit.interrupted || exit.refused ? code : exitIgnoringQuarantined(code, config, quarantined);
}

/**
 * With no --rig, the sample scenarios run on rigs/sim.yaml, and a scenario whose devices or
 * extensions it lacks (two echo devices, say) on the first simulated rig of the project that has
 * them: the default run runs every sample, and never picks a real Mac by itself.
 */
function simulatedRigsForOtherNeeds(scenarioFiles: string[], base: RigDefinition, vars: Record<string, string>): RigDefinition[] {
  const added: RigDefinition[] = [];
  let candidates: RigDefinition[] | undefined;
  for (const file of scenarioFiles) {
    const needs = declaredNeeds(file);
    if (rigsWithNeeds(needs, [base, ...added]).length) continue;
    // Only simulated Macs reached directly: one reached over ssh needs `npm run sim:sshd` first.
    candidates ??= loadProjectRigs(process.cwd(), vars).filter((r) => r.host.kind === 'sim' && !r.host.ssh && r.file !== base.file);
    const fit = rigsWithNeeds(needs, candidates)[0];
    if (fit && !added.includes(fit)) added.push(fit);
  }
  return added;
}

/** uses.devices and the borrowed uses.extensions as written; a file that does not parse is reported by the validation that follows. */
function declaredNeeds(file: string): RigNeeds {
  try {
    const uses = (parse(readFileSync(file, 'utf8')) as { uses?: { devices?: unknown; extensions?: unknown } } | null)?.uses;
    const devices = uses?.devices;
    const extensions = uses?.extensions;
    return {
      roles: Array.isArray(devices) ? devices.filter((d): d is string => typeof d === 'string') : [],
      extensions: typeof extensions === 'object' && extensions !== null && !Array.isArray(extensions)
        ? borrowedExtensions(extensions as Record<string, unknown>) : [],
    };
  } catch {
    return { roles: [], extensions: [] };
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
