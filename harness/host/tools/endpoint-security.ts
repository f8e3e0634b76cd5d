// Whether a rig declares an Endpoint Security client: a system extension build whose Info.plist has
// NSEndpointSecurityMachServiceName (contract §1; macOS itself decides from the entitlements, which
// these builds carry too). What provisions and checks ES support (the probe, eslogger's sudoers
// rule) asks this.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlist, type PlistDict } from '../parsers/plist.ts';

/** A bundle on this machine; an unreadable one is not (rig validation names it). */
export function isEndpointSecurityBuild(bundle: string): boolean {
  try {
    const info = parsePlist(readFileSync(join(bundle, 'Contents', 'Info.plist'), 'utf8')) as PlistDict;
    return typeof info['NSEndpointSecurityMachServiceName'] === 'string';
  } catch {
    return false;
  }
}

/** The bundle ids of the rig's Endpoint Security extensions. */
export function endpointSecurityExtensions(rig: { extensions: Readonly<Record<string, { bundle: string; systemExtension?: string }>> }): string[] {
  return Object.values(rig.extensions).filter((e) => e.systemExtension && isEndpointSecurityBuild(e.systemExtension)).map((e) => e.bundle);
}
