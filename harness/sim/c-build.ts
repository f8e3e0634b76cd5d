// The simulator's C builds (the dext server, the shim relay): each runs once per daemon, under a
// lock shared by every simulated Mac on this checkout, with a deadline.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** mkdir is atomic: the directory is the lock, its pid file says who holds it (stale if dead). */
export async function withBuildLock<T>(lockDir: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try { holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8')); } catch { /* being created or removed */ }
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`lock ${lockDir} held for ${deadlineMs / 1000} s`);
      await sleep(100);
    }
  }
  try { return await fn(); } finally { rmSync(lockDir, { recursive: true, force: true }); }
}

/** Runs a build command to completion or its deadline; its output is kept for the failure line. */
export function runBuild(argv: string[], deadlineMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), deadlineMs);
    p.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    p.on('error', (e) => { clearTimeout(timer); resolve({ code: null, output: e.message }); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

/** The last line of a failed build's output: what went wrong, in one line. */
export function lastLine(output: string, code: number | null): string {
  return output.trim().split('\n').filter(Boolean).pop() ?? `exit ${code}`;
}
