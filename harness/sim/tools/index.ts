// The shims the daemon writes into binDir, by tool name.
import { activator } from './activator.ts';
import type { Tool } from './context.ts';
import { csrutil } from './csrutil.ts';
import { ioreg } from './ioreg.ts';
import { kill } from './kill.ts';
import { log } from './log.ts';
import { reboot } from './reboot.ts';
import { swVers } from './sw-vers.ts';
import { systemextensionsctl } from './systemextensionsctl.ts';
import { uhubctl } from './uhubctl.ts';

export const TOOLS: Record<string, Tool> = {
  systemextensionsctl,
  ioreg,
  log,
  csrutil,
  sw_vers: swVers,
  uhubctl,
  kill,
  reboot,
  'dextbench-activator': activator,
};
