// One Playwright run of a RunConfig, in a child process (Playwright loads the config and the spec in
// processes of its own): `dextbench run`, a rig's health check and an infrastructure retry all run
// scenarios this way.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { engineDir, writeRunConfig, type RunConfig } from './run-config.ts';

export interface PlaywrightExit {
  /** Playwright's exit code; 130 when it was stopped by a signal (Ctrl-C). */
  code: number;
  /** Stopped by a signal, or exited 130 after one. */
  interrupted: boolean;
}

/**
 * Runs Playwright on `config` with `passthrough` options, its output on ours. SIGINT and SIGTERM to
 * this process are handed on, so the run's cleanup still runs.
 */
export function runPlaywright(config: RunConfig, passthrough: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<PlaywrightExit> {
  const env = { ...process.env, ...extraEnv };
  writeRunConfig(config, env);
  const playwrightCli = createRequire(import.meta.url).resolve('@playwright/test/cli');
  const child = spawn(process.execPath, [playwrightCli, 'test', '--config', join(engineDir, 'playwright.config.ts'), ...passthrough], {
    stdio: 'inherit', env,
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolveExit) => {
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      const exit = code ?? (signal ? 130 : 1);
      resolveExit({ code: exit, interrupted: signal !== null || exit === 130 });
    });
  });
}
