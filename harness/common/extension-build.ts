// Which build of each extension a scenario ran, as the `dextbench.extension` annotation every
// scenario carries (one per extension it activates): `<bundle id> [<version>] [sha256:<hex>]`.
// The engine writes it (the build's Info.plist version and content hash, rig/manifest.ts); the
// history reads it back from results.json or a merged blob report into the run's dext versions.
export const EXTENSION_ANNOTATION = 'dextbench.extension';

export interface ExtensionBuild {
  bundle: string;
  version?: string;
  sha256?: string;
}

export function formatExtensionBuild(build: ExtensionBuild): string {
  return [build.bundle, build.version, build.sha256 && `sha256:${build.sha256}`].filter(Boolean).join(' ');
}

/** Undefined for text that is not one (an annotation written by something else). */
export function parseExtensionBuild(text: string | undefined): ExtensionBuild | undefined {
  const m = /^(\S+)(?: (.+?))?(?: sha256:([0-9a-f]{64}))?$/.exec(text ?? '');
  if (!m) return undefined;
  return { bundle: m[1]!, ...(m[2] ? { version: m[2] } : {}), ...(m[3] ? { sha256: m[3] } : {}) };
}
