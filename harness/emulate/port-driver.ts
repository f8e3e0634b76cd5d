// A gadget as a one-port hub: port 1 powered means the gadget is bound to its UDC (the device is
// plugged into the Mac), off means unbound. Shaped like power/hub-driver.ts's HubDriver (structurally:
// emulate/ sits beside power/ and may not import it), so plug/unplug/replug drive it like a hub port.
import type { Exec } from '../host/exec.ts';
import type { DeviceProfile } from '../rig/types.ts';
import { sleep } from '../common/time.ts';
import { bind, boundUdc, createGadget, GadgetError, gadgetPlan, removeGadget, unbind, type GadgetOptions, type GadgetPlan } from './gadget.ts';

export interface GadgetPortOptions extends GadgetOptions {
  /** The hub id the rig knows this emulator by. */
  id: string;
  profile: DeviceProfile;
  /** The configfs gadget's name (default the profile's name). */
  name?: string;
  /** The board's device controller, winning over the profile's emulate.udc (a rig's gadget hub names it). */
  udc?: string;
}

export interface GadgetPortStatus {
  port: number;
  powered: boolean;
  connected: boolean;
  /** "<gadget> on <udc>" while bound. */
  device?: string;
}

export interface GadgetPortDriver {
  readonly id: string;
  readonly plan: GadgetPlan;
  setPort(port: number, on: boolean): Promise<void>;
  cyclePort(port: number, offMs: number): Promise<void>;
  status(): Promise<GadgetPortStatus[]>;
  /** Removes the gadget if this driver created it; a later setPort builds it again. */
  close(): Promise<void>;
}

export function gadgetPortDriver(exec: Exec, options: GadgetPortOptions): GadgetPortDriver {
  const profilePlan = gadgetPlan(options.profile, options.name ?? options.profile.name, options.gadgetsDir);
  const plan: GadgetPlan = options.udc !== undefined ? { ...profilePlan, udc: options.udc } : profilePlan;
  const bindOptions = options.udc !== undefined ? { ...options, udcSource: `hub ${options.id}'s udc in the rig file` } : options;
  const where = `hub ${options.id} (gadget ${plan.name} on ${exec.where})`;
  let created = false;

  const checkPort = (port: number): void => {
    if (port !== 1) throw new GadgetError(`${where}: no port ${port} (a gadget emulator has one port, 1)`);
  };

  const driver: GadgetPortDriver = {
    id: options.id,
    plan,
    async setPort(port, on) {
      checkPort(port);
      const bound = await boundUdc(exec, plan.name, options);
      if (on) {
        if (bound === undefined) {
          await createGadget(exec, plan, options);
          created = true;
        }
        await bind(exec, plan.name, plan.udc, bindOptions);
      } else if (bound !== undefined && bound !== '') {
        await unbind(exec, plan.name, options);
      }
    },
    async cyclePort(port, offMs) {
      await driver.setPort(port, false);
      await sleep(offMs);
      await driver.setPort(port, true);
    },
    async status() {
      const bound = await boundUdc(exec, plan.name, options);
      const on = bound !== undefined && bound !== '';
      return [{ port: 1, powered: on, connected: on, ...(on ? { device: `${plan.name} on ${bound}` } : {}) }];
    },
    async close() {
      if (!created) return;
      await removeGadget(exec, plan, options);
      created = false;
    },
  };
  return driver;
}
