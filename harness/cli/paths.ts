// Where the defaults live: the user's project first (cwd), then the files shipped in the package.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from './errors.ts';

import { projectOrPackagePath } from '../common/package-root.ts';

export { packageRoot } from '../common/package-root.ts';

export function defaultPath(relativePath: string): string {
  return projectOrPackagePath(relativePath);
}

export const defaultRigFile = () => defaultPath('rigs/sim.yaml');

/** Scenario files from files and folders (recursively, *.yaml / *.yml), sorted, unique. */
export function expandYamlPaths(paths: string[]): string[] {
  const files = new Set<string>();
  const visit = (path: string) => {
    if (!existsSync(path)) throw new UsageError(`${path}: no such file or folder`);
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        const child = join(path, entry);
        if (statSync(child).isDirectory()) visit(child);
        else if (/\.ya?ml$/.test(entry)) files.add(child);
      }
    } else {
      files.add(path);
    }
  };
  for (const p of paths) visit(resolve(p));
  return [...files].sort();
}
