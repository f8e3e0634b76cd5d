// The simulated Mac's disk: the macOS folders it models live in <state dir>/fs (fs/etc/sudoers.d for
// /etc/sudoers.d). Every other path is this machine's: a simulated tool may read it, but writes only
// inside the Mac's own state dir, never this machine's /etc.
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Mac } from './mac.ts';

/** macOS folders with a place on the simulated disk (/etc is a link to /private/etc on macOS). */
const MODELLED = ['/etc/sudoers.d', '/private/etc/sudoers.d'];

export interface DiskPath {
  /** Where the file is on this machine. */
  local: string;
  /** On the simulated Mac's own disk (its state dir), so a simulated tool may write it. */
  writable: boolean;
}

export function sudoersDir(mac: Mac): string {
  return join(mac.stateDir, 'fs', 'etc', 'sudoers.d');
}

/** A path as a command on the Mac names it (relative to its cwd), on this machine's disk. */
export function onDisk(mac: Mac, cwd: string, path: string): DiskPath {
  const abs = resolve(cwd, path);
  for (const dir of MODELLED) {
    if (abs === dir || abs.startsWith(`${dir}/`)) return { local: join(sudoersDir(mac), abs.slice(dir.length)), writable: true };
  }
  const inside = relative(mac.stateDir, abs);
  return { local: abs, writable: inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) };
}
