// `dextbench validate [files|folders] [--rig r] [--var NAME=value]`: scenarios, rigs and device
// profiles; one line per problem; exit 1 when any.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { formatIssue, loadRig, validateFiles } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { FileIssues } from './errors.ts';
import { defaultRigFile, expandYamlPaths } from './paths.ts';

export async function validateCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var'], strict: true });
  const vars = parseVars(args.options.get('--var') ?? []);
  const paths = args.positionals.length ? args.positionals : ['scenarios', 'rigs', 'devices'].filter((p) => existsSync(p));
  const files = expandYamlPaths(paths);
  // Scenario variables usually come from the rig: validate against the rig the run would use.
  const rigFile = resolve(args.options.get('--rig')?.at(-1) ?? defaultRigFile());
  let rigVars: Record<string, string> = {};
  try {
    rigVars = loadRig(rigFile, { vars }).vars;
  } catch {
    // A broken rig is reported below when it is among the files validated.
  }
  const { checked, issues } = validateFiles(files, { steps: stepRegistry, vars, rigVars });
  if (issues.length) throw new FileIssues(issues.map((issue) => formatIssue(issue)));
  console.log(`${checked.length} file${checked.length === 1 ? '' : 's'} OK (${checked.map((f) => relative(process.cwd(), f)).join(', ')})`);
  return 0;
}
