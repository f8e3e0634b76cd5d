// Reading an extension bundle the way the activator needs it: Info.plist keys, the category sysextd
// files it under, and a dext's IOKitPersonalities. A .dext is a driver; a .systemextension is an
// Endpoint Security or Network Extension, told apart by its Info.plist (contract §1: real macOS
// decides from the entitlements; these keys are real ones such extensions carry).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDict, parsePlist, type PDict } from './plist.ts';
import { DRIVER_CATEGORY, ENDPOINT_SECURITY_CATEGORY, NETWORK_EXTENSION_CATEGORY } from './state.ts';

export interface ExtensionBundleInfo {
  path: string;
  bundle: string;
  shortVersion: string;
  bundleVersion: string;
  name: string;
  /** systemextensionsctl's category id; undefined for a .systemextension that is neither ES nor NE. */
  category: string | undefined;
  /** CFBundleExecutable (default: the bundle id), the process a system extension runs as. */
  executable: string;
  personalities: Record<string, PDict>;
}

export class BundleNotFound extends Error {}

/** DriverKit dexts are shallow bundles (Info.plist at the root); also accept Contents/Info.plist. */
export function infoPlistPath(dextPath: string): string | null {
  for (const p of [join(dextPath, 'Info.plist'), join(dextPath, 'Contents', 'Info.plist')]) if (existsSync(p)) return p;
  return null;
}

/** The category of a bundle: a .dext is a driver; a .systemextension says in its Info.plist. */
function categoryOf(bundlePath: string, info: PDict): string | undefined {
  if (!bundlePath.replace(/\/+$/, '').endsWith('.systemextension')) return DRIVER_CATEGORY;
  const ne = info['NetworkExtension'];
  if (isDict(ne) && ne['NEProviderClasses'] !== undefined) return NETWORK_EXTENSION_CATEGORY;
  if (typeof info['NSEndpointSecurityMachServiceName'] === 'string') return ENDPOINT_SECURITY_CATEGORY;
  return undefined;
}

export function readExtensionBundle(dextPath: string): ExtensionBundleInfo {
  const plistPath = infoPlistPath(dextPath);
  if (!plistPath) throw new BundleNotFound(`no Info.plist in ${dextPath}`);
  let info;
  try {
    info = parsePlist(readFileSync(plistPath, 'utf8'));
  } catch (e) {
    throw new BundleNotFound(`${plistPath}: ${(e as Error).message}`);
  }
  if (!isDict(info)) throw new BundleNotFound(`${plistPath}: top level is not a dictionary`);
  const str = (k: string): string => (typeof info[k] === 'string' ? (info[k] as string) : '');
  const bundle = str('CFBundleIdentifier');
  if (!bundle) throw new BundleNotFound(`${plistPath}: no CFBundleIdentifier`);
  const personalities: Record<string, PDict> = {};
  const raw = info['IOKitPersonalities'];
  if (isDict(raw)) for (const [name, p] of Object.entries(raw)) if (isDict(p)) personalities[name] = p;
  return {
    path: dextPath,
    bundle,
    shortVersion: str('CFBundleShortVersionString'),
    bundleVersion: str('CFBundleVersion'),
    name: str('CFBundleDisplayName') || str('CFBundleName') || bundle,
    category: categoryOf(dextPath, info),
    executable: str('CFBundleExecutable') || bundle,
    personalities,
  };
}

/** The extension (.dext or .systemextension) with this bundle id inside `<app>/Contents/Library/SystemExtensions/`. */
export function findExtensionInApp(appPath: string, bundle: string): string | null {
  const dir = join(appPath, 'Contents', 'Library', 'SystemExtensions');
  if (!existsSync(dir)) return null;
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith('.dext') && !entry.endsWith('.systemextension')) continue;
    try {
      if (readExtensionBundle(join(dir, entry)).bundle === bundle) return join(dir, entry);
    } catch {
      // An unreadable sibling is not the one asked for.
    }
  }
  return null;
}

/** A kext version: major[.minor[.revision]] (major ≤ 65535, minor/revision ≤ 99), optional stage suffix. */
export function isValidKextVersion(v: string): boolean {
  const m = /^(\d{1,5})(?:\.(\d{1,2})(?:\.(\d{1,2}))?)?(?:(?:d|a|b|fc)\d{1,3})?$/.exec(v);
  return !!m && Number(m[1]) <= 65535;
}
