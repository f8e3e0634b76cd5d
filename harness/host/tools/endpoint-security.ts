// Whether a rig declares an Endpoint Security client: a system extension build whose Info.plist has
// NSEndpointSecurityMachServiceName (contract §1; macOS itself decides from the entitlements, which
// these builds carry too). What provisions and checks ES support (the probe, eslogger's sudoers
// rule) asks this. Its NE counterpart: a build whose Info.plist has NetworkExtension.NEProviderClasses.
// The kind decides which payloads approve an extension (`dextbench profile --dext/--es/--ne-filter`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlist, type PlistDict } from '../parsers/plist.ts';

/** A bundle on this machine; an unreadable one is not (rig validation names it). */
export function isEndpointSecurityBuild(bundle: string): boolean {
  return typeof infoPlist(bundle)?.['NSEndpointSecurityMachServiceName'] === 'string';
}

/** A Network Extension build (a content filter, for what rigs declare); unreadable is not. */
export function isNetworkExtensionBuild(bundle: string): boolean {
  const ne = infoPlist(bundle)?.['NetworkExtension'];
  return isDict(ne) && isDict(ne['NEProviderClasses']);
}

/** What kind of extension a declaration is, named as `dextbench profile`'s option for it. */
export type ExtensionKind = 'dext' | 'es' | 'ne-filter';

/** A bare .systemextension build is ES or NE by its Info.plist; anything else is approved as a dext. */
export function extensionKind(decl: { systemExtension?: string }): ExtensionKind {
  if (decl.systemExtension === undefined) return 'dext';
  if (isEndpointSecurityBuild(decl.systemExtension)) return 'es';
  if (isNetworkExtensionBuild(decl.systemExtension)) return 'ne-filter';
  return 'dext';
}

function infoPlist(bundle: string): PlistDict | undefined {
  try {
    const info = parsePlist(readFileSync(join(bundle, 'Contents', 'Info.plist'), 'utf8'));
    return isDict(info) ? info : undefined;
  } catch {
    return undefined;
  }
}

function isDict(value: unknown): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** The bundle ids of the rig's Endpoint Security extensions. */
export function endpointSecurityExtensions(rig: { extensions: Readonly<Record<string, { bundle: string; systemExtension?: string }>> }): string[] {
  return Object.values(rig.extensions).filter((e) => e.systemExtension && isEndpointSecurityBuild(e.systemExtension)).map((e) => e.bundle);
}

/** The bundle ids of the rig's Network Extension content filters. */
export function networkExtensionFilters(rig: { extensions: Readonly<Record<string, { bundle: string; systemExtension?: string }>> }): string[] {
  return Object.values(rig.extensions).filter((e) => e.systemExtension && isNetworkExtensionBuild(e.systemExtension)).map((e) => e.bundle);
}
