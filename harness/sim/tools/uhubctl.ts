// uhubctl 2.6.0 on the simulated hubs: status/action output built from its printf formats (§C.1).
import type { HubConfig } from '../config.ts';
import { uhubctlInstalled } from '../homebrew.ts';
import type { Mac } from '../mac.ts';
import { enumeratedDevice, isPowered, setPortPower } from '../usb.ts';
import { sleepOrAbort, type Tool, type ToolContext } from './context.ts';

const USAGE = `uhubctl: utility to control USB port power for smart hubs.
Usage: uhubctl [options]
Without options, show status for all smart hubs.

Options [defaults in brackets]:
--action,   -a - action to off/on/cycle/toggle/flash (0/1/2/3/4) for affected ports.
--ports,    -p - ports to operate on    [all hub ports].
--location, -l - limit hub by location  [all smart hubs].
--level     -L - limit hub by location level (e.g. a-b.c is level 3).
--vendor,   -n - limit hub by vendor id [any] (partial ok).
--searchhub,-H - limit hub by description.
--search,   -s - limit hub by attached device description.
--delay,    -d - delay for cycle/flash action [2 sec].
--repeat,   -r - repeat power off count [1] (some devices need it to turn off).
--exact,    -e - exact location (no USB3 duality handling).
--force,    -f - force operation even on unsupported hubs.
--nodesc,   -N - do not query device description (helpful for unresponsive devices).
--nosysfs,  -S - (Linux) do not use the Linux sysfs port disable interface.
--sysdev,   -y - (Linux) open system device node instead of scanning.
--reset,    -R - reset hub after each power-on action, causing all devices to reassociate.
--wait,     -w - wait before repeat power off [20 ms].
--version,  -v - print program version.
--help,     -h - print this text.
`;

const LONG: Record<string, string> = {
  '--action': '-a', '--ports': '-p', '--location': '-l', '--level': '-L', '--vendor': '-n', '--searchhub': '-H',
  '--search': '-s', '--delay': '-d', '--repeat': '-r', '--exact': '-e', '--force': '-f', '--nodesc': '-N',
  '--nosysfs': '-S', '--sysdev': '-y', '--reset': '-R', '--wait': '-w', '--version': '-v', '--help': '-h',
};
const WITH_VALUE = new Set(['-a', '-p', '-l', '-L', '-n', '-H', '-s', '-d', '-r', '-w', '-y']);
const ACTIONS: Record<string, 'off' | 'on' | 'cycle' | 'toggle'> = { off: 'off', 0: 'off', on: 'on', 1: 'on', cycle: 'cycle', 2: 'cycle', toggle: 'toggle', 3: 'toggle' };

const POWER = 0x0100, LOW_SPEED = 0x0200, HIGH_SPEED = 0x0400, ENABLE = 0x0002, CONNECTION = 0x0001;

function parsePorts(spec: string): Set<number> | null {
  const ports = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const from = Number(m[1]), to = Number(m[2] ?? m[1]);
    for (let p = Math.min(from, to); p <= Math.max(from, to); p++) ports.add(p);
  }
  return ports;
}

function description(parts: Array<string | undefined>): string {
  return parts.filter((p) => p).join(' ');
}

function hubHeader(hub: HubConfig, nodesc: boolean): string {
  const id = `${hub.vid.toLowerCase()}:${hub.pid.toLowerCase()}`;
  const desc = nodesc ? id : description([id, hub.vendor, hub.product, hub.serial]);
  const usb = `${(hub.bcdUSB >> 8).toString(16)}.${(hub.bcdUSB & 0xff).toString(16).padStart(2, '0')}`;
  return `[${desc}, USB ${usb}, ${hub.ports} ports, ppps]`;
}

function portLine(mac: Mac, hub: HubConfig, port: number, nodesc: boolean): string {
  const powered = isPowered(mac, hub.id, port);
  const dev = powered ? enumeratedDevice(mac, hub.id, port) : undefined;
  let status = powered ? POWER : 0;
  if (dev) {
    status |= ENABLE | CONNECTION;
    if (dev.usb.speed === 'low') status |= LOW_SPEED;
    else if (dev.usb.speed !== 'full') status |= HIGH_SPEED;
  }
  const flags: string[] = [];
  if (status === 0) flags.push('off');
  if (status & POWER) flags.push('power');
  if (status & HIGH_SPEED) flags.push('highspeed');
  if (status & LOW_SPEED) flags.push('lowspeed');
  if (status & ENABLE) flags.push('enable');
  if (status & CONNECTION) flags.push('connect');
  let line = `  Port ${port}: ${status.toString(16).padStart(4, '0')} ${flags.join(' ')}`;
  if (dev) {
    const id = `${dev.usb.vendorId.toString(16).padStart(4, '0')}:${dev.usb.productId.toString(16).padStart(4, '0')}`;
    line += ` [${nodesc ? id : description([id, dev.usb.manufacturer, dev.usb.product, dev.usb.serial])}]`;
  }
  return `${line}\n`;
}

function printStatus(ctx: ToolContext, hub: HubConfig, ports: Set<number> | null, nodesc: boolean, title: string): void {
  ctx.out(`${title} for hub ${hub.location} ${hubHeader(hub, nodesc)}\n`);
  for (let p = 1; p <= hub.ports; p++) if (!ports || ports.has(p)) ctx.out(portLine(ctx.mac, hub, p, nodesc));
}

export const uhubctl: Tool = async (ctx) => {
  const { mac, argv, out, err } = ctx;
  // Not installed yet (sim.homebrew.uhubctl: false, until `brew install uhubctl`): as a shell says it.
  if (!uhubctlInstalled(mac)) { err('uhubctl: command not found\n'); return 127; }
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) { inline = arg.slice(eq + 1); arg = arg.slice(0, eq); }
      const short = LONG[arg];
      if (!short) { err(`uhubctl: unrecognized option '${arg}'\n`); return 1; }
      arg = short;
    } else if (/^-[a-zA-Z]./.test(arg) && WITH_VALUE.has(arg.slice(0, 2))) {
      inline = arg.slice(2);
      arg = arg.slice(0, 2);
    }
    if (!/^-[a-zA-Z]$/.test(arg) || !(WITH_VALUE.has(arg) || 'efNSRvh'.includes(arg[1]!))) {
      err(`uhubctl: invalid option -- '${arg.replace(/^-+/, '')}'\n`);
      return 1;
    }
    if (WITH_VALUE.has(arg)) {
      const v = inline ?? argv[++i];
      if (v === undefined) { err(`uhubctl: option requires an argument -- '${arg[1]}'\n`); return 1; }
      opts.set(arg, v);
    } else opts.set(arg, '');
  }
  if (opts.has('-h')) { out(USAGE); return 0; }
  if (opts.has('-v')) { out('2.6.0\n'); return 0; }

  const nodesc = opts.has('-N');
  const location = opts.get('-l');
  const vendor = opts.get('-n')?.toLowerCase();
  const hubs = mac.config.hubs.filter((h) =>
    (location === undefined || h.location === location) && (vendor === undefined || h.vid.toLowerCase().includes(vendor)));
  if (hubs.length === 0) {
    err(`No compatible devices detected${location !== undefined ? ` at location ${location}` : ''}!\nRun with -h to get usage info.\n`);
    return 1;
  }
  const ports = opts.has('-p') ? parsePorts(opts.get('-p')!) : null;
  if (opts.has('-p') && !ports) { err(`uhubctl: bad port list ${opts.get('-p')}\n`); return 1; }
  const actionSpec = opts.get('-a');
  if (actionSpec === undefined) {
    for (const hub of hubs) printStatus(ctx, hub, ports, nodesc, 'Current status');
    return 0;
  }
  const action = ACTIONS[actionSpec];
  if (!action) { err(`uhubctl: unsupported action ${actionSpec}\n`); return 1; }
  if (hubs.length > 1) {
    err('Error: changing port state for multiple hubs at once is not supported.\nUse -l to limit operation to one hub!\n');
    return 1;
  }
  const hub = hubs[0]!;
  const delayS = opts.has('-d') ? Number(opts.get('-d')) : 2;
  if (!(delayS >= 0)) { err(`uhubctl: bad delay ${opts.get('-d')}\n`); return 1; }
  const targets = [...Array(hub.ports).keys()].map((i) => i + 1).filter((p) => !ports || ports.has(p));

  printStatus(ctx, hub, ports, nodesc, 'Current status');
  const rounds: Array<'on' | 'off' | 'toggle'> = action === 'cycle' ? ['off', 'on'] : [action];
  for (const [k, round] of rounds.entries()) {
    let turnedOn = round === 'on';
    for (const p of targets) {
      const on = round === 'toggle' ? !isPowered(mac, hub.id, p) : round === 'on';
      turnedOn = on;
      setPortPower(mac, hub.id, p, on);
    }
    mac.settle();
    out(`Sent power ${turnedOn ? 'on' : 'off'} request\n`);
    printStatus(ctx, hub, ports, nodesc, 'New status');
    if (action === 'cycle' && k === 0) await sleepOrAbort(delayS * 1000, ctx.signal);
  }
  return 0;
};
