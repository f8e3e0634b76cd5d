// A connected rig: its host's Exec, the macOS tools over it, a driver per hub, and the devices by
// role. `safeState()` brings every device port off: the state a rig is left in between scenarios.
// A gadget hub is a Linux board on the Mac's port, reached on its own (locally or over ssh, whatever
// the Mac's transport): its driver is harness/emulate's gadget, shaped like a one-port hub.
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { withDeadline } from '../common/time.ts';
import { gadgetPortDriver, sudoExec } from '../emulate/index.ts';
import type { Exec } from '../host/exec.ts';
import { hostExec } from '../host/ssh.ts';
import { activator, type Activator } from '../host/tools/activator.ts';
import { sipStatus, type SipStatus } from '../host/tools/csrutil.ts';
import { ioreg, type Ioreg } from '../host/tools/ioreg.ts';
import { macosVersion, type MacosVersion } from '../host/tools/sw_vers.ts';
import { systemExtensionsCtl, type SystemExtensionsCtl } from '../host/tools/systemextensionsctl.ts';
import { createHubDriver, HubError, type HubDriver } from '../power/index.ts';
import { SHARED_LEASE_DIR } from './lease.ts';
import type { GadgetHubSpec, HubSpec, RigDefinition, RigDevice } from './types.ts';

export interface RigTools {
  sysext: SystemExtensionsCtl;
  ioreg: Ioreg;
  activator: Activator;
  sipStatus(): Promise<SipStatus>;
  macosVersion(): Promise<MacosVersion>;
}

export interface RigSession {
  definition: RigDefinition;
  exec: Exec;
  hubs: Map<string, HubDriver>;
  /** By role (the key under `devices:` in the rig file). */
  devices: Map<string, RigDevice>;
  tools: RigTools;
  /** The host folder, shared by every user of the Mac, that holds the rig's lease (rig/lease.ts). */
  leaseDir: string;
  /** The host folder, shared by every user of the Mac, where bundles sent over ssh land (rig/stage.ts). */
  stageDir: string;
  /** The host folder the extensions read their delivered config from (rig/extension-config.ts). */
  configDir: string;
  /** Every port a device sits on switched off, in parallel, within `timeoutMs` (default 20 s). */
  safeState(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export class RigConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RigConnectError';
  }
}

const SAFE_STATE_TIMEOUT_MS = 20_000;

export interface ConnectOptions {
  /** The running simulated Mac of a `host: sim` rig: its shims and its state dir (its disk). */
  sim?: { binDir: string; stateDir: string };
  /** Commands go through this Exec instead of one built from `host:` (tests, wrapped transports). */
  exec?: Exec;
  /**
   * FOR TESTS ONLY (never from a rig file): the gadget hubs' configfs is played by plain folders on
   * the board, with a PATH prefix for the commands that play configfs's own behaviour.
   */
  gadgetBoard?: { gadgetsDir: string; udcDir: string; pathPrefix?: string[] };
}

export function connectRig(rig: RigDefinition, options: ConnectOptions = {}): RigSession {
  const exec = options.exec ?? execFor(rig, options);
  const sudo = rig.privileged.sudo;
  const hubs = new Map(rig.hubs.map((hub) => [hub.id, hubDriverFor(rig, hub, exec, options)]));
  const devices = new Map(rig.devices.map((device) => [device.role, device]));
  for (const device of devices.values()) {
    if (!hubs.has(device.port.hub)) {
      throw new RigConnectError(`rig "${rig.name}": device ${device.role} sits on hub "${device.port.hub}", which the rig does not declare (hubs: ${[...hubs.keys()].join(', ') || 'none'})`);
    }
  }
  const tools: RigTools = {
    sysext: systemExtensionsCtl(exec, { sudo }),
    ioreg: ioreg(exec),
    activator: activator(exec, rig.activator.command),
    sipStatus: () => sipStatus(exec),
    macosVersion: () => macosVersion(exec),
  };

  return {
    definition: rig,
    exec,
    hubs,
    devices,
    tools,
    leaseDir: rig.reservation.dir ?? (options.sim ? join(simSharedDir(options.sim.stateDir), 'leases') : SHARED_LEASE_DIR),
    stageDir: options.sim ? join(simSharedDir(options.sim.stateDir), 'stage') : SHARED_STAGE_DIR,
    configDir: options.sim ? join(simSharedDir(options.sim.stateDir), 'config') : SHARED_CONFIG_DIR,
    async safeState({ timeoutMs = SAFE_STATE_TIMEOUT_MS } = {}) {
      const ports = new Map<string, { hub: HubDriver; port: number; roles: string[] }>();
      for (const device of devices.values()) {
        const key = `${device.port.hub}:${device.port.port}`;
        const slot = ports.get(key) ?? { hub: hubs.get(device.port.hub)!, port: device.port.port, roles: [] };
        slot.roles.push(device.role);
        ports.set(key, slot);
      }
      const switching = [...ports.values()].map((slot) => slot.hub.setPort(slot.port, false).then(
        () => undefined,
        (error: unknown) => `${slot.roles.join('/')} (${slot.hub.id} port ${slot.port}): ${(error as Error).message}`,
      ));
      const outcome = await withDeadline(Promise.all(switching), timeoutMs, `rig "${rig.name}": switching every port off (safe state)`);
      const failures = outcome.filter((f): f is string => f !== undefined);
      if (failures.length) throw new RigConnectError(`rig "${rig.name}": safe state failed: ${failures.join('; ')}`);
    },
    async close() {
      await Promise.all([...hubs.values()].map((hub) => hub.close()));
      await exec.close();
    },
  };
}

/** The driver of one of the rig's hubs: power/ for the hubs the Mac switches, emulate/ for a gadget board. */
export function hubDriverFor(rig: RigDefinition, hub: HubSpec, exec: Exec, options: Pick<ConnectOptions, 'gadgetBoard'> = {}): HubDriver {
  if (hub.driver === 'gadget') return gadgetHubDriver(rig, hub, options.gadgetBoard);
  const ssh = rig.host.kind === 'local' ? undefined : rig.host.ssh;
  return createHubDriver(exec, hub, { sudo: rig.privileged.sudo, ...(ssh ? { overSsh: ssh.ssh } : {}) });
}

/** How messages name a hub: its driver and where it is. */
export function describeHub(hub: HubSpec): string {
  if (hub.driver === 'uhubctl') return `uhubctl ${hub.location}`;
  if (hub.driver === 'cambrionix') return `cambrionix ${hub.serial}`;
  if (hub.driver === 'gadget') return `gadget on ${hub.board === 'local' ? 'this machine' : `ssh ${hub.board.ssh}${hub.board.port ? `:${hub.board.port}` : ''}`}`;
  if (hub.driver === 'ykush') return `ykush${hub.serial !== undefined ? ` ${hub.serial}` : ''}`;
  // A driver added after this was written is still named.
  return (hub as { driver: string }).driver;
}

/**
 * The board plays the device on its port 1 (rig validation allows one); its own Exec (closed with the
 * driver), under `sudo -n` unless the hub says the board is reached as root.
 */
function gadgetHubDriver(rig: RigDefinition, hub: GadgetHubSpec, testBoard: ConnectOptions['gadgetBoard']): HubDriver {
  const device = rig.devices.find((d) => d.port.hub === hub.id);
  if (!device) {
    const nothing = async (): Promise<never> => {
      throw new HubError(`hub ${hub.id}: no device of rig "${rig.name}" sits on this gadget hub, so its board has nothing to play (put one on it: port: { hub: ${hub.id}, port: 1 })`);
    };
    return { id: hub.id, setPort: nothing, cyclePort: nothing, status: async () => [], close: async () => undefined };
  }
  const board = hostExec(hub.board, {
    ...(testBoard?.pathPrefix ? { pathPrefix: testBoard.pathPrefix } : {}),
    ...(hub.board === 'local' ? {} : { unreachableFix: `check that the board of hub ${hub.id} is on and on the network, and that \`ssh ${hub.board.ssh} true\` works from here` }),
  });
  const user = hub.board === 'local' ? userInfo().username : /^([^@]+)@/.exec(hub.board.ssh)?.[1];
  const gadget = gadgetPortDriver(hub.sudo ? sudoExec(board, user !== undefined ? { user } : {}) : board, {
    id: hub.id, profile: device.profile, name: device.role,
    ...(hub.udc !== undefined ? { udc: hub.udc } : {}),
    ...(testBoard ? { gadgetsDir: testBoard.gadgetsDir, udcDir: testBoard.udcDir } : {}),
  });
  return {
    id: hub.id,
    setPort: (port, on) => gadget.setPort(port, on),
    cyclePort: (port, offMs) => gadget.cyclePort(port, offMs),
    status: () => gadget.status(),
    async close() {
      try {
        await gadget.close();
      } finally {
        await board.close();
      }
    },
  };
}

const SHARED_STAGE_DIR = '/Users/Shared/dextbench/stage';
const SHARED_CONFIG_DIR = '/Users/Shared/dextbench/config';

/**
 * The simulated Mac's /Users/Shared/dextbench: inside its state dir, so two simulated Macs on this
 * machine never share a lease, while every user of one does (as on a real Mac).
 */
function simSharedDir(stateDir: string): string {
  return join(stateDir, 'fs', 'Users', 'Shared', 'dextbench');
}

/** The simulated Mac's own $TMPDIR, next to its shims. */
function simTmpDir(stateDir: string): string {
  const dir = join(stateDir, 'tmp');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A non-interactive ssh session on macOS has PATH=/usr/bin:/bin:/usr/sbin:/sbin (no login shell, so
 * no path_helper): Homebrew's tools (uhubctl) would not be found without these.
 */
const HOMEBREW_PATHS = ['/opt/homebrew/bin', '/usr/local/bin'];

function execFor(rig: RigDefinition, options: ConnectOptions): Exec {
  switch (rig.host.kind) {
    case 'sim': {
      if (!options.sim) throw new RigConnectError(`rig "${rig.name}" is a simulated Mac: attach it first (attachSimulatedMac) and connect with its binDir and stateDir`);
      const shims = { pathPrefix: [options.sim.binDir], env: { TMPDIR: simTmpDir(options.sim.stateDir) } };
      if (rig.host.ssh) {
        return hostExec(rig.host.ssh, {
          ...shims, where: `simulated Mac "${rig.name}" over ssh ${rig.host.ssh.ssh}`,
          unreachableFix: 'start the simulated Mac\'s sshd: npm run sim:sshd',
        });
      }
      return hostExec('local', { ...shims, where: `simulated Mac "${rig.name}"` });
    }
    case 'local':
      return hostExec('local');
    case 'ssh':
      return hostExec(rig.host.ssh, { pathPrefix: HOMEBREW_PATHS });
  }
}
