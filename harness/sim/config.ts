// SimConfig: the simulated Mac's description, validated here (the sim owns its own schema).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const hex4 = z.string().regex(/^[0-9a-fA-F]{4}$/, 'expected 4 hex digits');

const hubSchema = z.object({
  id: z.string().min(1),
  location: z.string().regex(/^\d+-\d+(\.\d+)*$/, 'expected a uhubctl location like 1-1 or 1-1.3'),
  ports: z.number().int().min(1).max(15),
  vid: hex4,
  pid: hex4,
  vendor: z.string().default(''),
  product: z.string().default('USB2.0 Hub'),
  serial: z.string().optional(),
  /** BCD USB version the hub reports (uhubctl prints it as `USB x.yy`). */
  bcdUSB: z.number().int().default(0x0210),
});

const endpointSchema = z.object({
  address: z.number().int().min(0).max(255),
  type: z.enum(['bulk', 'interrupt', 'isochronous', 'control']),
  maxPacketSize: z.number().int().optional(),
});

const deviceSchema = z.object({
  role: z.string().min(1),
  hub: z.string().min(1),
  port: z.number().int().min(1),
  usb: z.object({
    vendorId: z.number().int().min(0).max(0xffff),
    productId: z.number().int().min(0).max(0xffff),
    product: z.string().default(''),
    manufacturer: z.string().default(''),
    serial: z.string().optional(),
    bcdDevice: z.number().int().default(0x0100),
    speed: z.enum(['low', 'full', 'high', 'super']).default('high'),
    deviceClass: z.number().int().default(0),
  }),
  interfaces: z.array(z.object({
    number: z.number().int().min(0),
    class: z.number().int().default(255),
    subclass: z.number().int().default(0),
    protocol: z.number().int().default(0),
    endpoints: z.array(endpointSchema).default([]),
  })).default([]),
  model: z.string().optional(),
});

const DEFAULT_HOSTS = { 'allowed.example': '192.0.2.10', 'blocked.example': '192.0.2.20' };
const DEFAULT_LISTENING = ['192.0.2.10:443/tcp', '192.0.2.20:443/tcp', '192.0.2.10:80/tcp', '192.0.2.20:80/tcp', '192.0.2.53:53/udp'];

export const simConfigSchema = z.object({
  name: z.string().default('sim'),
  macos: z.object({
    productName: z.string().default('macOS'),
    productVersion: z.string().regex(/^\d+(\.\d+){1,2}$/, 'expected a version like 15.5'),
    buildVersion: z.string().min(1),
  }),
  sip: z.enum(['enabled', 'disabled']),
  developerMode: z.boolean().default(false),
  teamId: z.string().regex(/^[A-Z0-9]{10}$/, 'expected a 10-character team ID'),
  policy: z.object({
    allowedTeamIdentifiers: z.array(z.string()).default([]),
    allowedSystemExtensions: z.record(z.string(), z.array(z.string())).default({}),
  }).default({ allowedTeamIdentifiers: [], allowedSystemExtensions: {} }),
  timing: z.object({
    enumerateMs: z.number().int().min(0).default(40),
    matchMs: z.number().int().min(0).default(60),
    activateMs: z.number().int().min(0).default(120),
    relaunchMs: z.number().int().min(0).default(80),
  }).default({ enumerateMs: 40, matchMs: 60, activateMs: 120, relaunchMs: 80 }),
  hubs: z.array(hubSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  /** Whose loopback model a simulated dext process runs: libdextbench's (dextbench-sim-dext,
   *  built with make), the TypeScript twin, or auto = C when it builds, else TypeScript. */
  dextServer: z.enum(['auto', 'c', 'ts']).default('auto'),
  /** How fast the simulated device moves io traffic: USB 3 Gen 1 in practice (~400 MB/s). */
  ioBytesPerSecond: z.number().int().positive().default(400_000_000),
  /** Whether the Xcode command line tools are installed (xcode-select -p, swiftc). */
  commandLineTools: z.boolean().default(true),
  /** The admin user's password, as `sudo -S` reads it (sudo without a NOPASSWD rule asks for it). */
  adminPassword: z.string().min(1).default('dextbench-sim'),
  /** Formulae installed with Homebrew when the Mac starts (`brew install` adds them later). */
  homebrew: z.object({ uhubctl: z.boolean().default(true) }).default({ uhubctl: true }),
  /** Command paths the admin runs as root without a password: the Mac as a provisioned sudoers drop-in leaves it. */
  passwordlessSudo: z.array(z.string()).default([]),
  /** Privacy grants as an MDM TCC payload would give them: Full Disk Access by bundle id or tool name. */
  tcc: z.object({ fullDiskAccess: z.array(z.string()).default(['eslogger']) }).default({ fullDiskAccess: ['eslogger'] }),
  /** Filter providers approved by a com.apple.webcontent-filter payload (enabling them asks nobody). */
  webContentFilter: z.array(z.string()).default([]),
  /**
   * The Mac is enrolled in user-approved MDM and `profiles install` stands in for the MDM server
   * pushing the profile (the sim has no MDM server): payloads only MDM may deliver install too.
   */
  profilesInstallAsMdm: z.boolean().default(false),
  /** The network the NE model and the curl/nc/dig shims see (contract §6). */
  network: z.object({
    hosts: z.record(z.string(), z.string()).default(DEFAULT_HOSTS),
    listening: z.array(z.string().regex(/^[\d.]+:\d+\/(tcp|udp)$/, 'expected ip:port/tcp or ip:port/udp')).default(DEFAULT_LISTENING),
    dnsServer: z.string().default('192.0.2.53'),
  }).default({ hosts: DEFAULT_HOSTS, listening: DEFAULT_LISTENING, dnsServer: '192.0.2.53' }),
}).superRefine((cfg, ctx) => {
  const hubs = new Map(cfg.hubs.map((h) => [h.id, h]));
  if (hubs.size !== cfg.hubs.length) ctx.addIssue({ code: 'custom', path: ['hubs'], message: 'hub ids must be unique' });
  const seen = new Set<string>();
  cfg.devices.forEach((d, i) => {
    const hub = hubs.get(d.hub);
    if (!hub) ctx.addIssue({ code: 'custom', path: ['devices', i, 'hub'], message: `unknown hub "${d.hub}"` });
    else if (d.port > hub.ports) ctx.addIssue({ code: 'custom', path: ['devices', i, 'port'], message: `hub ${hub.id} has ${hub.ports} ports` });
    const slot = `${d.hub}:${d.port}`;
    if (seen.has(slot)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'port'], message: `two devices on ${slot}` });
    seen.add(slot);
  });
});

export type SimConfig = z.infer<typeof simConfigSchema>;
export type HubConfig = SimConfig['hubs'][number];
export type DeviceConfig = SimConfig['devices'][number];

export class ConfigError extends Error {}

/** Read and validate a config file; any problem becomes one ConfigError line. */
export function loadConfig(path: string): SimConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`sim config ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = simConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new ConfigError(`sim config ${path}: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Identifies the description a shared daemon runs with: a starter with another one restarts it. */
export function configHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
