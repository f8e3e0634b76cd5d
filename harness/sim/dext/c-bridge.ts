// The C channel server of the simulated Mac, built from dext-fixtures/bridge with make:
// dextbench-sim-dext (a dext process: libdextbench's loopback model) and dextbench-bridge-simdext
// (the bridge that reaches it). Built once per daemon, under the simulator's build lock.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastLine, runBuild, withBuildLock } from '../c-build.ts';

const BRIDGE_DIR = fileURLToPath(new URL('../../../dext-fixtures/bridge', import.meta.url));
const BINS = {
  dext: join(BRIDGE_DIR, 'build', 'dextbench-sim-dext'),
  bridge: join(BRIDGE_DIR, 'build', 'dextbench-bridge-simdext'),
};
const LOCK_DIR = join(BRIDGE_DIR, 'build', '.sim-make.lock');
const BUILD_DEADLINE_MS = 180_000;

export type CBuild = { ok: true; dext: string; bridge: string } | { ok: false; reason: string };

let build: Promise<CBuild> | undefined;

/** Runs make once (it rebuilds only what changed); resolves to the binaries or why there are none. */
export function ensureCBridge(): Promise<CBuild> {
  build ??= withBuildLock(LOCK_DIR, BUILD_DEADLINE_MS, async (): Promise<CBuild> => {
    const r = await runBuild(['make', '-C', BRIDGE_DIR], BUILD_DEADLINE_MS);
    if (r.code !== 0) return { ok: false, reason: `make -C dext-fixtures/bridge failed: ${lastLine(r.output, r.code)}` };
    for (const bin of Object.values(BINS)) {
      try { accessSync(bin, constants.X_OK); } catch { return { ok: false, reason: `${bin} was not built` }; }
    }
    return { ok: true, ...BINS };
  }).catch((e: unknown) => ({ ok: false, reason: (e as Error).message }));
  return build;
}
