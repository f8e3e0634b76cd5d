// Hub drivers, chosen by the rig's `hubs[].driver`.
import type { Exec } from '../host/exec.ts';
import type { HubSpec } from '../rig/types.ts';
import { HubError, type HubDriver } from './hub-driver.ts';
import { uhubctlDriver } from './uhubctl.ts';

export { HubError, uhubctlDriver };
export type { HubDriver, HubPortStatus } from './hub-driver.ts';
export type { UhubctlOptions } from './uhubctl.ts';

export function createHubDriver(exec: Exec, hub: HubSpec, options: { sudo?: boolean } = {}): HubDriver {
  switch (hub.driver) {
    case 'uhubctl':
      return uhubctlDriver(exec, hub, options);
    default:
      throw new HubError(`hub ${hub.id}: unknown driver "${String((hub as { driver: unknown }).driver)}" (known: uhubctl)`);
  }
}
