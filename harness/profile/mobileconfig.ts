// The configuration profile an unattended rig needs so that no extension waits for a click:
// com.apple.system-extension-policy (approve the extensions; with `removable`, let cleanup
// deactivate them without an admin prompt), com.apple.TCC.configuration-profile-policy (Full Disk
// Access for Endpoint Security clients) and com.apple.webcontent-filter (one per NE content filter).
// Keys exactly as reference/driverkit-rigs-es-ne.md §B.4 gives them.
import { randomUUID } from 'node:crypto';
import { PlistWriteError, writePlistXml, type ProfileDict } from './plist-xml.ts';

export interface ProfileRequest {
  /** The Developer ID team that signs the extensions (10 upper-case letters and digits). */
  team: string;
  /** Bundle ids by kind of extension. */
  dexts: string[];
  es: string[];
  neFilters: string[];
  /** List the extensions under RemovableSystemExtensions (macOS 12+). */
  removable: boolean;
  /** PayloadDisplayName, what System Settings shows. */
  name?: string;
  /** The outer PayloadIdentifier: a profile with the same one replaces the installed one. */
  identifier?: string;
  /** Designated requirements by bundle (ES clients and filters); default: `defaultRequirement`. */
  codeRequirements?: Record<string, string>;
  /** The app that contains each NE filter, by filter bundle; default: the filter's id minus its last component. */
  filterApps?: Record<string, string>;
  /**
   * Only the payloads a person may install by hand (the content filters): a profile holding an
   * MDM-only payload installs only through MDM, so a hand-installed one must leave those out.
   */
  manualOnly?: boolean;
}

/** A request that cannot make a valid profile: one line, naming the option to fix. */
export class ProfileInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileInputError';
  }
}

export const PAYLOAD = {
  systemExtensionPolicy: 'com.apple.system-extension-policy',
  tcc: 'com.apple.TCC.configuration-profile-policy',
  webContentFilter: 'com.apple.webcontent-filter',
} as const;

/** Which payloads only MDM can deliver (`allowmanualinstall: false` in Apple's device-management schema). */
export const NEEDS_MDM: Record<string, boolean> = {
  [PAYLOAD.systemExtensionPolicy]: true,
  [PAYLOAD.tcc]: true,
  [PAYLOAD.webContentFilter]: false,
};

const EXTENSION_TYPE = { dexts: 'DriverExtension', es: 'EndpointSecurityExtension', neFilters: 'NetworkExtension' } as const;
const OPTION = { dexts: '--dext', es: '--es', neFilters: '--ne-filter' } as const;
type Kind = keyof typeof EXTENSION_TYPE;

const TEAM_ID = /^[A-Z0-9]{10}$/;
// CFBundleIdentifier: letters, digits, hyphens and periods; reverse-DNS means two components at least.
const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** What `codesign -d -r-` prints for a Developer ID or development build of `bundle` by `team`. */
export function defaultRequirement(bundle: string, team: string): string {
  return `identifier "${bundle}" and anchor apple generic and certificate leaf[subject.OU] = "${team}"`;
}

export interface Mobileconfig {
  xml: string;
  /** The payload types inside, in order. */
  payloadTypes: string[];
}

/** Builds the profile; every UUID is fresh. */
export function buildMobileconfig(request: ProfileRequest, uuid: () => string = () => randomUUID().toUpperCase()): Mobileconfig {
  const { team, removable } = request;
  checkRequest(request);
  const bundlesOf = (kind: Kind) => [...new Set(request[kind])];
  const kinds = (Object.keys(EXTENSION_TYPE) as Kind[]).filter((kind) => bundlesOf(kind).length > 0);
  const all = kinds.flatMap(bundlesOf);
  const base = request.identifier ?? `dextbench.rig.${team}`;
  const requirement = (bundle: string) => request.codeRequirements?.[bundle] ?? defaultRequirement(bundle, team);
  const header = (type: string, identifier: string): ProfileDict => ({
    PayloadType: type, PayloadIdentifier: identifier, PayloadUUID: uuid(), PayloadVersion: 1,
  });

  // A team listed under AllowedTeamIdentifiers must not also be a key of AllowedSystemExtensions:
  // named bundles approve exactly those, no bundle approves the whole team.
  const policy: ProfileDict = header(PAYLOAD.systemExtensionPolicy, `${base}.system-extension-policy`);
  if (all.length === 0) {
    policy['AllowedTeamIdentifiers'] = [team];
  } else {
    policy['AllowedSystemExtensions'] = { [team]: all };
    policy['AllowedSystemExtensionTypes'] = { [team]: kinds.map((kind) => EXTENSION_TYPE[kind]) };
    if (removable) policy['RemovableSystemExtensions'] = { [team]: all };
  }
  const payloads: ProfileDict[] = request.manualOnly ? [] : [policy];

  const esClients = bundlesOf('es');
  if (esClients.length > 0 && !request.manualOnly) {
    payloads.push({
      ...header(PAYLOAD.tcc, `${base}.tcc`),
      Services: {
        SystemPolicyAllFiles: esClients.map((bundle) => ({
          Identifier: bundle, IdentifierType: 'bundleID', CodeRequirement: requirement(bundle), StaticCode: false, Allowed: true,
        })),
      },
    });
  }
  for (const filter of bundlesOf('neFilters')) {
    payloads.push({
      ...header(PAYLOAD.webContentFilter, `${base}.webcontent-filter.${filter}`),
      FilterType: 'Plugin',
      UserDefinedName: filter,
      PluginBundleID: request.filterApps?.[filter] ?? containingApp(filter),
      FilterSockets: true,
      FilterPackets: false,
      FilterDataProviderBundleIdentifier: filter,
      FilterDataProviderDesignatedRequirement: requirement(filter),
      FilterGrade: 'firewall',
    });
  }

  const profile: ProfileDict = {
    PayloadType: 'Configuration',
    PayloadScope: 'System',
    PayloadIdentifier: base,
    PayloadUUID: uuid(),
    PayloadVersion: 1,
    PayloadDisplayName: request.name ?? `dextbench rig (${team})`,
    PayloadContent: payloads,
  };
  let xml: string;
  try {
    xml = writePlistXml(profile);
  } catch (error) {
    // A name or requirement with a character XML cannot carry (a control character).
    if (error instanceof PlistWriteError) throw new ProfileInputError(`cannot write the profile: ${error.message}`);
    throw error;
  }
  return { xml, payloadTypes: payloads.map((p) => p['PayloadType'] as string) };
}

/** com.example.filter.ne → com.example.filter: the app that carries the filter in Contents/Library/SystemExtensions. */
function containingApp(filter: string): string {
  return filter.slice(0, filter.lastIndexOf('.'));
}

function checkRequest(request: ProfileRequest): void {
  if (!TEAM_ID.test(request.team)) {
    throw new ProfileInputError(`--team: ${JSON.stringify(request.team)} is not a team id: 10 upper-case letters and digits, like ABCDE12345`);
  }
  const kindOf = new Map<string, Kind>();
  for (const kind of Object.keys(EXTENSION_TYPE) as Kind[]) {
    for (const bundle of request[kind]) {
      if (!BUNDLE_ID.test(bundle)) {
        throw new ProfileInputError(`${OPTION[kind]}: ${JSON.stringify(bundle)} is not a bundle id: reverse-DNS letters, digits and hyphens, like com.example.echo.driver`);
      }
      const other = kindOf.get(bundle);
      if (other && other !== kind) throw new ProfileInputError(`${bundle} is given as ${OPTION[other]} and as ${OPTION[kind]}: an extension is of one kind`);
      kindOf.set(bundle, kind);
    }
  }
  if (request.manualOnly && request.neFilters.length === 0) {
    throw new ProfileInputError('--manual-only writes the content-filter payloads, the only ones a person may install: name them with --ne-filter');
  }
  const mdmOnly = [request.dexts.length > 0 && '--dext', request.es.length > 0 && '--es', request.removable && '--removable'].filter(Boolean);
  if (request.manualOnly && mdmOnly.length > 0) {
    throw new ProfileInputError(`--manual-only leaves out the payloads only MDM can deliver, which ${mdmOnly.join(', ')} ask for: write those in a profile of their own`);
  }
  if (request.removable && kindOf.size === 0) {
    throw new ProfileInputError('--removable lists bundles under RemovableSystemExtensions: name them with --dext, --es or --ne-filter');
  }
  for (const [bundle, requirement] of Object.entries(request.codeRequirements ?? {})) {
    const kind = kindOf.get(bundle);
    if (kind !== 'es' && kind !== 'neFilters') {
      throw new ProfileInputError(`--code-requirement: ${bundle} is not an --es or --ne-filter bundle of this profile (only those carry a requirement)`);
    }
    if (requirement.trim() === '') throw new ProfileInputError(`--code-requirement: the requirement for ${bundle} is empty`);
  }
  for (const [filter, app] of Object.entries(request.filterApps ?? {})) {
    if (kindOf.get(filter) !== 'neFilters') throw new ProfileInputError(`--filter-app: ${filter} is not an --ne-filter bundle of this profile`);
    if (!BUNDLE_ID.test(app)) throw new ProfileInputError(`--filter-app: ${JSON.stringify(app)} is not a bundle id: reverse-DNS, like com.example.filter`);
  }
  for (const filter of request.neFilters) {
    if (request.filterApps?.[filter] === undefined && !BUNDLE_ID.test(containingApp(filter))) {
      throw new ProfileInputError(`--ne-filter: the app that contains ${filter} cannot be derived from its id; give it with --filter-app ${filter}=APP_BUNDLE_ID`);
    }
  }
  if (request.identifier !== undefined && !BUNDLE_ID.test(request.identifier)) {
    throw new ProfileInputError(`--identifier: ${JSON.stringify(request.identifier)} is not reverse-DNS, like com.example.rigs.ci`);
  }
  if (request.name !== undefined && request.name.trim() === '') throw new ProfileInputError('--name: the display name is empty');
}
