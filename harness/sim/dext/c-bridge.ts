// The C channel server of the simulated Mac, built from dext-fixtures/bridge with make:
// dextbench-sim-dext (a dext process: libdextbench's loopback model) and dextbench-bridge-simdext
// (the bridge that reaches it). Built once per daemon, under a lock shared by every simulated Mac
// on this checkout.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BRIDGE_DIR = fileURLToPath(new URL('../../../dext-fixtures/bridge', import.meta.url));
const BINS = {
  dext: join(BRIDGE_DIR, 'build', 'dextbench-sim-dext'),
  bridge: join(BRIDGE_DIR, 'build', 'dextbench-bridge-simdext'),
};
const LOCK_DIR = join(BRIDGE_DIR, 'build', '.sim-make.lock');
const BUILD_DEADLINE_MS = 180_000;

export type CBuild = { ok: true; dext: string; bridge: string } | { ok: false; reason: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** mkdir is atomic: the directory is the lock, its pid file says who holds it (stale if dead). */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(BRIDGE_DIR, 'build'), { recursive: true });
  const deadline = Date.now() + BUILD_DEADLINE_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try { holder = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8')); } catch { /* being created or removed */ }
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`lock ${LOCK_DIR} held for ${BUILD_DEADLINE_MS / 1000} s`);
      await sleep(100);
    }
  }
  try { return await fn(); } finally { rmSync(LOCK_DIR, { recursive: true, force: true }); }
}

function runMake(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const p = spawn('make', ['-C', BRIDGE_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), BUILD_DEADLINE_MS);
    p.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    p.on('error', (e) => { clearTimeout(timer); resolve({ code: null, output: e.message }); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

let build: Promise<CBuild> | undefined;

/** Runs make once (it rebuilds only what changed); resolves to the binaries or why there are none. */
export function ensureCBridge(): Promise<CBuild> {
  build ??= withLock(async (): Promise<CBuild> => {
    const r = await runMake();
    if (r.code !== 0) {
      const last = r.output.trim().split('\n').filter(Boolean).pop() ?? `exit ${r.code}`;
      return { ok: false, reason: `make -C dext-fixtures/bridge failed: ${last}` };
    }
    for (const bin of Object.values(BINS)) {
      try { accessSync(bin, constants.X_OK); } catch { return { ok: false, reason: `${bin} was not built` }; }
    }
    return { ok: true, ...BINS };
  }).catch((e: unknown) => ({ ok: false, reason: (e as Error).message }));
  return build;
}
