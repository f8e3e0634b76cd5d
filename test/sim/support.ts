// Starts the simulated Mac as a real process and runs its shims as real processes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../support/temp.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const DEXTS = join(ROOT, 'dext-fixtures/echo/sim');

export function simConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'sim',
    macos: { productName: 'macOS', productVersion: '15.5', buildVersion: '24F74' },
    sip: 'disabled',
    developerMode: false,
    teamId: 'DXTBNCH001',
    policy: { allowedTeamIdentifiers: [], allowedSystemExtensions: { DXTBNCH001: ['com.example.echo.driver'] } },
    timing: { enumerateMs: 15, matchMs: 15, activateMs: 30, relaunchMs: 15 },
    hubs: [{ id: 'hub1', location: '1-1', ports: 4, vid: '2109', pid: '2817', vendor: 'VIA Labs, Inc.', product: 'USB2.0 Hub' }],
    devices: [{
      role: 'echo', hub: 'hub1', port: 2,
      usb: { vendorId: 7531, productId: 260, product: 'Loopback', manufacturer: 'dextbench', serial: 'ECHO0001', bcdDevice: 256, speed: 'high' },
      interfaces: [{ number: 0, class: 255, subclass: 0, protocol: 0, endpoints: [{ address: 129, type: 'bulk' }, { address: 1, type: 'bulk' }] }],
      model: 'loopback',
    }],
    ...overrides,
  };
}

export interface ToolResult { stdout: string; stderr: string; code: number }

export interface Sim {
  proc: ChildProcess;
  binDir: string;
  socket: string;
  stateDir: string;
  configPath: string;
  exited: Promise<number | null>;
  run(tool: string, args?: string[], timeoutMs?: number): Promise<ToolResult>;
  env(): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export function writeConfig(config: Record<string, unknown>, dir = tempDir('simcfg-')): string {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

export async function startSim(config: Record<string, unknown> = simConfig(), givenStateDir?: string): Promise<Sim> {
  const stateDir = givenStateDir ?? tempDir('simstate-');
  const configPath = writeConfig(config);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'harness/sim/daemon.ts', '--config', configPath, '--state-dir', stateDir], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const ready = await new Promise<{ binDir: string; socket: string; pid: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sim not ready in 15 s: ${stderr}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(JSON.parse(out.slice(0, nl))); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sim exited ${code}: ${stderr}`)); });
  });
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${ready.binDir}:${process.env['PATH'] ?? ''}` });
  return {
    proc, binDir: ready.binDir, socket: ready.socket, stateDir, configPath, exited, env,
    run: (tool, args = [], timeoutMs = 10_000) => new Promise((resolve) => {
      execFile(tool, args, { env: env(), timeout: timeoutMs }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ stdout, stderr, code });
      });
    }),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dirname(configPath), { recursive: true, force: true });
      // A state dir the caller passed in may be reused by a second daemon; it is the caller's.
      if (!givenStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Poll until `check` returns a truthy value; fail after the deadline. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false | null>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rows of `systemextensionsctl list` split on TABs. */
export function listRows(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => /^\*?\t\*?\t/.test(l)).map((l) => l.split('\t'));
}
