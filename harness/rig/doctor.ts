// `dextbench doctor`: is the rig's Mac ready? One check per line, in a fixed order, each saying what
// to run when it is not ok. Doctor only reads: it takes no lease, switches no port and sets no mode,
// and every command it sends is marked idempotent (over ssh, retried once after a dropped connection).
// Checks never throw: an unexpected error is that check's failure, in one line.
import type { Exec } from '../host/exec.ts';
import { formatArgv, TransportError } from '../host/exec.ts';
import { findExtensionRows, type SystemExtensionRow, type SystemExtensionsList, type UsbDeviceView } from '../host/parsers/index.ts';
import { commandPath } from '../host/tools/command-path.ts';
import { sipStatus, type SipStatus } from '../host/tools/csrutil.ts';
import { developerDir, swiftVersion } from '../host/tools/developer-tools.ts';
import { extensionKind } from '../host/tools/endpoint-security.ts';
import { ioreg } from '../host/tools/ioreg.ts';
import { privilegedCommands, sudoAllows } from '../host/tools/sudo.ts';
import { macosVersion } from '../host/tools/sw_vers.ts';
import { systemExtensionsCtl } from '../host/tools/systemextensionsctl.ts';
import { oneLine, toolSaid, ToolError } from '../host/tools/tool-error.ts';
import type { HubPortStatus } from '../power/index.ts';
import { describeHub, hubDriverFor, type RigSession } from './connect.ts';
import { describeObservation, findRigDevice } from './device-state.ts';
import { describeHolder, inspectLease } from './lease.ts';
import type { ExtensionDecl, HubSpec, RigDefinition, RigDevice } from './types.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to run when the status is not ok; null when it is. */
  fix: string | null;
}

export interface DoctorOptions {
  /** How a fix names the rig to dextbench commands: `--rig rigs/x.yaml`. */
  rigArg: string;
}

/**
 * The oldest macOS with DriverKit and system extensions: 10.15 (reference §B.4: the
 * system-extension-policy payload is "macOS 10.15+"; the activator is built for macos10.15).
 */
export const OLDEST_MACOS: readonly [number, number] = [10, 15];

const SIP_FIX = 'in macOS Recovery\'s Terminal: csrutil disable (or csrutil enable --without kext), then restart';
const SKIPPED = 'skipped: host unreachable';

type Outcome = Omit<DoctorCheck, 'name' | 'fix'> & { fix?: string };

interface Facts {
  macosMajor?: number;
  sip?: SipStatus;
  swiftc?: boolean;
  hubPorts: Map<string, HubPortStatus[]>;
  usbDevices?: Promise<UsbDeviceView[]>;
  extensions?: Promise<SystemExtensionsList>;
}

interface Context {
  rig: RigDefinition;
  exec: Exec;
  leaseDir: string;
  rigArg: string;
  facts: Facts;
}

interface Check {
  name: string;
  /** What to run on the Mac to see for oneself, the fix when the check fails unexpectedly. */
  see: string;
  run(ctx: Context): Promise<Outcome>;
}

/** Every check of the rig, in order; the first, host reachable, decides whether the others run. */
export async function runDoctor(session: RigSession, options: DoctorOptions): Promise<DoctorCheck[]> {
  const ctx: Context = {
    rig: session.definition, exec: readsOnly(session.exec), leaseDir: session.leaseDir, rigArg: options.rigArg, facts: { hubPorts: new Map() },
  };
  const results: (DoctorCheck & { transport?: boolean })[] = [];
  let unreachable: DoctorCheck | undefined;
  for (const check of checksFor(session.definition, options.rigArg)) {
    if (unreachable) {
      results.push({ name: check.name, status: 'fail', detail: SKIPPED, fix: unreachable.fix });
      continue;
    }
    const result = await runCheck(check, ctx);
    results.push(result);
    if (result.status === 'fail' && result.transport) unreachable = results.at(-1);
  }
  return results.map(({ transport: _t, ...check }) => check);
}

/** The checks when the host could not be reached at all (opening the rig failed): the first fails, the rest are skipped. */
export function unreachableChecks(rig: RigDefinition, error: TransportError, options: DoctorOptions): DoctorCheck[] {
  const fix = transportFix(rig, error, options.rigArg);
  return checksFor(rig, options.rigArg).map((check, i) => (i === 0
    ? { name: check.name, status: 'fail', detail: oneLine(error.message), fix }
    : { name: check.name, status: 'fail', detail: SKIPPED, fix }));
}

async function runCheck(check: Check, ctx: Context): Promise<DoctorCheck & { transport?: boolean }> {
  try {
    const { status, detail, fix } = await check.run(ctx);
    return { name: check.name, status, detail, fix: status === 'ok' ? null : fix ?? check.see };
  } catch (error) {
    if (error instanceof TransportError) {
      return { name: check.name, status: 'fail', detail: oneLine(error.message), fix: transportFix(ctx.rig, error, ctx.rigArg), transport: true };
    }
    return { name: check.name, status: 'fail', detail: oneLine((error as Error)?.message ?? String(error)) || 'failed', fix: check.see };
  }
}

function checksFor(rig: RigDefinition, rigArg: string): Check[] {
  const uhubctl = rig.hubs.some((hub) => hub.driver === 'uhubctl');
  return [
    { name: 'host reachable', see: sshTrue(rig) ?? 'true', run: hostReachable },
    { name: 'macOS version', see: 'sw_vers', run: macosVersionCheck },
    { name: 'SIP', see: 'csrutil status', run: sipCheck },
    { name: 'developer mode', see: 'systemextensionsctl developer', run: developerModeCheck },
    { name: 'command line tools', see: 'xcode-select -p', run: commandLineToolsCheck },
    { name: 'swiftc', see: 'swiftc --version', run: swiftcCheck },
    { name: 'activator', see: `${formatArgv(rig.activator.command)} --help`, run: activatorCheck },
    { name: 'bridge', see: `${formatArgv(rig.bridge.command)} --help`, run: bridgeCheck },
    ...['systemextensionsctl', 'ioreg', 'log', 'eslogger', ...(uhubctl ? ['uhubctl'] : [])].map((tool): Check => ({
      name: `tool ${tool}`, see: `command -v ${tool}`, run: (ctx) => toolCheck(ctx, tool),
    })),
    ...sudoChecks(rig),
    ...rig.hubs.map((hub): Check => ({ name: `hub ${hub.id}`, see: hubSee(hub), run: (ctx) => hubCheck(ctx, hub) })),
    ...rig.devices.map((device): Check => ({ name: `device ${device.role}`, see: 'ioreg -p IOUSB -l -w0', run: (ctx) => deviceCheck(ctx, device) })),
    ...Object.entries(rig.extensions).map(([name, decl]): Check => ({
      name: `extension ${name}`, see: 'systemextensionsctl list', run: (ctx) => extensionCheck(ctx, decl),
    })),
    { name: 'lease', see: `dextbench rig status ${rigArg}`, run: leaseCheck },
  ];
}

async function hostReachable(ctx: Context): Promise<Outcome> {
  const result = await ctx.exec.run(['true'], { timeoutMs: 15_000, nothrow: true });
  if (!result.ok) return { status: 'fail', detail: `\`true\` on ${ctx.exec.where} ${toolSaid(result)}` };
  return { status: 'ok', detail: ctx.exec.where };
}

async function macosVersionCheck(ctx: Context): Promise<Outcome> {
  const notMac = { fix: 'point the rig\'s host at a Mac: host: local on the Mac itself, or host: { ssh: user@mac }' };
  let version;
  try {
    version = await macosVersion(ctx.exec);
  } catch (error) {
    if (error instanceof ToolError && error.result?.exitCode === 127) return { status: 'fail', detail: 'not macOS: sw_vers: command not found', ...notMac };
    throw error;
  }
  const { productName, productVersion, buildVersion } = version;
  if (productName !== 'macOS' && productName !== 'Mac OS X') return { status: 'fail', detail: `not macOS: sw_vers says ProductName ${productName || '(none)'}`, ...notMac };
  const said = `${productName} ${productVersion}${buildVersion ? ` (${buildVersion})` : ''}`;
  const [major = 0, minor = 0] = productVersion.split('.').map(Number);
  ctx.facts.macosMajor = major;
  const [oldestMajor, oldestMinor] = OLDEST_MACOS;
  if (major < oldestMajor || (major === oldestMajor && minor < oldestMinor)) {
    return { status: 'warn', detail: `${said} is older than macOS ${OLDEST_MACOS.join('.')}, the first with DriverKit`, fix: 'softwareupdate --list-full-installers' };
  }
  return { status: 'ok', detail: said };
}

// The status word alone misleads (macos-formats.md §6.1): a custom configuration says "unknown" or
// "enabled", and what matters for ad hoc dexts is whether Kext Signing is off.
async function sipCheck(ctx: Context): Promise<Outcome> {
  const sip = await sipStatus(ctx.exec, { timeoutMs: 10_000 });
  ctx.facts.sip = sip;
  const said = `${sip.status}${sip.qualifier ? ` (${sip.qualifier})` : ''}`;
  if (Object.keys(sip.configuration).length > 0) {
    const kextSigning = sip.configuration['Kext Signing'];
    if (kextSigning === false) return { status: 'ok', detail: `${said}: Kext Signing disabled, enough for ad hoc dexts` };
    return { status: 'warn', detail: `${said}: Kext Signing ${kextSigning === undefined ? 'not listed' : 'enabled'}; dexts must be notarized`, fix: SIP_FIX };
  }
  if (sip.status === 'disabled') return { status: 'ok', detail: said };
  return { status: 'warn', detail: `${said}: dexts must be notarized, and systemextensionsctl developer and uninstall are refused`, fix: SIP_FIX };
}

async function developerModeCheck(ctx: Context): Promise<Outcome> {
  const on = await systemExtensionsCtl(ctx.exec).developerMode();
  if (on) return { status: 'ok', detail: 'on' };
  const sipOff = ctx.facts.sip && (ctx.facts.sip.status === 'disabled' || ctx.facts.sip.configuration['Kext Signing'] === false);
  return {
    status: 'warn', detail: 'off (extensions load only from an app in /Applications)',
    fix: sipOff ? 'systemextensionsctl developer on' : `turn SIP off first (see SIP), then: systemextensionsctl developer on`,
  };
}

async function commandLineToolsCheck(ctx: Context): Promise<Outcome> {
  const dir = await developerDir(ctx.exec);
  return dir.ok ? { status: 'ok', detail: dir.text } : { status: 'fail', detail: `xcode-select -p ${dir.said}`, fix: 'xcode-select --install' };
}

async function swiftcCheck(ctx: Context): Promise<Outcome> {
  const version = await swiftVersion(ctx.exec);
  ctx.facts.swiftc = version.ok;
  return version.ok ? { status: 'ok', detail: version.text } : { status: 'fail', detail: `swiftc --version ${version.said}`, fix: 'xcode-select --install' };
}

async function activatorCheck(ctx: Context): Promise<Outcome> {
  const command = ctx.rig.activator.command;
  const result = await ctx.exec.run([...command, '--help'], { timeoutMs: 15_000, nothrow: true });
  const shown = formatArgv(command);
  if (result.ok) return { status: 'ok', detail: `${shown} is installed` };
  const provision = `dextbench provision ${ctx.rigArg}`;
  if (result.exitCode !== 127) return { status: 'fail', detail: `${shown} --help ${toolSaid(result)}`, fix: provision };
  if (ctx.facts.swiftc) return { status: 'warn', detail: `${shown} is not installed; swiftc is there to build it`, fix: provision };
  return { status: 'fail', detail: `${shown} is not installed, and there is no swiftc to build it`, fix: `xcode-select --install, then: ${provision}` };
}

// Every channel step runs the bridge; provision builds it, but only at an absolute path.
async function bridgeCheck(ctx: Context): Promise<Outcome> {
  const command = ctx.rig.bridge.command;
  const result = await ctx.exec.run([...command, '--help'], { timeoutMs: 15_000, nothrow: true });
  const shown = formatArgv(command);
  if (result.ok) return { status: 'ok', detail: `${shown} is installed` };
  const provision = `dextbench provision ${ctx.rigArg}`;
  const fix = command[0]!.startsWith('/') ? provision
    : `set bridge.command in ${ctx.rig.file} to an absolute path on the Mac (e.g. [/Users/Shared/dextbench/bridge/dextbench-bridge]), then: ${provision}`;
  const detail = result.exitCode === 127 ? `${shown} is not installed (channel steps need it)` : `${shown} --help ${toolSaid(result)}`;
  return { status: 'fail', detail, fix };
}

/** Where macOS keeps its own tools, for the message when one is not on the PATH. */
const APPLE_TOOLS: Record<string, string> = {
  systemextensionsctl: '/usr/bin/systemextensionsctl', ioreg: '/usr/sbin/ioreg', log: '/usr/bin/log', eslogger: '/usr/bin/eslogger',
};

async function toolCheck(ctx: Context, tool: string): Promise<Outcome> {
  const path = await commandPath(ctx.exec, tool);
  if (path) return { status: 'ok', detail: path };
  if (tool === 'uhubctl') return { status: 'fail', detail: 'not installed (the rig\'s hubs need it)', fix: 'brew install uhubctl' };
  const onPath = `add ${APPLE_TOOLS[tool]!.replace(/\/[^/]+$/, '')} to the PATH of the account dextbench uses`;
  if (tool === 'eslogger') {
    // Only Endpoint Security scenarios need it, and only macOS 13 and later have it.
    const tooOld = ctx.facts.macosMajor !== undefined && ctx.facts.macosMajor < 13;
    return {
      status: 'warn', detail: `not found${tooOld ? ' (macOS 13 or later has it)' : ` (macOS has it at ${APPLE_TOOLS[tool]})`}; only Endpoint Security scenarios need it`,
      fix: tooOld ? 'softwareupdate --list-full-installers' : onPath,
    };
  }
  return { status: 'fail', detail: `not on the PATH (macOS has it at ${APPLE_TOOLS[tool]})`, fix: onPath };
}

// eslogger is checked on every rig with an ES extension: the ES steps run it through sudo -n (sudo.ts).
function sudoChecks(rig: RigDefinition): Check[] {
  const commands = privilegedCommands(rig);
  if (commands.length === 0) {
    return [{ name: 'sudo', see: 'sudo -n -l', run: async () => ({ status: 'ok', detail: 'not used (privileged: { sudo: false })' }) }];
  }
  return commands.map((command): Check => {
    const shown = [command.tool, ...(command.args ?? [])].join(' ');
    return {
      name: `sudo -n ${shown}`,
      see: `sudo -n -l ${formatArgv([command.tool, ...command.example])}`,
      async run(ctx) {
        const answer = await sudoAllows(ctx.exec, [command.tool, ...command.example]);
        if (answer.allowed) return { status: 'ok', detail: `runs ${answer.path} without a password` };
        return { status: 'fail', detail: `${answer.said} (${command.why} needs it)`, fix: `dextbench provision ${ctx.rigArg}` };
      },
    };
  });
}

async function hubCheck(ctx: Context, hub: HubSpec): Promise<Outcome> {
  let ports: HubPortStatus[];
  const driver = hubDriverFor(ctx.rig, hub, ctx.exec);
  try {
    ports = await driver.status();
  } catch (error) {
    if (error instanceof TransportError) throw error;
    const message = oneLine((error as Error).message);
    return { status: 'fail', detail: message, fix: hubFix(message, hub, ctx) };
  } finally {
    await driver.close();
  }
  ctx.facts.hubPorts.set(hub.id, ports);
  const on = ports.filter((p) => p.powered).map((p) => p.port);
  return { status: 'ok', detail: `${describeHub(hub)}: ${ports.length} port${ports.length === 1 ? '' : 's'}, ${on.length ? `port${on.length > 1 ? 's' : ''} ${on.join(', ')} on` : 'all off'}` };
}

/** What to run by hand to see what the hub check sees. */
function hubSee(hub: HubSpec): string {
  if (hub.driver === 'uhubctl') return `uhubctl -l ${hub.location}`;
  if (hub.driver === 'cambrionix') return `state on ${hub.serial}`;
  if (hub.driver === 'gadget') return 'ls /sys/class/udc /sys/kernel/config/usb_gadget on the board';
  if (hub.driver === 'ykush') return 'ioreg -p IOUSB -w0 | grep -i ykush';
  return describeHub(hub);
}

function hubFix(message: string, hub: HubSpec, ctx: Context): string {
  // The gadget's errors carry their own fix (a module to load, a sudoers rule, a UDC to name).
  if (hub.driver === 'gadget') return `${hubSee(hub)} (then fix hubs: ${hub.id} in ${ctx.rig.file})`;
  // The YKUSH's errors carry their own fix too (plug it in, name its serial, a udev rule, sudo).
  if (hub.driver === 'ykush') return `${hubSee(hub)} (then fix hubs: ${hub.id} in ${ctx.rig.file})`;
  if (hub.driver === 'cambrionix') return `ls -l ${hub.serial} (then fix hubs: ${hub.id} serial in ${ctx.rig.file})`;
  if (/password is required|terminal is required/.test(message)) return `dextbench provision ${ctx.rigArg}`;
  if (/not installed|command not found/.test(message)) return 'brew install uhubctl';
  if (/no compatible hub/.test(message)) return `uhubctl (it lists the hubs and their locations; then fix hubs: ${hub.id} location in ${ctx.rig.file})`;
  return `uhubctl -l ${hub.location}`;
}

// Doctor switches no port: a device behind a port that is off is reported as such, not powered up.
async function deviceCheck(ctx: Context, device: RigDevice): Promise<Outcome> {
  ctx.facts.usbDevices ??= ioreg(ctx.exec).usbDevices();
  const devices = await ctx.facts.usbDevices;
  const { found, locationId, elsewhere } = findRigDevice(devices, ctx.rig, device);
  const observation = { device: found, services: found?.services ?? [], servers: [], elsewhere, ...(locationId !== undefined ? { locationId } : {}) };
  if (found) return { status: 'ok', detail: describeObservation(observation) };
  const where = `${device.port.hub} port ${device.port.port}`;
  const port = ctx.facts.hubPorts.get(device.port.hub)?.find((p) => p.port === device.port.port);
  if (port && !port.powered) return { status: 'warn', detail: `port off (${where})`, fix: `dextbench rig plug ${device.role} ${ctx.rigArg}` };
  if (!port) {
    return { status: 'warn', detail: `${describeObservation(observation)}; the state of ${where} is unknown (see hub ${device.port.hub})`, fix: `dextbench rig status ${ctx.rigArg}` };
  }
  return { status: 'fail', detail: `${describeObservation(observation)} although ${where} is on`, fix: `dextbench rig cycle ${device.role} ${ctx.rigArg}` };
}

async function extensionCheck(ctx: Context, decl: ExtensionDecl): Promise<Outcome> {
  ctx.facts.extensions ??= systemExtensionsCtl(ctx.exec).list().then((r) => r.list);
  const rows = findExtensionRows(await ctx.facts.extensions, { bundleId: decl.bundle, ...(decl.version ? { version: decl.version } : {}) });
  const wanted = `${decl.bundle}${decl.version ? ` ${decl.version}` : ''}`;
  if (rows.length === 0) return { status: 'ok', detail: `${wanted} not installed (sysext.activate installs it)` };
  const enabled = rows.find((r) => r.state === 'activated enabled');
  if (enabled) return { status: 'ok', detail: describeRow(enabled) };
  const waiting = rows.find((r) => r.state === 'activated waiting for user');
  if (waiting) {
    const team = decl.team ?? (waiting.teamId !== '-' ? waiting.teamId : undefined) ?? 'TEAMID';
    return {
      status: 'warn', detail: `${describeRow(waiting)}: approve it in System Settings, or pre-approve it with an MDM profile`,
      fix: `dextbench profile --team ${team} --${extensionKind(decl)} ${decl.bundle} --removable -o ${decl.bundle}.mobileconfig (then deliver it through MDM)`,
    };
  }
  if (rows.every((r) => r.state.startsWith('terminated'))) {
    return { status: 'warn', detail: `${rows.map(describeRow).join('; ')}: removed at the next restart`, fix: 'sudo shutdown -r now' };
  }
  return { status: 'warn', detail: rows.map(describeRow).join('; '), fix: 'systemextensionsctl list' };
}

function describeRow(row: SystemExtensionRow): string {
  return `${row.bundleId} ${row.shortVersion}/${row.bundleVersion} [${row.state}]`;
}

async function leaseCheck(ctx: Context): Promise<Outcome> {
  const lease = await inspectLease(ctx.exec, ctx.leaseDir, ctx.rig.name, ctx.rig.reservation.ttlMs);
  if (!lease.held) return { status: 'ok', detail: 'free' };
  return {
    status: 'warn',
    detail: `reserved by ${describeHolder(lease)}${lease.expired ? ' (expired: the next user takes it over)' : ''}`,
    fix: `dextbench rig status ${ctx.rigArg}`,
  };
}

/** The commands the transport's message names (`…`), else the ssh command that shows what is wrong. */
function transportFix(rig: RigDefinition, error: TransportError, rigArg: string): string {
  const named = [...error.message.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  if (named.length) return named.join(', then ');
  const ssh = rig.host.kind === 'local' ? undefined : rig.host.ssh;
  if (!ssh) return `dextbench doctor ${rigArg}`;
  const port = ssh.port ? `-p ${ssh.port} ` : '';
  switch (error.kind) {
    case 'auth': return `ssh-copy-id ${port}${ssh.ssh}`;
    case 'host-key': return `ssh-keygen -R ${ssh.port ? `'[${ssh.ssh.replace(/^[^@]*@/, '')}]:${ssh.port}'` : ssh.ssh.replace(/^[^@]*@/, '')}, then: ${sshTrue(rig)}`;
    default: return sshTrue(rig)!;
  }
}

/** `ssh [-p port] user@host true`: whether the rig's ssh host answers at all. */
function sshTrue(rig: RigDefinition): string | undefined {
  const ssh = rig.host.kind === 'local' ? undefined : rig.host.ssh;
  return ssh && `ssh ${ssh.port ? `-p ${ssh.port} ` : ''}${ssh.ssh} true`;
}

/** Every command doctor sends is a read: marked idempotent, whoever builds the argv. */
function readsOnly(exec: Exec): Exec {
  return {
    where: exec.where,
    run: (argv, options = {}) => exec.run(argv, { ...options, idempotent: true }),
    spawn: (argv, options) => exec.spawn(argv, options),
    onRecord: (listener) => exec.onRecord(listener),
    // The session owns the connection.
    close: async () => undefined,
  };
}
