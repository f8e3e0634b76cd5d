// uhubctl, which switches the rig's hub ports, installed with Homebrew when a hub needs it.
import type { ProvisionStep } from './context.ts';
import { installFormulae, missingFormulae, requireHomebrew } from './homebrew.ts';

export const uhubctl: ProvisionStep = {
  name: 'uhubctl',
  async run(ctx) {
    const hubs = ctx.rig.hubs.filter((hub) => hub.driver === 'uhubctl');
    if (hubs.length === 0) return { status: 'not needed', detail: 'not needed (the rig has no uhubctl hub)' };
    const homebrew = await requireHomebrew(ctx.$, 'the rig\'s hubs need uhubctl from it');
    const path = `${homebrew.prefix}/bin/uhubctl`;
    if ((await missingFormulae(ctx.$, homebrew, ['uhubctl'])).length === 0) return { status: 'ready', detail: `already installed (${path})` };
    await installFormulae(ctx, homebrew, ['uhubctl']);
    return { status: 'changed', did: `installed with Homebrew (${path})`, would: `install with Homebrew (${path})` };
  },
};
