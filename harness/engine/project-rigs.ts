// The project's rigs: the rig files in its rigs/ folder (the run's directory's, else the ones the
// package ships). A device role none of them has is a typo; one that another of them has marks a
// scenario written for that rig.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RigDefinition } from '../rig/types.ts';
import { loadRig } from '../scenario/index.ts';
import { projectOrPackagePath } from '../common/package-root.ts';

export function projectRigFiles(rootDir: string): string[] {
  const dir = projectOrPackagePath('rigs', rootDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

/** The project's rigs that load; a broken rig file is reported when it is validated or run, not here. */
export function loadProjectRigs(rootDir: string, vars: Record<string, string>): RigDefinition[] {
  return projectRigFiles(rootDir).flatMap((file) => {
    try {
      return [loadRig(file, { vars })];
    } catch {
      return [];
    }
  });
}
