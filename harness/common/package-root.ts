// Where dextbench's own files are (the package root: its rigs/, scenarios/, harness/sim/), and the
// rule for defaults: the user's project first, then what the package ships.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const packageRoot = resolve(import.meta.dirname, '../..');

/** `relativePath` in the project at `projectDir` when it has one, else the package's. */
export function projectOrPackagePath(relativePath: string, projectDir = process.cwd()): string {
  const own = resolve(projectDir, relativePath);
  return existsSync(own) ? own : join(packageRoot, relativePath);
}
