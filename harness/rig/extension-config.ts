// Config delivery (contract §2): an extension's `config:` as JSON (2-space indented, trailing
// newline) in /Users/Shared/dextbench/config/<bundle>.json on the Mac, written through the rig's
// Exec without sudo (/Users/Shared is writable by every user; the extensions run as root and read
// it). Written to a temporary name and renamed, so an extension re-reading it never sees half a file.
import { formatMs } from '../common/time.ts';
import type { RigSession } from './connect.ts';

const WRITE_TIMEOUT_MS = 15_000;

// $1 folder, $2 file name; the JSON on stdin.
const WRITE = 'set -e\numask 022\nmkdir -p "$1"\ncat > "$1/.$2.tmp"\nmv -f "$1/.$2.tmp" "$1/$2"';

export class ConfigDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigDeliveryError';
  }
}

/** The bytes delivered: JSON.stringify(config, null, 2) + "\n", with big integers written exactly. */
export function configJson(config: Record<string, unknown>): string {
  // A bigint becomes a marked string, then the mark (which JSON escapes, so no string can carry it)
  // is replaced by the digits.
  const text = JSON.stringify(config, (_key, value: unknown) => (typeof value === 'bigint' ? `\u0000bigint:${value}` : value), 2);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1') + '\n';
}

/** Where the bundle's config lands on the rig's host. */
export function configPathOnHost(session: RigSession, bundle: string): string {
  return `${session.configDir}/${bundle}.json`;
}

/** Writes the bundle's config on the Mac; returns the path written. */
export async function deliverExtensionConfig(session: RigSession, bundle: string, config: Record<string, unknown>): Promise<string> {
  const result = await session.exec.run(['/bin/sh', '-c', WRITE, 'deliver-config', session.configDir, `${bundle}.json`], {
    stdin: configJson(config), nothrow: true, timeoutMs: WRITE_TIMEOUT_MS,
  });
  if (!result.ok) {
    const why = result.timedOut ? `timed out after ${formatMs(WRITE_TIMEOUT_MS)}` : result.stderr.trim().split('\n').at(-1) || `exit ${result.exitCode}`;
    throw new ConfigDeliveryError(`cannot write the config of ${bundle} to ${configPathOnHost(session, bundle)} on ${session.exec.where}: ${why}`);
  }
  return configPathOnHost(session, bundle);
}
