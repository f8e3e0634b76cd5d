// reboot: the simulated Mac restarts at once (terminated extensions are removed, devices re-enumerate).
import { reboot as rebootMac } from '../sysext.ts';
import type { Tool } from './context.ts';

export const reboot: Tool = ({ mac }) => {
  rebootMac(mac);
  return 0;
};
