// Paths a repro bundle carries from the machine that ran to the one that reruns: a file inside the
// project is written relative to the project's root (the run's directory), so it names the same
// file in another checkout; a file outside the project stays absolute (nothing better is known).
import { isAbsolute, relative, sep } from 'node:path';

/** `rigs/mac.yaml` for a file inside `root`; the absolute path otherwise. */
export function projectRelative(root: string, file: string): string {
  const rel = relative(root, file);
  return rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel : file;
}
