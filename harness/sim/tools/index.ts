// The shims the daemon writes into binDir, by tool name.
import { activator } from './activator.ts';
import { bridge } from './bridge.ts';
import { brew } from './brew.ts';
import type { RawTool, Tool } from './context.ts';
import { csrutil } from './csrutil.ts';
import { eslogger } from './eslogger.ts';
import { esprobe } from './esprobe.ts';
import { curl } from './curl.ts';
import { dig } from './dig.ts';
import { ioreg } from './ioreg.ts';
import { kill } from './kill.ts';
import { log } from './log.ts';
import { pgrep } from './pgrep.ts';
import { nc } from './nc.ts';
import { profiles } from './profiles.ts';
import { reboot } from './reboot.ts';
import { shutdown } from './shutdown.ts';
import { sudo } from './sudo.ts';
import { swiftc } from './swiftc.ts';
import { swVers } from './sw-vers.ts';
import { sysctl } from './sysctl.ts';
import { systemextensionsctl } from './systemextensionsctl.ts';
import { uhubctl } from './uhubctl.ts';
import { visudo } from './visudo.ts';
import { xcodeSelect } from './xcode-select.ts';

export const TOOLS: Record<string, Tool> = {
  systemextensionsctl,
  ioreg,
  log,
  csrutil,
  sw_vers: swVers,
  uhubctl,
  kill,
  pgrep,
  reboot,
  shutdown,
  sysctl,
  'dextbench-activator': activator,
  brew,
  profiles,
  visudo,
  'xcode-select': xcodeSelect,
  swiftc,
  eslogger,
  'dextbench-esprobe': esprobe,
  curl,
  nc,
  dig,
};

/** Tools with binary stdio (the shim passes bytes through; see shim.js). */
export const RAW_TOOLS: Record<string, RawTool> = {
  'dextbench-bridge': bridge,
  // Raw: `sudo -S` reads the password from stdin, and passes the rest on to a raw tool.
  sudo: sudo((name) => (TOOLS[name] ? { text: TOOLS[name] } : RAW_TOOLS[name] ? { raw: RAW_TOOLS[name] } : undefined)),
};
