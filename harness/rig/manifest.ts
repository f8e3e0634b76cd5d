// What a repro bundle records about the rig a scenario failed on, and how a rig differs from it:
// the macOS build (sw_vers), each extension's bundle id, version and content hash of the build
// the scenario activated, the hubs and ports its devices sit on, the devices' VID/PID/serial, and
// the dextbench that ran it. `dextbench repro` collects the same for the rig it reruns on and says
// one line per difference.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRelative } from '../common/project-path.ts';
import { parsePlist, type PlistDict } from '../host/parsers/plist.ts';
import type { RigSession } from './connect.ts';
import { describeHub } from './connect.ts';
import type { ExtensionDecl, RigDefinition } from './types.ts';

export interface ReproManifest {
  format: 1;
  rig: string;
  /** sw_vers's BuildVersion, or why it could not be read. */
  macos: { productVersion?: string; buildVersion?: string; error?: string };
  extensions: ManifestExtension[];
  hubs: { id: string; describe: string }[];
  devices: ManifestDevice[];
  dextbench: { version: string; commit?: string };
}

export interface ManifestExtension {
  /** The scenario's name for it. */
  name: string;
  bundle: string;
  /** The build's path: relative to the project's root when inside it, else as on the machine that ran. */
  build?: string;
  /** CFBundleShortVersionString/CFBundleVersion of the build's Info.plist. */
  version?: string;
  /** sha256 over the build's files (relative path and bytes of each, in path order). */
  sha256?: string;
  /** Why there is no hash (no build declared, a missing build). */
  note?: string;
}

export interface ManifestDevice {
  role: string;
  hub: string;
  port: number;
  vendorId: string;
  productId: string;
  serial?: string;
}

/** sha256 of a file, or of a bundle folder's files with their relative paths; undefined when missing. */
export function buildSha256(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const hash = createHash('sha256');
  const visit = (file: string) => {
    const stat = statSync(file);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(file).sort()) visit(join(file, entry));
      return;
    }
    hash.update(`${relative(path, file)}\0${stat.size}\0`);
    hash.update(readFileSync(file));
  };
  visit(path);
  return hash.digest('hex');
}

/** "1.0.0/1" from a bundle's Info.plist (bare .dext or Contents/Info.plist); undefined when it has none. */
export function buildVersion(path: string): string | undefined {
  for (const plist of [join(path, 'Info.plist'), join(path, 'Contents/Info.plist')]) {
    if (!existsSync(plist)) continue;
    try {
      const info = parsePlist(readFileSync(plist, 'utf8')) as PlistDict;
      const short = info.CFBundleShortVersionString;
      const bundle = info.CFBundleVersion;
      if (typeof short === 'string') return typeof bundle === 'string' ? `${short}/${bundle}` : short;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `projectRoot`: builds inside it are named relative to it (a manifest travels to other checkouts). */
export function describeExtensions(extensions: Record<string, ExtensionDecl>, projectRoot?: string): ManifestExtension[] {
  return Object.entries(extensions).map(([name, decl]) => {
    const path = decl.dext ?? decl.systemExtension ?? decl.app;
    if (!path) return { name, bundle: decl.bundle, note: 'no build declared (already installed on the Mac)' };
    const sha256 = buildSha256(path);
    const version = sha256 ? buildVersion(path) : undefined;
    const build = projectRoot === undefined ? path : projectRelative(projectRoot, path);
    return { name, bundle: decl.bundle, build, ...(version ? { version } : {}), ...(sha256 ? { sha256 } : { note: 'the build is missing' }) };
  });
}

/** The devices the scenario uses, where they sit and who they say they are. */
export function describeDevices(rig: RigDefinition, roles: string[]): ManifestDevice[] {
  return rig.devices.filter((d) => roles.includes(d.role)).map((d) => ({
    role: d.role, hub: d.port.hub, port: d.port.port,
    vendorId: hex4(d.profile.usb.vendorId), productId: hex4(d.profile.usb.productId),
    ...(d.profile.usb.serial !== undefined ? { serial: d.profile.usb.serial } : {}),
  }));
}

export async function collectManifest(
  session: RigSession,
  scenario: { devices: string[]; extensions: Record<string, ExtensionDecl> },
  dextbench: ReproManifest['dextbench'],
  projectRoot?: string,
): Promise<ReproManifest> {
  let macos: ReproManifest['macos'];
  try {
    const v = await session.tools.macosVersion();
    macos = { productVersion: v.productVersion, buildVersion: v.buildVersion };
  } catch (error) {
    macos = { error: (error as Error).message.split('\n')[0]! };
  }
  const devices = describeDevices(session.definition, scenario.devices);
  const hubIds = new Set(devices.map((d) => d.hub));
  return {
    format: 1,
    rig: session.definition.name,
    macos,
    extensions: describeExtensions(scenario.extensions, projectRoot),
    hubs: session.definition.hubs.filter((h) => hubIds.has(h.id)).map((h) => ({ id: h.id, describe: describeHub(h) })),
    devices,
    dextbench,
  };
}

/** One line per way `here` differs from the `recorded` manifest; none when they agree. */
export function manifestDifferences(recorded: ReproManifest, here: ReproManifest): string[] {
  const lines: string[] = [];
  const build = (m: ReproManifest) => m.macos.buildVersion ? `${m.macos.productVersion} (${m.macos.buildVersion})` : `unknown (${m.macos.error ?? 'not read'})`;
  if (recorded.macos.buildVersion !== here.macos.buildVersion) lines.push(`macOS build: the bundle has ${build(recorded)}, rig ${here.rig} has ${build(here)}`);
  for (const was of recorded.extensions) {
    const now = here.extensions.find((e) => e.bundle === was.bundle);
    if (!now) {
      lines.push(`extension ${was.bundle}: in the bundle, but the scenario on rig ${here.rig} does not use it`);
      continue;
    }
    if (was.sha256 !== now.sha256) {
      const show = (e: ManifestExtension) => e.sha256 ? `${e.version ?? 'no version'} sha256 ${e.sha256.slice(0, 12)} (${e.build})` : (e.note ?? 'no build');
      lines.push(`extension ${was.bundle}: the bundle has ${show(was)}, rig ${here.rig} has ${show(now)}`);
    }
  }
  for (const now of here.extensions) {
    if (!recorded.extensions.some((e) => e.bundle === now.bundle)) lines.push(`extension ${now.bundle}: used on rig ${here.rig}, not in the bundle`);
  }
  for (const was of recorded.devices) {
    const now = here.devices.find((d) => d.role === was.role);
    if (!now) {
      lines.push(`device ${was.role}: in the bundle, but rig ${here.rig} has no such role`);
      continue;
    }
    if (was.vendorId !== now.vendorId || was.productId !== now.productId) lines.push(`device ${was.role}: the bundle has VID/PID ${was.vendorId}/${was.productId}, rig ${here.rig} has ${now.vendorId}/${now.productId}`);
    if (was.serial !== now.serial) lines.push(`device ${was.role}: the bundle has serial ${was.serial ?? '(none)'}, rig ${here.rig} has ${now.serial ?? '(none)'}`);
    if (was.hub !== now.hub || was.port !== now.port) lines.push(`device ${was.role}: the bundle has it on ${was.hub} port ${was.port}, rig ${here.rig} on ${now.hub} port ${now.port}`);
  }
  return lines;
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}
