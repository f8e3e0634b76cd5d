// uhubctl (mvp/uhubctl; driverkit-rigs-es-ne.md §C.1): `uhubctl -l <location> -p <port> -a on|off`
// prints the current status, "Sent power on|off request", then "New status for hub …": the new
// port state is read from that block, so a hub that ignores the request is caught at once.
import type { Exec, ExecResult } from '../host/exec.ts';
import { formatArgv } from '../host/exec.ts';
import { parseUhubctlStatus, type UhubctlHub } from '../host/parsers/index.ts';
import type { UhubctlHubSpec } from '../rig/types.ts';
import { HubError, type HubDriver, type HubPortStatus } from './hub-driver.ts';


export interface UhubctlOptions {
  /** Prefix every call with `sudo -n` (USB power control often needs root). */
  sudo?: boolean;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const NO_HUB = /No compatible devices detected/;

export function uhubctlDriver(exec: Exec, hub: UhubctlHubSpec, options: UhubctlOptions = {}): HubDriver {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = `hub ${hub.id} (uhubctl location ${hub.location} on ${exec.where})`;

  const run = async (args: string[], read = false): Promise<ExecResult> => {
    const argv = [...(options.sudo ? ['sudo', '-n'] : []), 'uhubctl', ...args];
    const result = await exec.run(argv, { timeoutMs, nothrow: true, idempotent: read });
    if (result.ok) return result;
    const said = [result.stderr, result.stdout].join('\n').split('\n').map((l) => l.trim()).filter(Boolean);
    if (NO_HUB.test(said.join('\n'))) {
      throw new HubError(`${where}: uhubctl found no compatible hub at location ${hub.location}; ` +
        'run `uhubctl` with no arguments on the host to list the smart hubs and their locations, then fix the rig\'s hubs[].location');
    }
    if (result.exitCode === 127) throw new HubError(`${where}: uhubctl is not installed (macOS: \`brew install uhubctl\`)`);
    const how = result.timedOut ? `timed out after ${result.durationMs} ms` : `exited with ${result.exitCode ?? result.signal}`;
    throw new HubError(`${where}: ${formatArgv(argv)} ${how}${said.length ? `: ${said.slice(0, 2).join(' ')}` : ''}`);
  };

  /** The block for our location (uhubctl may also print the USB3 companion hub), else the first. */
  const pick = (hubs: UhubctlHub[], text: string): UhubctlHub => {
    const found = hubs.find((h) => h.location === hub.location) ?? hubs[0];
    if (!found) throw new HubError(`${where}: uhubctl printed no hub status: ${text.trim().split('\n').slice(0, 2).join(' ') || '(nothing)'}`);
    return found;
  };

  const portOf = (block: UhubctlHub, port: number) => {
    const status = block.portStatus.find((p) => p.port === port);
    if (!status) throw new HubError(`${where}: uhubctl reports no port ${port} (the hub has ${block.portStatus.map((p) => p.port).join(', ') || 'none'})`);
    return status;
  };

  const checkPort = (port: number) => {
    if (!Number.isInteger(port) || port < 1 || (hub.ports !== undefined && port > hub.ports)) {
      throw new HubError(`${where}: no port ${port}${hub.ports !== undefined ? ` (ports 1-${hub.ports})` : ''}`);
    }
  };

  const driver: HubDriver = {
    id: hub.id,
    async setPort(port, on) {
      checkPort(port);
      const action = on ? 'on' : 'off';
      const result = await run(['-l', hub.location, '-p', String(port), '-a', action]);
      const after = parseUhubctlStatus(result.stdout).filter((h) => h.phase === 'new');
      if (after.length === 0) throw new HubError(`${where}: uhubctl -a ${action} printed no "New status" for port ${port}: ${result.stdout.trim().split('\n').slice(-2).join(' ') || '(nothing)'}`);
      const status = portOf(pick(after, result.stdout), port);
      if (status.powered !== on) {
        throw new HubError(`${where}: port ${port} is still ${status.powered ? 'powered' : 'off'} after -a ${action} ` +
          `(uhubctl: ${status.statusBits.toString(16).padStart(4, '0')} ${status.flags.join(' ')}); the hub may not switch per-port power (ppps)`);
      }
    },
    async cyclePort(port, offMs) {
      await driver.setPort(port, false);
      await new Promise((resolve) => setTimeout(resolve, offMs));
      await driver.setPort(port, true);
    },
    async status() {
      const result = await run(['-l', hub.location], true);
      return pick(parseUhubctlStatus(result.stdout), result.stdout).portStatus.map((p): HubPortStatus => ({
        port: p.port, powered: p.powered, connected: p.connected, ...(p.device !== undefined ? { device: p.device } : {}),
      }));
    },
    async close() {
      // One uhubctl process per operation: nothing stays open.
    },
  };
  return driver;
}

