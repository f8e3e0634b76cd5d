// `dextbench validate [files|folders] [--rig r ...] [--var NAME=value]`: scenarios, rigs and device
// profiles; one line per problem; exit 1 when any.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { projectRigFiles } from '../engine/project-rigs.ts';
import type { RigDefinition } from '../rig/types.ts';
import { formatIssue, loadRig, validateFiles, ValidationError, type ValidationIssue } from '../scenario/index.ts';
import { stepRegistry } from '../steps/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { FileIssues } from './errors.ts';
import { expandYamlPaths } from './paths.ts';

export async function validateCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var'], strict: true });
  const vars = parseVars(args.options.get('--var') ?? []);
  const paths = args.positionals.length ? args.positionals : ['scenarios', 'rigs', 'devices'].filter((p) => existsSync(p));
  const files = expandYamlPaths(paths);
  // Scenarios are checked against rigs: their device roles must be on one, and their variables
  // usually come from it. With no --rig, every rig of the project (its rigs/ folder) counts, as a
  // run skips a scenario written for another rig of the project but fails one no rig can run.
  const rigFiles = (args.options.get('--rig') ?? projectRigFiles(process.cwd())).map((f) => resolve(f));
  const rigs: RigDefinition[] = [];
  const rigIssues: ValidationIssue[] = [];
  for (const file of rigFiles) {
    try {
      rigs.push(loadRig(file, { vars }));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      rigIssues.push(...error.issues);
    }
  }
  const { checked, issues } = validateFiles(files, { steps: stepRegistry, vars, rigs });
  const all = [...new Set([...rigIssues, ...issues].map((issue) => formatIssue(issue)))];
  if (all.length) throw new FileIssues(all);
  console.log(`${checked.length} file${checked.length === 1 ? '' : 's'} OK (${checked.map((f) => relative(process.cwd(), f)).join(', ')})`);
  return 0;
}
