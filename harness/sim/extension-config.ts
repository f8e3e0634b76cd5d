// An extension's settings as the harness delivers them (contract §2): JSON in
// /Users/Shared/dextbench/config/<bundle>.json, on the simulated Mac inside its state dir (as the
// lease and stage folders are: rig/connect.ts). The ES and NE models read it on every decision,
// as the real extensions re-read it when it changes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mac } from './mac.ts';

export type ExtensionConfig =
  | { found: false }
  | { found: true; config: Record<string, unknown> }
  | { found: true; problem: string };

/** Where `/Users/Shared/dextbench/config/<bundle>.json` is on this machine for the simulated Mac. */
export function extensionConfigPath(mac: Mac, bundle: string): string {
  return join(mac.stateDir, 'fs', 'Users', 'Shared', 'dextbench', 'config', `${bundle}.json`);
}

/** The extension's delivered config: absent, a JSON object, or the one-line reason it is unusable. */
export function readExtensionConfig(mac: Mac, bundle: string): ExtensionConfig {
  let text: string;
  try {
    text = readFileSync(extensionConfigPath(mac, bundle), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
    return { found: true, problem: (error as Error).message.split('\n')[0]! };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { found: true, problem: `not JSON: ${(error as Error).message.split('\n')[0]}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { found: true, problem: 'not a JSON object' };
  return { found: true, config: value as Record<string, unknown> };
}
