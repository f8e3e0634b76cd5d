// The simulated Mac of a `host: sim` rig: one per state dir (<project>/.dextbench/sim/<rig>), shared
// by everyone who uses the rig (a run's runner and workers, `dextbench rig …`, a second run), as one
// real Mac would be. Whoever comes first starts the daemon (harness/sim/daemon.ts --shared)
// detached, in a session of its own, so that a Ctrl-C in the terminal stops the runner while the
// Mac stays up for its cleanup; each user attaches through the daemon's control socket, and the
// daemon stops a moment after the last one lets go.
// Nothing from harness/sim is imported: the process contract (ready line, daemon.json, the control
// socket's JSON lines) is the coupling.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { settlesWithin, sleep } from '../common/time.ts';
import { lineSplitter } from '../host/exec.ts';
import type { RigDefinition } from './types.ts';

export interface SimulatedMac {
  /** Directory of the shims (put first on PATH by the rig's Exec). */
  binDir: string;
  socket: string;
  pid: number;
  stateDir: string;
  /** Lets go of the Mac (it stops once nobody else uses it). */
  detach(): Promise<void>;
}

export class SimLaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimLaunchError';
  }
}

const READY_TIMEOUT_MS = 20_000;
const ATTACH_TIMEOUT_MS = 30_000;
const CONTROL_TIMEOUT_MS = 5_000;
/** A start lock older than this belongs to a starter that died. */
const START_LOCK_STALE_MS = READY_TIMEOUT_MS + 5_000;
/** The hub the sim presents when the rig names only a location (VIA Labs VL817, a common ppps hub). */
const DEFAULT_HUB = { vid: '2109', pid: '2817', vendor: 'VIA Labs, Inc.', product: 'USB2.0 Hub' };
const DEFAULT_HUB_PORTS = 4;

/** The simulated network of contract §6: one name the NE samples allow, one they drop, and a DNS server. */
const DEFAULT_NETWORK = {
  hosts: { 'allowed.example': '192.0.2.10', 'blocked.example': '192.0.2.20' },
  listening: ['192.0.2.10:443/tcp', '192.0.2.20:443/tcp', '192.0.2.10:80/tcp', '192.0.2.20:80/tcp', '192.0.2.53:53/udp'],
  dnsServer: '192.0.2.53',
};

/** The SimConfig JSON (the sim validates it with its own schema) for a `host: sim` rig. */
export function simConfigFor(rig: RigDefinition): Record<string, unknown> {
  if (rig.host.kind !== 'sim') throw new SimLaunchError(`rig "${rig.name}" is not a simulated Mac (host: ${rig.host.kind})`);
  const sim = rig.host.sim;
  const systemExtensions = Object.values(rig.extensions).filter((decl) => decl.systemExtension !== undefined).map((decl) => decl.bundle);
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
    ...(sim.commandLineTools !== undefined ? { commandLineTools: sim.commandLineTools } : {}),
    ...(sim.adminPassword !== undefined ? { adminPassword: sim.adminPassword } : {}),
    ...(sim.homebrew !== undefined ? { homebrew: sim.homebrew } : {}),
    ...(sim.passwordlessSudo !== undefined ? { passwordlessSudo: sim.passwordlessSudo } : {}),
    // The rig's own ES/NE extensions are approved as a fleet's profile would approve them, so that
    // its samples run unattended; a rig that lists grants gets exactly those.
    tcc: sim.tcc ?? { fullDiskAccess: ['eslogger', ...systemExtensions] },
    webContentFilter: sim.webContentFilter ?? systemExtensions,
    ...(sim.profilesInstallAsMdm !== undefined ? { profilesInstallAsMdm: sim.profilesInstallAsMdm } : {}),
    network: {
      hosts: sim.network?.hosts ?? DEFAULT_NETWORK.hosts,
      listening: sim.network?.listening ?? DEFAULT_NETWORK.listening,
      dnsServer: sim.network?.dnsServer ?? DEFAULT_NETWORK.dnsServer,
    },
    hubs: rig.hubs.map((hub) => {
      // Rig validation refuses gadget hubs on a simulated Mac: a gadget enumerates on a real USB port.
      if (hub.driver === 'gadget') throw new SimLaunchError(`rig "${rig.name}": hub ${hub.id} is a gadget board, and the simulated Mac's USB is simulated`);
      return { id: hub.id, location: hub.location, ports: hub.ports ?? DEFAULT_HUB_PORTS, ...DEFAULT_HUB };
    }),
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

/** Where a project keeps the simulated Mac of a rig. */
export function simStateDirFor(projectDir: string, rigName: string): string {
  return join(projectDir, '.dextbench', 'sim', rigName.replace(/[^A-Za-z0-9._-]/g, '_'));
}

interface DaemonInfo { pid: number; control: string; socket: string; binDir: string }
type AttachReply = { ok: true; binDir: string; socket: string; pid: number } | { ok: false; reason?: string; holders?: string[] };

/**
 * Attaches to the rig's simulated Mac, starting it first if nobody runs it. `who` is what other
 * users are told holds it ("dextbench run pid 123").
 */
export async function attachSimulatedMac(
  rig: RigDefinition,
  options: { stateDir: string; repoRoot: string; who: string },
): Promise<SimulatedMac> {
  const what = `the simulated Mac of rig "${rig.name}" (${rig.file})`;
  const configText = JSON.stringify(simConfigFor(rig), null, 2) + '\n';
  const hash = createHash('sha256').update(configText).digest('hex');
  mkdirSync(options.stateDir, { recursive: true });
  const deadline = Date.now() + ATTACH_TIMEOUT_MS;

  for (;;) {
    const attached = await request(options.stateDir, { attach: { who: options.who, configHash: hash } });
    if (attached?.reply.ok) {
      const { sock, reply } = attached;
      const gone = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      return {
        binDir: reply.binDir, socket: reply.socket, pid: reply.pid, stateDir: options.stateDir,
        async detach() {
          sock.end();
          if (!(await settlesWithin(gone, CONTROL_TIMEOUT_MS))) sock.destroy();
        },
      };
    }
    if (attached && !attached.reply.ok && attached.reply.reason === 'config') {
      // The rig file changed since this Mac started: restart it, unless someone is using it.
      const stopped = await control(options.stateDir, { stop: { ifIdle: true } });
      if (stopped && !stopped.ok) {
        throw new SimLaunchError(`${what} is running with an older description of the rig and is in use by ${(stopped.holders ?? []).join(', ') || 'another command'}; run again when they are done`);
      }
      await waitStopped(options.stateDir);
    } else if (attached && !attached.reply.ok) {
      throw new SimLaunchError(`${what} refused to attach: ${attached.reply.reason ?? 'no reason given'}`);
    } else {
      await startDaemon(rig, options, configText, what);
    }
    if (Date.now() > deadline) throw new SimLaunchError(`${what} could not be attached within ${ATTACH_TIMEOUT_MS / 1000} s`);
  }
}

/** Stops the rig's simulated Mac (`dextbench rig reset`); fails naming who uses it, unless forced. */
export async function stopSimulatedMac(stateDir: string, options: { force: boolean }): Promise<'stopped' | 'not running'> {
  const reply = await control(stateDir, { stop: { ifIdle: !options.force } });
  if (!reply) return 'not running';
  if (!reply.ok) throw new SimLaunchError(`the simulated Mac in ${stateDir} is in use by ${(reply.holders ?? []).join(', ')}`);
  await waitStopped(stateDir);
  return 'stopped';
}

function readDaemonInfo(stateDir: string): DaemonInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
}

/** Opens the control socket and sends one request; undefined when no daemon answers there. */
async function request(stateDir: string, body: object): Promise<{ sock: Socket; reply: AttachReply } | undefined> {
  const info = readDaemonInfo(stateDir);
  if (!info) return undefined;
  return new Promise((resolve) => {
    const sock = connect({ path: info.control });
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); resolve(undefined); }, CONTROL_TIMEOUT_MS);
    const fail = (): void => { clearTimeout(timer); sock.destroy(); resolve(undefined); };
    sock.once('error', fail);
    sock.once('close', fail);
    sock.on('connect', () => sock.write(JSON.stringify(body) + '\n'));
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.removeListener('error', fail);
      sock.removeListener('close', fail);
      sock.removeAllListeners('data');
      sock.on('error', () => { /* the daemon went away; close tells */ });
      try {
        resolve({ sock, reply: JSON.parse(buf.slice(0, nl)) as AttachReply });
      } catch {
        sock.destroy();
        resolve(undefined);
      }
    });
  });
}

async function control(stateDir: string, body: object): Promise<(AttachReply & { holders?: string[] }) | undefined> {
  const answered = await request(stateDir, body);
  answered?.sock.destroy();
  return answered?.reply;
}

async function waitStopped(stateDir: string): Promise<void> {
  const deadline = Date.now() + CONTROL_TIMEOUT_MS;
  while (readDaemonInfo(stateDir) && Date.now() < deadline) await sleep(50);
}

/** Starts the daemon unless another starter holds the start lock (then waits for it). */
async function startDaemon(rig: RigDefinition, options: { stateDir: string; repoRoot: string }, configText: string, what: string): Promise<void> {
  const lock = join(options.stateDir, 'start.lock');
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
  } catch {
    // Someone else is starting it. A lock left by a starter that died (Ctrl-C mid-start) is
    // removed: at once when its pid is gone, else once it is older than any start can take.
    const age = Date.now() - (statMs(lock) ?? Date.now());
    if (age > START_LOCK_STALE_MS || starterGone(lock)) rmSync(lock, { recursive: true, force: true });
    await sleep(100);
    return;
  }
  try {
    // A daemon may have come up between the failed attach and the lock.
    if (await control(options.stateDir, { ping: true })) return;
    const configFile = join(options.stateDir, 'config.json');
    writeFileSync(configFile, configText);
    await spawnDaemon(rig, options, configFile, what);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function spawnDaemon(rig: RigDefinition, options: { stateDir: string; repoRoot: string }, configFile: string, what: string): Promise<void> {
  const logFile = join(options.stateDir, 'daemon.log');
  const log = openSync(logFile, 'w');
  const daemon = join(options.repoRoot, 'harness', 'sim', 'daemon.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', daemon, '--config', configFile, '--state-dir', options.stateDir, '--shared'], {
    cwd: options.repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', log],
  });
  closeSync(log);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new SimLaunchError(`${what} printed no ready line within ${READY_TIMEOUT_MS / 1000} s${tail(logFile)}`));
      }, READY_TIMEOUT_MS);
      const lines = lineSplitter((line) => {
        try {
          if ((JSON.parse(line) as { ready?: unknown }).ready === true) {
            clearTimeout(timer);
            resolve();
          }
        } catch { /* not the ready line */ }
      });
      child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new SimLaunchError(`${what} could not start: ${error.message}`));
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(launchFailure(rig, options.stateDir, what, code ?? signal, readTail(logFile)));
      });
    });
  } finally {
    child.stdout!.destroy();
    child.unref();
  }
}

/** A daemon that exited before it was ready: its own reason, said for the rig. */
function launchFailure(rig: RigDefinition, stateDir: string, what: string, exit: number | string | null, said: string[]): SimLaunchError {
  const damaged = said.map((l) => /^sim: damaged state (.*?): (.*)$/.exec(l)).find(Boolean);
  if (damaged) {
    return new SimLaunchError(`${what} cannot start: its saved state ${damaged[1]} is damaged (${damaged[2]}); ` +
      `run \`dextbench rig reset --rig ${rig.file}\` to start it afresh`);
  }
  const line = said.at(-1)?.replace(/^sim: /, '');
  return new SimLaunchError(`${what} exited with ${exit} before it was ready${line ? `: ${line}` : ''} (log: ${join(stateDir, 'daemon.log')})`);
}

function readTail(logFile: string): string[] {
  try {
    return readFileSync(logFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !/^at /.test(l)).slice(-3);
  } catch {
    return [];
  }
}

function tail(logFile: string): string {
  const said = readTail(logFile);
  return said.length ? `: ${said.slice(-2).join(' ')}` : '';
}

/** The lock's starter (this machine's process) has exited; false while unknown. */
function starterGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return false; // being written: not stale yet
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function statMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
