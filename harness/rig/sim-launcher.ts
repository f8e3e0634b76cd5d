// Starts the simulated Mac for a `host: sim` rig as a separate process (harness/sim/daemon.ts):
// its config is built from the rig here, and from then on it is reached only through its shims.
// Nothing from harness/sim is imported: the process contract (ready line, stdin) is the coupling.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settlesWithin } from '../common/time.ts';
import { lineSplitter } from '../host/exec.ts';
import type { RigDefinition } from './types.ts';

export interface SimulatedMac {
  /** Directory of the shims (put first on PATH by the rig's Exec). */
  binDir: string;
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

export class SimLaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimLaunchError';
  }
}

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
/** The hub the sim presents when the rig names only a location (VIA Labs VL817, a common ppps hub). */
const DEFAULT_HUB = { vid: '2109', pid: '2817', vendor: 'VIA Labs, Inc.', product: 'USB2.0 Hub' };
const DEFAULT_HUB_PORTS = 4;

/** The SimConfig JSON (the sim validates it with its own schema) for a `host: sim` rig. */
export function simConfigFor(rig: RigDefinition): Record<string, unknown> {
  if (rig.host.kind !== 'sim') throw new SimLaunchError(`rig "${rig.name}" is not a simulated Mac (host: ${rig.host.kind})`);
  const sim = rig.host.sim;
  return {
    name: rig.name,
    macos: sim.macos,
    sip: sim.sip,
    developerMode: sim.developerMode,
    teamId: sim.teamId,
    policy: { allowedTeamIdentifiers: sim.approvedTeams, allowedSystemExtensions: sim.approvedExtensions },
    ...(sim.timing ? { timing: sim.timing } : {}),
    ...(sim.dextServer ? { dextServer: sim.dextServer } : {}),
    ...(sim.ioMBps !== undefined ? { ioBytesPerSecond: Math.round(sim.ioMBps * 1e6) } : {}),
    hubs: rig.hubs.map((hub) => ({ id: hub.id, location: hub.location, ports: hub.ports ?? DEFAULT_HUB_PORTS, ...DEFAULT_HUB })),
    devices: rig.devices.map((device) => ({
      role: device.role,
      hub: device.port.hub,
      port: device.port.port,
      usb: device.profile.usb,
      interfaces: device.profile.interfaces,
      ...(device.profile.emulation?.sim ? { model: device.profile.emulation.sim.model } : {}),
    })),
  };
}

export async function startSimulatedMac(
  rig: RigDefinition,
  options: { stateDir: string; repoRoot: string },
): Promise<SimulatedMac> {
  const config = simConfigFor(rig);
  mkdirSync(options.stateDir, { recursive: true });
  const configFile = join(options.stateDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');

  const daemon = join(options.repoRoot, 'harness', 'sim', 'daemon.ts');
  // stdin stays piped and open: the daemon exits when it closes, so it never outlives this process.
  const child = spawn(process.execPath, ['--import', 'tsx', daemon, '--config', configFile, '--state-dir', options.stateDir], {
    cwd: options.repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => { /* the daemon is gone; exit reports it */ });
  const stderrTail: string[] = [];
  const errLines = lineSplitter((line) => { if (line.trim()) stderrTail.splice(0, stderrTail.length, ...[...stderrTail, line].slice(-5)); });
  child.stderr.on('data', (chunk: Buffer) => errLines.push(chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const what = `simulated Mac for rig "${rig.name}"`;

  const ready = await new Promise<{ binDir: string; socket: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new SimLaunchError(`${what} printed no ready line within ${READY_TIMEOUT_MS / 1000} s${tail()}`));
    }, READY_TIMEOUT_MS);
    const outLines = lineSplitter((line) => {
      let value: unknown;
      try { value = JSON.parse(line); } catch { return; }
      const v = value as { ready?: unknown; binDir?: unknown; socket?: unknown; pid?: unknown };
      if (v.ready === true && typeof v.binDir === 'string' && typeof v.socket === 'string' && typeof v.pid === 'number') {
        clearTimeout(timer);
        resolve({ binDir: v.binDir, socket: v.socket, pid: v.pid });
      }
    });
    child.stdout.on('data', (chunk: Buffer) => outLines.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new SimLaunchError(`${what} could not start: ${error.message}`));
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new SimLaunchError(`${what} exited with ${code ?? signal} before it was ready${tail()}`));
    });
  });

  function tail(): string {
    const said = stderrTail.map((l) => l.trim()).filter((l) => !/^\s*at /.test(l));
    return said.length ? `: ${said.slice(-2).join(' ')}` : '';
  }

  let stopping: Promise<void> | undefined;
  return {
    ...ready,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
          child.kill('SIGKILL');
          await settlesWithin(exited, STOP_GRACE_MS);
        }
      })();
      return stopping;
    },
  };
}
