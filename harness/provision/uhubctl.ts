// uhubctl, which switches the rig's hub ports, installed with Homebrew when a hub needs it.
import { ProvisionFailure, type ProvisionStep } from './context.ts';
import { findHomebrew } from './homebrew.ts';

const INSTALL_TIMEOUT_MS = 15 * 60_000;

export const uhubctl: ProvisionStep = {
  name: 'uhubctl',
  async run(ctx) {
    const hubs = ctx.rig.hubs.filter((hub) => hub.driver === 'uhubctl');
    if (hubs.length === 0) return { status: 'not needed', detail: 'not needed (the rig has no uhubctl hub)' };
    const homebrew = await findHomebrew(ctx.$);
    if (!homebrew) {
      throw new ProvisionFailure('Homebrew is not installed, and the rig\'s hubs need uhubctl from it',
        'install Homebrew on the Mac (https://brew.sh; its installer asks for a password), then run provision again');
    }
    const path = `${homebrew.prefix}/bin/uhubctl`;
    const listed = await ctx.$({ nothrow: true, timeout: 60_000 })`${homebrew.brew} list uhubctl`;
    if (listed.ok) return { status: 'ready', detail: `already installed (${path})` };
    await ctx.act([homebrew.brew, 'install', 'uhubctl'], { timeoutMs: INSTALL_TIMEOUT_MS, fix: `run ${homebrew.brew} install uhubctl on the Mac to see why` });
    return { status: 'changed', did: `installed with Homebrew (${path})`, would: `install with Homebrew (${path})` };
  },
};
