// The compiled shim relay (relay.c), built with the system's `cc` once per source version: the
// binary's name carries a hash of the source, so a cached build is one stat and an edited
// relay.c builds anew. Under the simulator's build lock, like the C dext server.
import { createHash } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastLine, runBuild, withBuildLock } from '../c-build.ts';

const SOURCE = fileURLToPath(new URL('./relay.c', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('./build', import.meta.url));
const LOCK_DIR = join(BUILD_DIR, '.build.lock');
const BUILD_DEADLINE_MS = 60_000;
const PREFIX = 'dextbench-sim-relay-';

export type RelayBuild = { ok: true; path: string } | { ok: false; reason: string };

function executable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

let build: Promise<RelayBuild> | undefined;

/** The relay binary, built if need be; or why there is none (no `cc`, a compile error). */
export function ensureRelay(): Promise<RelayBuild> {
  build ??= (async (): Promise<RelayBuild> => {
    const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
    const path = join(BUILD_DIR, `${PREFIX}${hash}`);
    if (executable(path)) return { ok: true, path };
    return withBuildLock(LOCK_DIR, BUILD_DEADLINE_MS, async (): Promise<RelayBuild> => {
      if (executable(path)) return { ok: true, path }; // built while we waited for the lock
      const tmp = `${path}.${process.pid}.tmp`;
      const r = await runBuild(['cc', '-std=c99', '-D_POSIX_C_SOURCE=200809L', '-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, SOURCE], BUILD_DEADLINE_MS);
      if (r.code !== 0) {
        rmSync(tmp, { force: true });
        return { ok: false, reason: r.code === null ? `cc: ${r.output.trim()}` : `cc ${SOURCE} failed: ${lastLine(r.output, r.code)}` };
      }
      renameSync(tmp, path);
      // Older builds: shims installed from them are their own links or copies and keep working.
      for (const old of readdirSync(BUILD_DIR)) if (old.startsWith(PREFIX) && join(BUILD_DIR, old) !== path) rmSync(join(BUILD_DIR, old), { force: true });
      return { ok: true, path };
    });
  })().catch((e: unknown) => ({ ok: false, reason: (e as Error).message }));
  return build;
}
