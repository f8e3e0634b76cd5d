// Homebrew on the simulated Mac: only uhubctl is modelled. Whether it is installed starts from the
// config (`sim.homebrew.uhubctl`, default true, so rigs written before it keep working) and
// `brew install uhubctl` makes it so in the Mac's state.
import type { Mac } from './mac.ts';

/** Apple silicon's prefix (Intel Macs use /usr/local); the sudoers path of uhubctl follows it. */
export const HOMEBREW_PREFIX = '/opt/homebrew';
export const UHUBCTL_VERSION = '2.6.0';

export function uhubctlInstalled(mac: Mac): boolean {
  return mac.state.homebrew?.uhubctl ?? mac.config.homebrew.uhubctl;
}

export function installUhubctl(mac: Mac): void {
  mac.state.homebrew = { uhubctl: true };
  mac.settle();
}
