// Hub drivers, chosen by the rig's `hubs[].driver`.
import type { Exec } from '../host/exec.ts';
import type { HubSpec } from '../rig/types.ts';
import { cambrionixDriver } from './cambrionix.ts';
import { HubError, type HubDriver } from './hub-driver.ts';
import { uhubctlDriver } from './uhubctl.ts';
import { ykushDriver } from './ykush.ts';

export { HubError, uhubctlDriver, cambrionixDriver, ykushDriver };
export { parseCambrionixState } from './cambrionix.ts';
export type { HubDriver, HubPortStatus } from './hub-driver.ts';
export type { UhubctlOptions } from './uhubctl.ts';
export type { CambrionixOptions, CambrionixPortState } from './cambrionix.ts';
export {
  YKUSH_BOOTLOADER_PRODUCT_IDS, YKUSH_PRODUCT_IDS, YKUSH_REPLY_SIGNIFICANT, YKUSH_REPORT_SIZE, YKUSH_VENDOR_ID, YKUSHXS_PRODUCT_ID,
  checkYkushSetReply, describeYkushCommand, parseYkushFirmware, parseYkushPortCount, parseYkushPortState, parseYkushPortStates,
  pickYkush, ykushClaimFailure, ykushCommandByte, ykushCommandReport, YkushReplyError,
} from './ykush.ts';
export type { YkushCommand, YkushConnect, YkushFirmware, YkushLink, YkushOptions } from './ykush.ts';

export interface HubDriverOptions {
  sudo?: boolean;
  /** The Mac is reached over ssh (this target): a hub on its serial port is out of this machine's reach. */
  overSsh?: string;
}

export function createHubDriver(exec: Exec, hub: HubSpec, options: HubDriverOptions = {}): HubDriver {
  switch (hub.driver) {
    case 'uhubctl':
      return uhubctlDriver(exec, hub, options);
    case 'cambrionix':
      if (options.overSsh !== undefined) {
        throw new HubError(`hub ${hub.id}: a Cambrionix is driven through its serial port ${hub.serial}, which only the machine it is plugged into can open, ` +
          `and this rig's Mac is reached over ssh (${options.overSsh}): run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)`);
      }
      return cambrionixDriver(hub);
    case 'ykush':
      if (options.overSsh !== undefined) {
        throw new HubError(`hub ${hub.id}: a YKUSH is driven through its USB control interface, which enumerates only on the machine its upstream port is plugged into, ` +
          `and this rig's Mac is reached over ssh (${options.overSsh}): run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)`);
      }
      return ykushDriver(hub);
    default:
      throw new HubError(`hub ${(hub as { id: string }).id}: unknown driver "${String((hub as { driver: unknown }).driver)}" (known: uhubctl, cambrionix, ykush)`);
  }
}
