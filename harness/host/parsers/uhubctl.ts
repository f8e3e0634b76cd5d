// `uhubctl` status output (reference/driverkit-rigs-es-ne.md §C.1, from the printf calls in
// uhubctl.c): a `Current status for hub …` block, and after an action a `New status for hub …` block.

/** One port line: `  Port 1: 0503 power highspeed enable connect [1a86:7523 USB Serial]`. */
export interface UhubctlPortStatus {
  port: number;
  /** wPortStatus as printed (hex). */
  statusBits: number;
  /** Words after the bits: `power`, `off`, `highspeed`, `5gbps`, `U0`, `enable`, `connect`… */
  flags: string[];
  /** VBUS on: POWER bit 0x0100 (USB2 hub) or 0x0200 (USB3 hub). */
  powered: boolean;
  /** CONNECTION bit 0x0001. */
  connected: boolean;
  /** `<vid:pid> <vendor> <product> <serial>` of the attached device, when connected. */
  device?: string;
}

/** One hub block. */
export interface UhubctlHub {
  /** `Current` before an action, `New` after it. */
  phase: 'current' | 'new';
  /** Bus-port chain `b-x.y.z`, e.g. `1-1`, `2`. */
  location: string;
  /** The bracketed text without the trailing `, USB x.yy, n ports, mode` parts. */
  description: string;
  /** `2.00`, `3.00`, `3.10`… */
  usb?: string;
  ports?: number;
  powerSwitching?: 'ppps' | 'ganged' | 'nops';
  portStatus: UhubctlPortStatus[];
}

const HUB_LINE = /^(Current|New) status for hub (\S+) \[(.*)\]\s*$/;
const HUB_TAIL = /^(.*?)(?:, USB (\d+\.\d+))?(?:, (\d+) ports)?(?:, (ppps|ganged|nops))?$/;
const PORT_LINE = /^\s*Port (\d+): ([0-9a-fA-F]{4})((?: [^\s[]+)*)(?: \[(.*)\])?\s*$/;
const USB2_POWER = 0x0100;
const USB3_POWER = 0x0200;
const CONNECTION = 0x0001;

/**
 * Parses uhubctl's status output into hub blocks in printed order (an action prints the hub
 * twice: `Current` then `New`). Other lines (`Sent power off request`) are skipped.
 */
export function parseUhubctlStatus(text: string): UhubctlHub[] {
  const hubs: UhubctlHub[] = [];
  let hub: UhubctlHub | undefined;
  for (const line of text.split(/\r?\n/)) {
    const hubMatch = HUB_LINE.exec(line.trim());
    if (hubMatch) {
      const [, phase, location, bracketed] = hubMatch;
      const [, description, usb, ports, mode] = HUB_TAIL.exec(bracketed!)!;
      hub = {
        phase: phase === 'New' ? 'new' : 'current',
        location: location!,
        description: description!,
        ...(usb !== undefined ? { usb } : {}),
        ...(ports !== undefined ? { ports: Number(ports) } : {}),
        ...(mode !== undefined ? { powerSwitching: mode as 'ppps' | 'ganged' | 'nops' } : {}),
        portStatus: [],
      };
      hubs.push(hub);
      continue;
    }
    const portMatch = PORT_LINE.exec(line);
    if (!portMatch || !hub) continue;
    const [, port, bits, flagText, device] = portMatch;
    const statusBits = parseInt(bits!, 16);
    const flags = flagText!.trim() === '' ? [] : flagText!.trim().split(' ');
    hub.portStatus.push({
      port: Number(port),
      statusBits,
      flags,
      powered: isPowered(hub.usb, statusBits, flags),
      connected: (statusBits & CONNECTION) !== 0,
      ...(device !== undefined ? { device } : {}),
    });
  }
  return hubs;
}

function isPowered(usb: string | undefined, bits: number, flags: string[]): boolean {
  if (usb !== undefined) return (bits & (Number.parseFloat(usb) >= 3 ? USB3_POWER : USB2_POWER)) !== 0;
  // No `USB x.yy` in the header (hub info unreadable): uhubctl prints `power` exactly when the
  // hub's power bit is set, and `off` (never with `power`) for a port switched off.
  return flags.includes('power') && !flags.includes('off');
}
