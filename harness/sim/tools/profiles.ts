// profiles on the simulated Mac: `show -type configuration` lists the configuration profiles,
// `install -type configuration -path <file>` installs one a person may install by hand, and
// `remove -identifier <id>` removes one. What installed payloads grant is honoured
// (profile-grants.ts): Full Disk Access, content filter approval, system extension policy.
// The MDM-delivered grants the sim's config models (rig `sim.approvedTeams` / `sim.approvedExtensions`,
// `sim.tcc`, `sim.webContentFilter`) are listed as one installed profile; installed ones live in the
// Mac's state. Which payloads only MDM may install is reference §B.4 (`allowmanualinstall: false`:
// com.apple.system-extension-policy and com.apple.TCC.configuration-profile-policy): refused here
// unless the config's profilesInstallAsMdm says `install` stands in for the MDM push.
// Unconfirmed: the reference has no capture of `profiles` output or of its refusal; the layout
// below (`_computerlevel[n] attribute: …`, `payload[n] type = …`), the `remove` syntax and every
// message are as remembered. dextbench looks only for payload type names in `show`, and at
// `install`'s exit status.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { revokeFilters } from '../content-filter.ts';
import { onDisk } from '../disk.ts';
import type { Mac } from '../mac.ts';
import { isDict, parsePlist, PlistError, type PDict } from '../plist.ts';
import { PAYLOAD_TYPES, payloadGrants } from '../profile-grants.ts';
import type { InstalledPayload, InstalledProfile } from '../state.ts';
import { changePolicy } from '../sysext.ts';
import type { Tool } from './context.ts';

const MDM_ONLY = new Set<string>([PAYLOAD_TYPES.systemExtensionPolicy, PAYLOAD_TYPES.tcc]);
const USAGE = 'usage: profiles show -type configuration\n       profiles install -type configuration -path <file.mobileconfig>\n       profiles remove -identifier <profile identifier>\n';
const MDM_ORGANIZATION = 'dextbench simulated MDM';

/** The profile the sim's config grants stand for, as MDM would have installed it. */
function mdmPolicyProfile(mac: Mac): InstalledProfile | undefined {
  const { allowedTeamIdentifiers, allowedSystemExtensions } = mac.config.policy;
  const payloads: Array<{ type: string; what: string; displayName: string }> = [];
  if (allowedTeamIdentifiers.length > 0 || Object.keys(allowedSystemExtensions).length > 0) {
    payloads.push({ type: PAYLOAD_TYPES.systemExtensionPolicy, what: 'policy', displayName: 'System Extensions' });
  }
  if (mac.config.tcc.fullDiskAccess.length > 0) payloads.push({ type: PAYLOAD_TYPES.tcc, what: 'tcc', displayName: 'Privacy Preferences Policy Control' });
  for (const provider of mac.config.webContentFilter) {
    payloads.push({ type: PAYLOAD_TYPES.webContentFilter, what: `webcontent-filter.${provider}`, displayName: `Content Filter (${provider})` });
  }
  if (payloads.length === 0) return undefined;
  const uuid = (what: string): string => {
    const h = createHash('sha1').update(`${mac.config.name}\0${what}`).digest('hex').toUpperCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  };
  return {
    identifier: 'dev.dextbench.sim.mdm.system-extensions',
    uuid: uuid('profile'),
    displayName: 'System Extensions (simulated MDM)',
    organization: MDM_ORGANIZATION,
    installedAtMs: mac.state.bootTimeMs,
    // The policy payload keeps the identifier and UUID it had before the other grants were listed.
    payloads: payloads.map(({ type, what, displayName }) => ({
      type, identifier: `dev.dextbench.sim.mdm.system-extensions.${what}`, uuid: uuid(what === 'policy' ? 'payload' : what), displayName,
    })),
  };
}

function installedProfiles(mac: Mac): InstalledProfile[] {
  const mdm = mdmPolicyProfile(mac);
  return [...(mdm ? [mdm] : []), ...(mac.state.profiles ?? [])];
}

function showProfiles(mac: Mac): string {
  const profiles = installedProfiles(mac);
  if (profiles.length === 0) return 'There are no configuration profiles installed\n';
  const lines: string[] = [];
  profiles.forEach((p, i) => {
    const at = `_computerlevel[${i + 1}]`;
    const mdm = p.organization === MDM_ORGANIZATION || p.viaMdm === true;
    lines.push(
      `${at} attribute: name: ${p.displayName}`,
      `${at} attribute: configurationDescription: `,
      `${at} attribute: installationDate: ${new Date(p.installedAtMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000')}`,
      `${at} attribute: organization: ${p.organization}`,
      `${at} attribute: profileIdentifier: ${p.identifier}`,
      `${at} attribute: profileUUID: ${p.uuid}`,
      `${at} attribute: profileType: Configuration`,
      `${at} attribute: removalDisallowed: ${mdm ? 'TRUE' : 'FALSE'}`,
      `${at} attribute: version: 1`,
      `${at} attribute: containsComputerItems: TRUE`,
      `${at} payload count = ${p.payloads.length}`,
    );
    p.payloads.forEach((payload, j) => {
      const pay = `${at}      payload[${j + 1}]`;
      lines.push(
        `${pay} name        = ${payload.displayName}`,
        `${pay} description = `,
        `${pay} type        = ${payload.type}`,
        `${pay} organization = ${p.organization}`,
        `${pay} identifier  = ${payload.identifier}`,
        `${pay} uuid        = ${payload.uuid}`,
      );
    });
  });
  lines.push(`There are ${profiles.length} configuration profiles installed`);
  return `${lines.join('\n')}\n`;
}

/** The profile in a .mobileconfig (an XML plist), or why it is not one. */
function readProfile(text: string): InstalledProfile | string {
  let root;
  try {
    root = parsePlist(text);
  } catch (e) {
    return e instanceof PlistError ? `not a property list (${e.message})` : String(e);
  }
  if (!isDict(root) || root['PayloadType'] !== 'Configuration') return 'not a configuration profile (PayloadType is not Configuration)';
  const text_ = (d: PDict, key: string): string => (typeof d[key] === 'string' ? d[key] : '');
  const content = root['PayloadContent'];
  if (!Array.isArray(content) || !content.every(isDict)) return 'PayloadContent is not an array of payloads';
  if (!text_(root, 'PayloadIdentifier')) return 'the profile has no PayloadIdentifier';
  return {
    identifier: text_(root, 'PayloadIdentifier'),
    uuid: text_(root, 'PayloadUUID') || randomUUID().toUpperCase(),
    displayName: text_(root, 'PayloadDisplayName') || text_(root, 'PayloadIdentifier'),
    organization: text_(root, 'PayloadOrganization'),
    installedAtMs: Date.now(),
    payloads: (content as PDict[]).map((p): InstalledPayload => ({
      type: text_(p, 'PayloadType'), identifier: text_(p, 'PayloadIdentifier'), uuid: text_(p, 'PayloadUUID'), displayName: text_(p, 'PayloadDisplayName'),
      ...payloadGrants(p),
    })),
  };
}

/** `-type configuration -path x` (also `-path=x`), as a map. */
function options(argv: string[]): Map<string, string> | string {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^-(type|path|identifier)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m) return `unknown option ${argv[i]}`;
    const value = m[2] ?? argv[++i];
    if (value === undefined) return `-${m[1]} needs a value`;
    opts.set(m[1]!, value);
  }
  return opts;
}

export const profiles: Tool = ({ mac, argv, cwd, out, err }) => {
  const [verb, ...rest] = argv;
  const opts = options(rest);
  if (typeof opts === 'string' || (verb !== 'show' && verb !== 'install' && verb !== 'remove')) {
    err(`profiles: ${typeof opts === 'string' ? opts : `unknown verb ${verb ?? '(none)'}`}\n${USAGE}`);
    return 1;
  }
  if (verb === 'remove') return removeProfile(mac, opts.get('identifier'), err);
  if (opts.get('type') !== 'configuration') {
    err(`profiles: the simulated Mac models configuration profiles only: give -type configuration\n${USAGE}`);
    return 1;
  }
  if (verb === 'show') { out(showProfiles(mac)); return 0; }

  const path = opts.get('path');
  if (!path) { err(`profiles: install needs -path <file.mobileconfig>\n${USAGE}`); return 1; }
  let text: string;
  try {
    text = readFileSync(onDisk(mac, cwd, path).local, 'utf8');
  } catch {
    err(`profiles: unable to read ${path}: No such file or directory\n`);
    return 1;
  }
  const profile = readProfile(text);
  if (typeof profile === 'string') { err(`profiles: ${path}: ${profile}\n`); return 1; }
  const mdmOnly = profile.payloads.map((p) => p.type).filter((t) => MDM_ONLY.has(t));
  if (mdmOnly.length && !mac.config.profilesInstallAsMdm) {
    err(`profiles: ${path}: ${[...new Set(mdmOnly)].join(', ')} can only be installed through MDM (a device enrolled in user-approved MDM), not by hand\n`);
    return 1;
  }
  // A profile with the same identifier replaces the installed one, as on a Mac: what only the old
  // one approved is revoked. A system-extension policy that now allows a pending extension completes
  // its activation; one that no longer allows an active extension deactivates it (sysext.ts).
  const replaced = (mac.state.profiles ?? []).find((p) => p.identifier === profile.identifier);
  changePolicy(mac, () => {
    mac.state.profiles = [...(mac.state.profiles ?? []).filter((p) => p !== replaced), { ...profile, ...(mdmOnly.length ? { viaMdm: true } : {}) }];
    if (replaced) revokeFilters(mac, filterProviders(replaced));
  });
  return 0;
};

function filterProviders(profile: InstalledProfile): string[] {
  return profile.payloads.flatMap((p) => (p.filterDataProvider !== undefined ? [p.filterDataProvider] : []));
}

/**
 * `remove -identifier <id>`: its grants end. Full Disk Access is asked at es_new_client, so an ES
 * client that runs keeps its client until its next start; a filter approved by it loses its
 * configuration (content-filter.ts revokeFilters); an extension only its system-extension policy
 * allowed is deactivated (sysext.ts changePolicy). The simulated MDM's own profile is the config's.
 */
function removeProfile(mac: Mac, identifier: string | undefined, err: (text: string) => void): number {
  if (!identifier) { err(`profiles: remove needs -identifier <profile identifier>\n${USAGE}`); return 1; }
  const profile = (mac.state.profiles ?? []).find((p) => p.identifier === identifier);
  if (!profile) {
    const managed = mdmPolicyProfile(mac)?.identifier === identifier;
    err(`profiles: ${managed ? `the profile ${identifier} is managed by MDM and cannot be removed here` : `no profile with identifier ${identifier} is installed`}\n`);
    return 1;
  }
  changePolicy(mac, () => {
    mac.state.profiles = (mac.state.profiles ?? []).filter((p) => p !== profile);
    revokeFilters(mac, filterProviders(profile));
  });
  return 0;
}
