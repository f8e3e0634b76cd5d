// What the simulated Mac's approvals come from: its config (what a fleet's MDM profile would give,
// rig `sim.tcc` / `sim.webContentFilter` / `sim.approvedTeams`) and the configuration profiles
// installed on it (tools/profiles.ts), read the way macOS reads their payloads (reference §B.4):
// - com.apple.TCC.configuration-profile-policy: Services.SystemPolicyAllFiles entries with
//   `Allowed: true` or `Authorization: Allow` grant Full Disk Access to their Identifier;
// - com.apple.webcontent-filter with FilterType Plugin approves the filter configuration of its
//   FilterDataProviderBundleIdentifier;
// - com.apple.system-extension-policy: AllowedTeamIdentifiers and AllowedSystemExtensions, narrowed
//   by AllowedSystemExtensionTypes; across payloads the values merge (reference §B.4).
// A removed profile grants nothing any more: every question is asked of what is installed now.
import type { Mac } from './mac.ts';
import { isDict, type PDict } from './plist.ts';
import { DRIVER_CATEGORY, ENDPOINT_SECURITY_CATEGORY, NETWORK_EXTENSION_CATEGORY, type InstalledPayload } from './state.ts';

export const PAYLOAD_TYPES = {
  systemExtensionPolicy: 'com.apple.system-extension-policy',
  tcc: 'com.apple.TCC.configuration-profile-policy',
  webContentFilter: 'com.apple.webcontent-filter',
} as const;

/** The grants a payload dict carries, to keep beside its type in the Mac's state. */
export function payloadGrants(payload: PDict): Partial<InstalledPayload> {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  switch (payload['PayloadType']) {
    case PAYLOAD_TYPES.tcc: {
      const services = payload['Services'];
      const entries = isDict(services) && Array.isArray(services['SystemPolicyAllFiles']) ? services['SystemPolicyAllFiles'].filter(isDict) : [];
      const allowed = entries.filter((e) => e['Allowed'] === true || e['Authorization'] === 'Allow');
      return { fullDiskAccess: allowed.flatMap((e) => (typeof e['Identifier'] === 'string' ? [e['Identifier']] : [])) };
    }
    case PAYLOAD_TYPES.webContentFilter: {
      const provider = payload['FilterDataProviderBundleIdentifier'];
      // macOS supports only plug-in filters (reference §B.4).
      return payload['FilterType'] === 'Plugin' && typeof provider === 'string' ? { filterDataProvider: provider } : {};
    }
    case PAYLOAD_TYPES.systemExtensionPolicy: {
      const perTeam = (v: PDict[string] | undefined): Record<string, string[]> => (isDict(v) ? Object.fromEntries(Object.entries(v).map(([team, ids]) => [team, strings(ids)])) : {});
      return {
        allowedTeamIdentifiers: strings(payload['AllowedTeamIdentifiers']),
        allowedSystemExtensions: perTeam(payload['AllowedSystemExtensions']),
        allowedSystemExtensionTypes: perTeam(payload['AllowedSystemExtensionTypes']),
      };
    }
    default:
      return {};
  }
}

function installedPayloads(mac: Mac): InstalledPayload[] {
  return (mac.state.profiles ?? []).flatMap((p) => p.payloads);
}

/** Full Disk Access for a bundle id or tool name: by the config, or by an installed TCC payload. */
export function hasFullDiskAccess(mac: Mac, identifier: string): boolean {
  return mac.config.tcc.fullDiskAccess.includes(identifier)
    || installedPayloads(mac).some((p) => p.type === PAYLOAD_TYPES.tcc && (p.fullDiskAccess ?? []).includes(identifier));
}

/** A content filter whose configuration needs no prompt: by the config, or by an installed webcontent-filter payload. */
export function contentFilterApproved(mac: Mac, provider: string): boolean {
  return mac.config.webContentFilter.includes(provider)
    || installedPayloads(mac).some((p) => p.type === PAYLOAD_TYPES.webContentFilter && p.filterDataProvider === provider);
}

/** AllowedSystemExtensionTypes' names for the extension categories (reference §B.4). */
const EXTENSION_TYPE_OF_CATEGORY: Record<string, string> = {
  [DRIVER_CATEGORY]: 'DriverExtension',
  [NETWORK_EXTENSION_CATEGORY]: 'NetworkExtension',
  [ENDPOINT_SECURITY_CATEGORY]: 'EndpointSecurityExtension',
};

/**
 * An extension a system-extension policy allows: by the config (the simulated MDM's, which names no
 * types), or by an installed payload. The payloads are read merged, as the reference says macOS
 * combines them: allowed teams and bundles are the union, and a team that any payload lists under
 * AllowedSystemExtensionTypes may load only the union of the types listed for it (no entry: all
 * types). Unconfirmed: whether one payload's types for a team also narrow another payload's
 * AllowedTeamIdentifiers for it; the literal "values merge" reading is taken.
 */
export function systemExtensionAllowed(mac: Mac, teamId: string, bundle: string, category: string): boolean {
  const payloads = installedPayloads(mac).filter((p) => p.type === PAYLOAD_TYPES.systemExtensionPolicy);
  const teamAllowed = mac.config.policy.allowedTeamIdentifiers.includes(teamId)
    || payloads.some((p) => (p.allowedTeamIdentifiers ?? []).includes(teamId));
  const bundleAllowed = (mac.config.policy.allowedSystemExtensions[teamId] ?? []).includes(bundle)
    || payloads.some((p) => (p.allowedSystemExtensions?.[teamId] ?? []).includes(bundle));
  if (!teamAllowed && !bundleAllowed) return false;
  const typeLists = payloads.flatMap((p) => (p.allowedSystemExtensionTypes?.[teamId] !== undefined ? [p.allowedSystemExtensionTypes[teamId]] : []));
  if (typeLists.length === 0) return true;
  const type = EXTENSION_TYPE_OF_CATEGORY[category];
  return type !== undefined && typeLists.some((types) => types.includes(type));
}
