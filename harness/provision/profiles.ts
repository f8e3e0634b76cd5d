// Configuration profiles. The content filter (com.apple.webcontent-filter) is the one payload a person
// may install by hand; the system-extension-policy and TCC payloads come only through MDM
// (reference §B.4: allowmanualinstall false), so provision checks they are there and says how to
// deliver them. Rigs declare no NE filter or ES client yet: their extensions are dexts, which need
// the system-extension-policy alone.
// Unconfirmed: `profiles show -type configuration`'s layout (the reference has no capture), and
// whether it lists computer-level profiles to a user who is not root; only payload type names are
// looked for.
import { formatArgv } from '../host/exec.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import type { RigDefinition } from '../rig/types.ts';
import type { ProvisionStep } from './context.ts';

const SYSTEM_EXTENSION_POLICY = 'com.apple.system-extension-policy';

export const contentFilter: ProvisionStep = {
  name: 'content filter',
  async run() {
    return { status: 'not needed', detail: 'no content filter declared' };
  },
};

export const mdmProfiles: ProvisionStep = {
  name: 'MDM profiles',
  async run(ctx) {
    const bundles = [...new Set(Object.values(ctx.rig.extensions).map((e) => e.bundle))];
    if (bundles.length === 0) return { status: 'not needed', detail: 'not needed (the rig declares no extension)' };
    const shown = await ctx.$({ nothrow: true, timeout: 30_000 })`profiles show -type configuration`;
    const generate = formatArgv(['dextbench', 'profile', '--team', teamOf(ctx.rig), ...bundles.flatMap((b) => ['--dext', b]), '--removable', '-o', 'rig.mobileconfig']);
    const deliver = `deliver a ${SYSTEM_EXTENSION_POLICY} payload through MDM (it cannot be installed by hand); ${generate} writes one`;
    if (!shown.ok) {
      return { status: 'warning', detail: `cannot list the installed profiles (profiles show: ${oneLine(shown.stderr) || `exit ${shown.exitCode}`})`, fix: deliver };
    }
    if (shown.stdout.includes(SYSTEM_EXTENSION_POLICY)) return { status: 'ready', detail: `already installed: ${SYSTEM_EXTENSION_POLICY}` };
    return {
      status: 'warning',
      detail: `no ${SYSTEM_EXTENSION_POLICY} profile: activating ${bundles.join(', ')} waits for a click in System Settings, and deactivating for an admin`,
      fix: deliver,
    };
  },
};

/** The team that signs the rig's extensions, for the profile command. */
function teamOf(rig: RigDefinition): string {
  return rig.signing.team ?? Object.values(rig.extensions).find((e) => e.team)?.team ?? (rig.host.kind === 'sim' ? rig.host.sim.teamId : 'TEAMID');
}
