// Configuration profiles, by the kinds of extension the rig declares (reference §B.4):
// - every extension needs com.apple.system-extension-policy, and an Endpoint Security client also
//   com.apple.TCC.configuration-profile-policy (Full Disk Access); both come only through MDM
//   (allowmanualinstall false), so provision checks they are there and says how to deliver them;
// - an NE content filter needs com.apple.webcontent-filter, the one payload a person may install by
//   hand: the fix writes it alone (--manual-only) and installs it.
// Provision installs nothing here: even the hand-installable payload waits for a person on a real Mac.
// Unconfirmed: `profiles show -type configuration`'s layout (the reference has no capture), whether
// it lists computer-level profiles to a user who is not root, and whether it shows what a payload
// holds; only payload type names are looked for, so a TCC payload stands for the ES clients' grant
// and a webcontent-filter payload for the filters'.
import { extensionKind, type ExtensionKind } from '../host/tools/endpoint-security.ts';
import { formatArgv } from '../host/exec.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import type { RigDefinition } from '../rig/types.ts';
import type { ProvisionContext, ProvisionStep } from './context.ts';

const SYSTEM_EXTENSION_POLICY = 'com.apple.system-extension-policy';
const TCC = 'com.apple.TCC.configuration-profile-policy';
const WEB_CONTENT_FILTER = 'com.apple.webcontent-filter';
const CONTENT_FILTER_PROFILE = 'content-filter.mobileconfig';

export const contentFilter: ProvisionStep = {
  name: 'content filter',
  async run(ctx) {
    const filters = bundlesOf(ctx.rig, 'ne-filter');
    if (filters.length === 0) return { status: 'not needed', detail: 'no content filter declared' };
    const generate = formatArgv(['dextbench', 'profile', '--team', teamOf(ctx.rig), ...filters.flatMap((b) => ['--ne-filter', b]), '--manual-only', '-o', CONTENT_FILTER_PROFILE]);
    const install = `${generate}, copy it to the Mac, then sudo profiles install -type configuration -path ${CONTENT_FILTER_PROFILE} (or double-click it and approve it in System Settings)`;
    const shown = await showProfiles(ctx);
    if (typeof shown !== 'string') return { status: 'warning', detail: shown.cannot, fix: install };
    if (shown.includes(WEB_CONTENT_FILTER)) return { status: 'ready', detail: `already installed: ${WEB_CONTENT_FILTER}` };
    return {
      status: 'warning',
      detail: `no ${WEB_CONTENT_FILTER} profile: enabling the filter${plural(filters)} ${filters.join(', ')} waits for a person to allow ${filters.length === 1 ? 'its' : 'their'} configuration`,
      fix: install,
    };
  },
};

export const mdmProfiles: ProvisionStep = {
  name: 'MDM profiles',
  async run(ctx) {
    const extensions = declaredKinds(ctx.rig);
    if (extensions.length === 0) return { status: 'not needed', detail: 'not needed (the rig declares no extension)' };
    const esClients = bundlesOf(ctx.rig, 'es');
    const needed = [SYSTEM_EXTENSION_POLICY, ...(esClients.length ? [TCC] : [])];
    const generate = formatArgv(['dextbench', 'profile', '--team', teamOf(ctx.rig), ...extensions.flatMap(({ bundle, kind }) => [`--${kind}`, bundle]), '--removable', '-o', 'rig.mobileconfig']);
    const deliver = (payloads: string[]) => `${payloads.length === 1
      ? `deliver a ${payloads[0]} payload through MDM (it cannot be installed by hand)`
      : `deliver the ${payloads.join(' and ')} payloads through MDM (they cannot be installed by hand)`}; ${generate} writes one`;
    const shown = await showProfiles(ctx);
    if (typeof shown !== 'string') return { status: 'warning', detail: shown.cannot, fix: deliver(needed) };
    const missing = needed.filter((type) => !shown.includes(type));
    if (missing.length === 0) return { status: 'ready', detail: `already installed: ${needed.join(', ')}` };
    const why: Record<string, string> = {
      [SYSTEM_EXTENSION_POLICY]: `no ${SYSTEM_EXTENSION_POLICY} profile: activating ${extensions.map((e) => e.bundle).join(', ')} waits for a click in System Settings, and deactivating for an admin`,
      [TCC]: `no ${TCC} profile: the ES client${plural(esClients)} ${esClients.join(', ')} ${esClients.length === 1 ? 'gets' : 'get'} ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED from es_new_client (no Full Disk Access)`,
    };
    return { status: 'warning', detail: missing.map((type) => why[type]).join('; '), fix: deliver(missing) };
  },
};

/** `profiles show -type configuration`'s output, or why it could not be read. */
async function showProfiles(ctx: ProvisionContext): Promise<string | { cannot: string }> {
  const shown = await ctx.$({ nothrow: true, timeout: 30_000 })`profiles show -type configuration`;
  if (shown.ok) return shown.stdout;
  return { cannot: `cannot list the installed profiles (profiles show: ${oneLine(shown.stderr) || `exit ${shown.exitCode}`})` };
}

/** The rig's extensions by bundle (each once), with the kind that names their profile option. */
function declaredKinds(rig: RigDefinition): Array<{ bundle: string; kind: ExtensionKind }> {
  const byBundle = new Map<string, ExtensionKind>();
  for (const decl of Object.values(rig.extensions)) if (!byBundle.has(decl.bundle)) byBundle.set(decl.bundle, extensionKind(decl));
  return [...byBundle].map(([bundle, kind]) => ({ bundle, kind }));
}

function bundlesOf(rig: RigDefinition, kind: ExtensionKind): string[] {
  return declaredKinds(rig).filter((e) => e.kind === kind).map((e) => e.bundle);
}

function plural(list: string[]): string {
  return list.length === 1 ? '' : 's';
}

/** The team that signs the rig's extensions, for the profile command. */
function teamOf(rig: RigDefinition): string {
  return rig.signing.team ?? Object.values(rig.extensions).find((e) => e.team)?.team ?? (rig.host.kind === 'sim' ? rig.host.sim.teamId : 'TEAMID');
}
