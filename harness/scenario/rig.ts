// rigs/*.yaml → RigDefinition: the host, the hubs and which device sits on which port (each
// device profile loaded too), the extensions and variables the rig provides.
import type { SshTarget } from '../host/ssh.ts';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { z } from 'zod';
import type { DeviceProfile, GadgetHubSpec, HubSpec, RigDefinition, RigDevice, RigHost, SimSettings } from '../rig/types.ts';
import { bundleId, extensionDecl, isRelativePathLike, resolveFrom, teamId, variables } from './common.ts';
import { deviceFromYaml } from './device.ts';
import { didYouMean, showValue, ValidationError, type ValidationIssue } from './issues.ts';
import { withResolvedPaths } from './scenario.ts';
import { duration } from './units.ts';
import { layeredLookup, substituteInNode } from './variables.ts';
import { parseWithIssues } from './zod-issues.ts';
import { issueAt, notAMapIssue, pairOf, readYamlFile, type YamlFile } from './yaml.ts';

export interface LoadRigOptions {
  /** `--var NAME=value`: the highest precedence. */
  vars?: Record<string, string>;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_ACTIVATOR = ['dextbench-activator'];
const DEFAULT_BRIDGE = ['dextbench-bridge'];
const millis = z.number().int().min(0);
const name = (what: string) => z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: (issue) => `expected ${what} of letters, digits, _ . -, got ${showValue(issue.input)}` });

const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, { error: (issue) => `expected an IPv4 address like 192.0.2.10, got ${showValue(issue.input)}` });
const listeningSocket = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}:\d{1,5}\/(tcp|udp)$/, { error: (issue) => `expected ip:port/tcp or ip:port/udp like 192.0.2.10:443/tcp, got ${showValue(issue.input)}` });

const simSchema = z.strictObject({
  sip: z.enum(['enabled', 'disabled']).default('disabled'),
  developerMode: z.boolean().default(false),
  teamId: teamId.default('DXTBNCH001').meta({ description: 'The team the simulated activator signs with.' }),
  macos: z.strictObject({
    productName: z.string().min(1).default('macOS'),
    productVersion: z.string().min(1).default('15.5'),
    buildVersion: z.string().min(1).default('24F74'),
  }).prefault({}),
  approvedTeams: z.array(teamId).default([]).meta({ description: 'AllowedTeamIdentifiers of a system-extension policy.' }),
  approvedExtensions: z.record(teamId, z.array(bundleId)).default({}).meta({ description: 'AllowedSystemExtensions of a system-extension policy: team id → bundle ids.' }),
  timing: z.strictObject({
    enumerateMs: millis.optional(), matchMs: millis.optional(), activateMs: millis.optional(), relaunchMs: millis.optional(),
  }).optional(),
  dextServer: z.enum(['auto', 'c', 'ts']).default('auto')
    .meta({ description: 'Who serves the simulated dext\'s channel: the C library (libdextbench, built with make), its TypeScript twin, or auto (C when it builds).' }),
  ioMBps: z.number().positive().optional()
    .meta({ description: 'How fast the simulated device moves io traffic, in MB/s (default 400, USB 3 Gen 1 in practice).' }),
  commandLineTools: z.boolean().optional()
    .meta({ description: 'Whether the Xcode command line tools are installed (xcode-select -p, swiftc); default true.' }),
  adminPassword: z.string().min(1).optional()
    .meta({ description: 'The admin password `sudo -S` takes on the simulated Mac; default dextbench-sim.' }),
  passwordlessSudo: z.array(z.string().regex(/^\//, { error: (issue) => `expected an absolute command path such as /usr/bin/eslogger, got ${showValue(issue.input)}` })).optional()
    .meta({ description: 'Command paths the Mac\'s admin may run as root without a password, as the sudoers drop-in `dextbench provision` writes would allow (eslogger for the ES steps).' }),
  homebrew: z.strictObject({ uhubctl: z.boolean().default(true) }).optional()
    .meta({ description: 'Formulae installed with Homebrew; uhubctl: false is a Mac that `dextbench provision` must `brew install uhubctl` on.' }),
  tcc: z.strictObject({
    fullDiskAccess: z.array(z.string().min(1)).meta({ description: 'Bundle ids and tool names (eslogger) granted Full Disk Access, as an MDM TCC payload would.' }),
  }).optional()
    .meta({ description: 'Privacy grants; default: Full Disk Access for eslogger and every systemExtension: of this rig (so its ES clients start).' }),
  webContentFilter: z.array(bundleId).optional()
    .meta({ description: 'Filter providers a com.apple.webcontent-filter payload approves (no prompt); default: every systemExtension: of this rig.' }),
  profilesInstallAsMdm: z.boolean().optional()
    .meta({ description: 'The Mac is enrolled in user-approved MDM and `profiles install` stands in for the MDM push, so MDM-only payloads (system-extension-policy, TCC) install too; default false.' }),
  network: z.strictObject({
    hosts: z.record(z.string().min(1), ipv4).optional().meta({ description: 'Names the simulated DNS server resolves: name → IPv4 address.' }),
    listening: z.array(listeningSocket).optional().meta({ description: 'Sockets something answers on: "ip:port/tcp" or "ip:port/udp".' }),
    dnsServer: ipv4.optional().meta({ description: 'The DNS server\'s address (default 192.0.2.53).' }),
  }).optional()
    .meta({ description: 'The simulated network the NE steps reach; default: allowed.example (192.0.2.10) and blocked.example (192.0.2.20) listening on 80 and 443, DNS at 192.0.2.53.' }),
});

const hubLocation = z.string().regex(/^\d{1,3}-\d{1,2}(\.\d{1,2}){0,5}$/, { error: (issue) => `expected a uhubctl location: bus-port[.port…] like 1-1 or 2-1.4, got ${showValue(issue.input)}` });
const portCount = z.number().int().min(1).max(32);

const sshHost = z.strictObject({
  ssh: z.string().regex(/^([^@\s]+@)?[^@\s:]+$/, { error: (issue) => `expected user@host, got ${showValue(issue.input)}` }),
  port: z.number().int().min(1).max(65535).optional(),
  identityFile: z.string().min(1).optional().meta({ description: 'Private key (ssh -i); ~/ is your home, ./ and ../ are relative to this file.' }),
  options: z.array(z.string().regex(/^[A-Za-z]+[ =]\S/, { error: (issue) => `expected an ssh option as Key=Value (e.g. StrictHostKeyChecking=accept-new), got ${showValue(issue.input)}` })).optional()
    .meta({ description: 'Extra ssh -o options, e.g. StrictHostKeyChecking=accept-new; they win over ~/.ssh/config.' }),
});

export const rigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  host: z.union([z.literal('local'), z.literal('sim'), sshHost], { error: 'expected local, sim or { ssh: user@host }' }).meta({ description: 'local (this Mac), sim (the simulated Mac) or { ssh: user@host }.' }),
  sim: simSchema.optional().meta({ description: 'Settings of the simulated Mac: with host: sim, or with an ssh host on this machine (127.0.0.1) to reach the simulated Mac over ssh.' }),
  signing: z.strictObject({
    identity: z.string().min(1).default('-').meta({ description: 'codesign identity for wrapping dexts; "-" signs ad hoc.' }),
    team: teamId.optional(),
  }).prefault({}),
  activator: z.strictObject({ command: z.array(z.string().min(1)).min(1) }).default({ command: DEFAULT_ACTIVATOR }),
  bridge: z.strictObject({ command: z.array(z.string().min(1)).min(1) }).default({ command: DEFAULT_BRIDGE })
    .meta({ description: 'The channel bridge on the Mac (dext-fixtures/bridge): argv before --match.' }),
  esprobe: z.strictObject({ command: z.array(z.string().min(1)).min(1) }).optional()
    .meta({ description: 'The ES probe on the Mac (dext-fixtures/esprobe): argv before its action; default [dextbench-esprobe].' }),
  privileged: z.strictObject({ sudo: z.boolean().default(false) }).prefault({}),
  hubs: z.array(z.discriminatedUnion('driver', [
    z.strictObject({
      id: name('a hub id'),
      driver: z.literal('uhubctl'),
      location: hubLocation.meta({ description: 'uhubctl location, e.g. "1-1" or "2-1.4" (a bare `uhubctl` lists them).' }),
      ports: portCount.optional(),
    }),
    z.strictObject({
      id: name('a hub id'),
      driver: z.literal('cambrionix'),
      serial: z.string().regex(/^\//, { error: (issue) => `expected the hub's serial device, an absolute path like /dev/cu.usbserial-DN004ABC, got ${showValue(issue.input)}` })
        .meta({ description: 'The hub\'s serial device on the Mac running dextbench, e.g. /dev/cu.usbserial-DN004ABC.' }),
      ports: portCount,
      location: hubLocation.optional()
        .meta({ description: 'The hub\'s USB location in uhubctl\'s form ("2-1.4"), so the devices on its ports are told apart by locationID.' }),
    }),
    z.strictObject({
      id: name('a hub id'),
      driver: z.literal('ykush'),
      serial: z.string().regex(/^\S+$/, { error: (issue) => `expected the YKUSH's USB serial string, like YK20001, got ${showValue(issue.input)}` }).optional()
        .meta({ description: 'The YKUSH\'s USB serial string (e.g. YK20001); needed only when several YKUSH boards are attached to the Mac running dextbench.' }),
      ports: z.number().int().min(1).max(3).optional()
        .meta({ description: 'Its downstream ports, 1 to 3 (default: the board says).' }),
      location: hubLocation.optional()
        .meta({ description: 'The hub\'s USB location in uhubctl\'s form ("1-1.2"), so the devices on its ports are told apart by locationID.' }),
    }),
    z.strictObject({
      id: name('a hub id'),
      driver: z.literal('gadget'),
      board: z.union([z.literal('local'), sshHost], { error: 'expected local or { ssh: user@host }' })
        .meta({ description: 'The Linux board playing the device: local (this machine) or { ssh: user@host, port?, identityFile?, options? }, reached on its own, whatever the Mac\'s host is.' }),
      udc: z.string().regex(/^[^/\s]+$/, { error: (issue) => `expected a USB device controller's name as /sys/class/udc lists it (e.g. fe980000.usb), got ${showValue(issue.input)}` }).optional()
        .meta({ description: 'The board\'s USB device controller (ls /sys/class/udc); default the profile\'s emulate.udc, else the board\'s only one.' }),
      sudo: z.boolean().default(true)
        .meta({ description: 'Run the board\'s commands through sudo -n (configfs needs root); false when dextbench reaches the board as root.' }),
    }),
  ], { error: (issue) => (issue.code === 'invalid_union' ? 'expected a hub driver: uhubctl, cambrionix, gadget or ykush' : undefined) })).default([]),
  devices: z.record(name('a device role'), z.strictObject({
    profile: z.string().min(1).meta({ description: 'Device profile file (relative to this rig file).' }),
    port: z.strictObject({ hub: z.string().min(1), port: z.number().int().min(1) }),
  })).default({}),
  extensions: z.record(z.string().min(1), extensionDecl).default({}),
  vars: variables.default({}).meta({ description: 'Variables for scenarios run on this rig; ./ and ../ paths are relative to this file.' }),
  health: z.string().min(1).optional()
    .meta({ description: 'The rig\'s health-check scenario (relative to this rig file), e.g. ../scenarios/health/echo-rig.yaml: `dextbench rig check` runs it, and a run runs it first when the rig\'s health is unknown.' }),
  class: name('a rig class').optional()
    .meta({ description: 'Rigs of one class are interchangeable: a scenario that failed on infrastructure is retried on another good rig of its class when the run has one.' }),
  reservation: z.strictObject({
    ttl: duration.prefault('2m').meta({ description: 'How long the lease outlives a holder that stopped renewing it (a killed run); holders renew every ttl/3.' }),
    wait: duration.prefault('30m').meta({ description: 'How long a run waits for another holder of the rig before it fails.' }),
    dir: z.string().regex(/^\//, 'expected an absolute path on the rig\'s host').optional()
      .meta({ description: 'Folder on the host, shared by every user, for the rig\'s lease (default /Users/Shared/dextbench/leases).' }),
  }).prefault({}),
});
type RigDocument = z.output<typeof rigSchema>;

export function loadRig(file: string, options: LoadRigOptions = {}): RigDefinition {
  const path = resolve(file);
  const { yaml, issues } = readYamlFile(path);
  if (!yaml) throw new ValidationError(issues);
  const result = rigFromYaml(yaml, options);
  if (issues.length || result.issues.length || !result.rig) throw new ValidationError([...issues, ...result.issues]);
  return result.rig;
}

export function rigFromYaml(yaml: YamlFile, options: LoadRigOptions = {}): { rig?: RigDefinition; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const root = yaml.doc.contents;
  if (!isMap(root)) {
    return { issues: [notAMapIssue(yaml, 'a rig is a map of keys (name, host, hubs, devices, …)')] };
  }
  const env = options.env ?? process.env;
  const setHint = 'pass --var NAME=… or set it in this rig\'s vars';
  const varsNode = pairOf(root, 'vars')?.value;
  substituteInNode(yaml, varsNode, { lookup: layeredLookup(options.vars, env), setHint }, issues);
  const own: Record<string, string> = {};
  if (isMap(varsNode)) {
    for (const pair of varsNode.items) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.value === null || typeof pair.value.value === 'object') continue;
      const value = String(pair.value.value);
      own[String(pair.key.value)] = isRelativePathLike(value) ? resolveFrom(yaml.file, value) : value;
    }
  }
  const lookup = layeredLookup(options.vars, env, own);
  for (const pair of root.items) {
    if (!(isScalar(pair.key) && pair.key.value === 'vars')) substituteInNode(yaml, pair.value, { lookup, setHint }, issues);
  }

  const parsed = parseWithIssues<RigDocument>({ yaml, schema: rigSchema, input: yaml.doc.toJS(), basePath: [], rootLabel: 'rig' });
  if (!parsed.ok) return { issues: [...issues, ...parsed.issues] };
  const doc = parsed.value;

  let host: RigHost;
  if (doc.host === 'sim') {
    if (!doc.sim) issues.push(issueAt(yaml, [], 'rig: missing required key "sim" (host: sim needs the simulated Mac\'s settings)', 'write sim: {} for the defaults'));
    host = { kind: 'sim', sim: simSettings(doc.sim ?? simSchema.parse({})) };
  } else if (doc.host === 'local') {
    if (doc.sim) issues.push(issueAt(yaml, ['sim'], 'sim: settings are only for a simulated Mac, this rig\'s host is local', undefined, 'key'));
    host = { kind: 'local' };
  } else {
    const ssh = sshTarget(yaml.file, doc.host);
    if (doc.sim) {
      // The simulated Mac runs here, so only an sshd on this machine can reach it.
      if (!LOOPBACK.test(ssh.ssh)) {
        issues.push(issueAt(yaml, ['host', 'ssh'], `host.ssh: a simulated Mac runs on this machine, so it is reached over 127.0.0.1 or localhost, got ${ssh.ssh}`, 'use ssh: 127.0.0.1 (start the sshd with npm run sim:sshd), or remove sim: for a real Mac'));
      }
      host = { kind: 'sim', sim: simSettings(doc.sim), ssh };
    } else {
      host = { kind: 'ssh', ssh };
    }
  }

  const hubPorts = new Map<string, number | undefined>();
  /** Gadget hubs by id: the one device each plays, once seen. */
  const gadgetHubs = new Map<string, { role?: string }>();
  doc.hubs.forEach((hub, index) => {
    if (hubPorts.has(hub.id)) issues.push(issueAt(yaml, ['hubs', index, 'id'], `hubs[${index}].id: hub id "${hub.id}" is declared twice`));
    hubPorts.set(hub.id, hub.driver === 'gadget' ? 1 : hub.ports);
    if (hub.driver === 'gadget') {
      gadgetHubs.set(hub.id, {});
      if (host.kind === 'sim') {
        issues.push(issueAt(yaml, ['hubs', index, 'driver'], `hubs[${index}].driver: a gadget enumerates on a real Mac's USB port, and the simulated Mac's USB is simulated`,
          'use driver: uhubctl with a location, or a real Mac (host: local or { ssh: user@host })'));
      }
    }
    if (hub.driver === 'cambrionix' && host.kind !== 'local') {
      issues.push(host.kind === 'sim'
        ? issueAt(yaml, ['hubs', index, 'driver'], `hubs[${index}].driver: the simulated Mac's hubs are uhubctl hubs, got cambrionix`, 'use driver: uhubctl with a location')
        : issueAt(yaml, ['hubs', index, 'driver'], `hubs[${index}].driver: a cambrionix hub is driven through its serial port, which only the machine it is plugged into can open, and this rig's Mac is reached over ssh`,
          'run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)'));
    }
    if (hub.driver === 'ykush' && host.kind !== 'local') {
      issues.push(host.kind === 'sim'
        ? issueAt(yaml, ['hubs', index, 'driver'], `hubs[${index}].driver: the simulated Mac's hubs are uhubctl hubs, got ykush`, 'use driver: uhubctl with a location')
        : issueAt(yaml, ['hubs', index, 'driver'], `hubs[${index}].driver: a ykush hub is driven through its USB control interface, which enumerates only on the machine its upstream port is plugged into, and this rig's Mac is reached over ssh`,
          'run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)'));
    }
  });

  const devices: RigDevice[] = [];
  const occupied = new Map<string, string>();
  for (const [role, device] of Object.entries(doc.devices)) {
    const at = ['devices', role];
    const label = `devices.${role}`;
    const { hub, port } = device.port;
    if (!hubPorts.has(hub)) {
      const declared = [...hubPorts.keys()];
      issues.push(issueAt(yaml, [...at, 'port', 'hub'], `${label}.port.hub: unknown hub "${hub}"`,
        didYouMean(hub, declared) ?? (declared.length ? `declared hubs: ${declared.join(', ')}` : 'declare it under hubs:')));
    } else {
      const ports = hubPorts.get(hub);
      const gadget = gadgetHubs.get(hub);
      if (gadget && port !== 1) {
        issues.push(issueAt(yaml, [...at, 'port', 'port'], `${label}.port.port: hub ${hub} is a gadget emulator, which has one port, got port ${port}`, 'use port: 1'));
      } else if (ports !== undefined && port > ports) {
        issues.push(issueAt(yaml, [...at, 'port', 'port'], `${label}.port.port: hub ${hub} has ${ports} ports, got port ${port}`));
      }
      const slot = `${hub}:${port}`;
      const other = occupied.get(slot);
      if (gadget?.role !== undefined) {
        issues.push(issueAt(yaml, [...at, 'port', 'hub'], `${label}.port.hub: hub ${hub} is a gadget emulator, which plays one device, and it plays ${gadget.role} already`,
          'give each emulated device a board of its own (a gadget hub each)'));
      } else if (other !== undefined) {
        issues.push(issueAt(yaml, [...at, 'port'], `${label}.port: ${other} is already on hub ${hub} port ${port}`, 'give each device its own port'));
      } else {
        occupied.set(slot, role);
      }
      if (gadget && gadget.role === undefined) gadget.role = role;
    }
    const profile = loadProfileFor(yaml, [...at, 'profile'], `${label}.profile`, device.profile, issues);
    if (profile && gadgetHubs.has(hub) && !profile.emulate) {
      issues.push(issueAt(yaml, [...at, 'profile'], `${label}.profile: hub ${hub} is a gadget emulator, which plays the device from its profile's emulate: section, and ${device.profile} has none`,
        'add one to the profile, e.g. emulate: { functions: [loopback] }'));
    }
    if (profile) devices.push({ role, profile, port: { hub, port } });
  }

  const extensions = Object.fromEntries(Object.entries(doc.extensions).map(([n, decl]) => [n, withResolvedPaths(yaml.file, decl)]));
  if (doc.health !== undefined && !existsSync(resolveFrom(yaml.file, doc.health))) {
    issues.push(issueAt(yaml, ['health'], `health: health-check scenario ${JSON.stringify(doc.health)} not found (looked for ${resolveFrom(yaml.file, doc.health)})`,
      'paths are relative to the rig file, e.g. ../scenarios/health/echo-rig.yaml'));
  }
  if (issues.length) return { issues };
  const rig: RigDefinition = {
    file: yaml.file,
    name: doc.name,
    host,
    signing: doc.signing.team === undefined ? { identity: doc.signing.identity } : { identity: doc.signing.identity, team: doc.signing.team },
    activator: { command: doc.activator.command },
    bridge: { command: doc.bridge.command },
    ...(doc.esprobe ? { esprobe: { command: doc.esprobe.command } } : {}),
    privileged: { sudo: doc.privileged.sudo },
    hubs: doc.hubs.map((h): HubSpec => (h.driver === 'gadget' ? gadgetHub(yaml.file, h)
      : h.driver === 'uhubctl' && h.ports === undefined ? { id: h.id, driver: h.driver, location: h.location } : { ...h })),
    devices,
    extensions,
    vars: own,
    reservation: { ttlMs: doc.reservation.ttl, waitMs: doc.reservation.wait, ...(doc.reservation.dir ? { dir: doc.reservation.dir } : {}) },
    ...(doc.health !== undefined ? { health: resolveFrom(yaml.file, doc.health) } : {}),
    ...(doc.class !== undefined ? { class: doc.class } : {}),
  };
  if (doc.description !== undefined) rig.description = doc.description;
  return { rig, issues };
}

const LOOPBACK = /^([^@]+@)?(127\.0\.0\.1|localhost|::1)$/;
/** ssh options whose value is a local file: resolved like the identity file. */
const FILE_OPTIONS = /^(IdentityFile|UserKnownHostsFile|CertificateFile|IdentityAgent|ControlPath)([ =])(.*)$/i;

/** An ssh target as written (host:, a gadget hub's board:), its files resolved against the rig file. */
function sshTarget(rigFile: string, written: z.output<typeof sshHost>): SshTarget {
  const ssh: SshTarget = { ssh: written.ssh };
  if (written.port !== undefined) ssh.port = written.port;
  if (written.identityFile !== undefined) ssh.identityFile = sshPath(rigFile, written.identityFile);
  if (written.options !== undefined) ssh.options = written.options.map((option) => sshOption(rigFile, option));
  return ssh;
}

function gadgetHub(rigFile: string, hub: Extract<RigDocument['hubs'][number], { driver: 'gadget' }>): GadgetHubSpec {
  return {
    id: hub.id, driver: 'gadget', board: hub.board === 'local' ? 'local' : sshTarget(rigFile, hub.board),
    ...(hub.udc !== undefined ? { udc: hub.udc } : {}), sudo: hub.sudo,
  };
}

/** ~/… stays for ssh to expand; ./ and ../ are relative to the rig file. */
function sshPath(rigFile: string, path: string): string {
  return isRelativePathLike(path) ? resolveFrom(rigFile, path) : path;
}

function sshOption(rigFile: string, option: string): string {
  const file = FILE_OPTIONS.exec(option);
  return file ? `${file[1]}${file[2]}${sshPath(rigFile, file[3]!)}` : option;
}

function simSettings(sim: z.output<typeof simSchema>): SimSettings {
  const settings: SimSettings = {
    sip: sim.sip, developerMode: sim.developerMode, teamId: sim.teamId, macos: sim.macos,
    approvedTeams: sim.approvedTeams, approvedExtensions: sim.approvedExtensions,
  };
  // Absent: the defaults of simConfigFor (the rig's own system extensions granted, contract §6).
  if (sim.tcc !== undefined) settings.tcc = sim.tcc;
  if (sim.webContentFilter !== undefined) settings.webContentFilter = sim.webContentFilter;
  if (sim.profilesInstallAsMdm !== undefined) settings.profilesInstallAsMdm = sim.profilesInstallAsMdm;
  if (sim.network !== undefined) settings.network = sim.network;
  if (sim.timing) settings.timing = sim.timing;
  settings.dextServer = sim.dextServer;
  if (sim.ioMBps !== undefined) settings.ioMBps = sim.ioMBps;
  if (sim.commandLineTools !== undefined) settings.commandLineTools = sim.commandLineTools;
  if (sim.adminPassword !== undefined) settings.adminPassword = sim.adminPassword;
  if (sim.homebrew !== undefined) settings.homebrew = sim.homebrew;
  if (sim.passwordlessSudo !== undefined) settings.passwordlessSudo = sim.passwordlessSudo;
  return settings;
}

/** Loads a rig device's profile; its own problems are reported in the profile file. */
function loadProfileFor(yaml: YamlFile, path: (string | number)[], label: string, written: string, issues: ValidationIssue[]): DeviceProfile | undefined {
  const file = resolveFrom(yaml.file, written);
  if (!existsSync(file)) {
    issues.push(issueAt(yaml, path, `${label}: device profile ${JSON.stringify(written)} not found (looked for ${file})`));
    return undefined;
  }
  const read = readYamlFile(file);
  if (!read.yaml) {
    issues.push(...read.issues);
    return undefined;
  }
  const result = deviceFromYaml(read.yaml);
  issues.push(...read.issues, ...result.issues);
  return read.issues.length ? undefined : result.profile;
}
