// `dextbench repro <bundle> [--rig r] [--repeat-until-fail N] [--hold] [--hold-for 4h] [--output dir]`:
// reruns a failed scenario from its repro bundle (engine/repro-bundle.ts) with the same inputs, on
// a local rig: --rig, else the bundle's own rig.yaml, else rigs/sim.yaml. Before it runs it says, one
// line each, where that rig differs from the bundle's manifest (macOS build, extension builds,
// devices). --repeat-until-fail N is Playwright's --repeat-each N with --max-failures 1: up to N
// runs, in order on the rig's one worker, stopping at the first failure. It runs from the root of
// the project the bundle came from (any checkout, at any path): the bundle names the scenario, the
// rig file and the builds relative to that root, and they are resolved against the current directory.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { ReproInputs } from '../engine/repro-bundle.ts';
import { collectManifest, manifestDifferences, type ReproManifest } from '../rig/manifest.ts';
import { extensionsOnRig, loadScenario, relocatedYaml } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { openRig } from './open-rig.ts';
import { defaultRigFile } from './paths.ts';
import { runCommand } from './run.ts';

const USAGE = 'usage: dextbench repro <bundle folder> [--rig rigs/x.yaml] [--repeat-until-fail N] [--hold [--hold-for 4h]] [--output dir] [--var NAME=value]';
const DEFAULT_OUTPUT = 'dextbench-repro';

export async function reproCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--repeat-until-fail', '--hold-for', '--output', '--var', '--reporter'], flags: ['--hold'], strict: true });
  const [bundleArg, ...extra] = args.positionals;
  if (!bundleArg || extra.length) throw new UsageError(USAGE);
  const bundle = resolve(bundleArg);
  const { manifest, inputs } = readBundle(bundle);
  const repeatText = args.options.get('--repeat-until-fail')?.at(-1);
  const repeat = repeatText === undefined ? undefined : Number(repeatText);
  if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1)) throw new UsageError(`--repeat-until-fail expects a whole number of runs, 1 or more, got "${repeatText}"`);

  // Relative to the project's root where the bundle was written; here, to the current directory.
  const project = process.cwd();
  const inCheckout = (what: string, file: string, fix: string) => {
    const expected = resolve(project, file);
    if (!existsSync(expected)) throw new UsageError(`${bundleArg}: the ${what} it ran, ${file}, is not in this checkout (expected ${expected}): ${fix}`);
  };
  const fromRoot = 'run dextbench repro from the root of the project the bundle came from, at a commit that has it';
  inCheckout('scenario', inputs.scenario.file, fromRoot);
  let rigFile = args.options.get('--rig')?.at(-1);
  const bundleRig = rigFile === undefined && existsSync(join(bundle, 'rig.yaml'));
  if (bundleRig) inCheckout('rig file', inputs.rig.file, `${fromRoot}, or name a rig with --rig`);

  // The bundle's files are copied out first, their paths resolved here: a rerun empties its output
  // folder, which may hold the bundle.
  const work = resolve('.dextbench/repro', createHash('sha256').update(bundle).digest('hex').slice(0, 12));
  mkdirSync(work, { recursive: true });
  const scenarioFile = join(work, basename(inputs.scenario.file));
  writeFileSync(scenarioFile, relocatedYaml(join(bundle, 'scenario.yaml'), 'scenario', project));
  if (bundleRig) {
    rigFile = join(work, basename(inputs.rig.file));
    writeFileSync(rigFile, relocatedYaml(join(bundle, 'rig.yaml'), 'rig', project));
  }
  rigFile = resolve(rigFile ?? defaultRigFile());
  const vars = parseVars(args.options.get('--var') ?? []);

  console.log(`dextbench: reproducing "${inputs.scenario.name}" (failed on rig ${manifest.rig}) on ${relative(process.cwd(), rigFile) || rigFile}`);
  const differ = await differences(manifest, scenarioFile, rigFile, vars);
  for (const line of differ) console.log(`dextbench: differs from the bundle: ${line}`);
  if (differ.length === 0) console.log('dextbench: the rig matches the bundle\'s manifest (macOS build, extension builds, devices)');

  const forwarded = [
    scenarioFile, '--rig', rigFile,
    '--output', args.options.get('--output')?.at(-1) ?? DEFAULT_OUTPUT,
    ...(args.options.get('--var') ?? []).flatMap((v) => ['--var', v]),
    ...(args.options.get('--reporter') ?? []).flatMap((r) => ['--reporter', r]),
    ...(repeat !== undefined ? ['--repeat-each', String(repeat), '--max-failures', '1'] : []),
    ...(args.flags.has('--hold') ? ['--hold'] : []),
    ...(args.options.get('--hold-for') ?? []).flatMap((h) => ['--hold-for', h]),
  ];
  return runCommand(forwarded);
}

function readBundle(dir: string): { manifest: ReproManifest; inputs: ReproInputs } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: no such repro bundle folder (the list output of a failed run names it: npx dextbench repro test-results/…/repro)`);
  const read = <T>(name: string): T => {
    const file = join(dir, name);
    if (!existsSync(file)) throw new UsageError(`${dir}: not a repro bundle: it has no ${name}`);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (error) {
      throw new UsageError(`${file}: not JSON (${(error as Error).message}); the bundle is damaged`);
    }
  };
  const manifest = read<ReproManifest>('manifest.json');
  const inputs = read<ReproInputs>('inputs.json');
  if (manifest.format !== 1 || inputs.format !== 1) throw new UsageError(`${dir}: a repro bundle of another format (${manifest.format}/${inputs.format}); this dextbench reads format 1`);
  if (!existsSync(join(dir, 'scenario.yaml'))) throw new UsageError(`${dir}: not a repro bundle: it has no scenario.yaml`);
  return { manifest, inputs };
}

/** The rig as it is now, for the scenario, against the bundle's manifest. */
async function differences(recorded: ReproManifest, scenarioFile: string, rigFile: string, vars: Record<string, string>): Promise<string[]> {
  const { session, close } = await openRig(rigFile, vars, 'dextbench repro');
  try {
    const scenario = loadScenario(scenarioFile, { steps: stepRegistry, vars, rigVars: session.definition.vars, rigs: [session.definition] });
    const here = await collectManifest(session, {
      devices: scenario.uses.devices,
      extensions: extensionsOnRig(session.definition.extensions, scenario.uses.extensions),
    }, recorded.dextbench, process.cwd());
    return manifestDifferences(recorded, here);
  } finally {
    await close();
  }
}
