// Schema pieces the scenario, rig and device files share, and path resolution relative to the
// file that holds a value.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { showValue } from './issues.ts';

export const bundleId = z
  .string()
  .regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, { error: (issue) => `expected a reverse-DNS bundle id like com.example.driver, got ${showValue(issue.input)}` });

export const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (issue) => `expected a variable name of letters, digits and _, got ${showValue(issue.input)}` });

/** Variable values are strings; plain numbers (exact past 2^53: exact-integers.ts) and booleans are taken as their text. */
export const variables = z.record(
  variableName,
  z.preprocess(
    (v) => (typeof v === 'bigint' ? String(v) : v),
    z.union([z.string(), z.number(), z.boolean()], { error: (issue) => `expected a text value, got ${showValue(issue.input)}` }).transform(String),
  ),
);

const version = z
  .string()
  .regex(/^\d+(\.\d+)*(\/[0-9A-Za-z.]+)?$/, { error: (issue) => `expected a version like 1.0.0 or 1.0.0/1 (short/bundle), got ${showValue(issue.input)}` });

export const teamId = z
  .string()
  .regex(/^[A-Z0-9]{10}$/, { error: (issue) => `expected a team id of 10 upper-case letters and digits, got ${showValue(issue.input)}` });

/** Where an extension's build comes from: exactly one of these (or none in a scenario, for the rig's own). */
export const EXTENSION_SOURCES = ['dext', 'app', 'systemExtension'] as const;

/** An extension as a scenario or rig declares it: `{ bundle, dext | app | systemExtension, version?, team?, config? }`. */
export const extensionDecl = z
  .strictObject({
    bundle: bundleId,
    dext: z.string().min(1).optional().meta({ description: 'Path of a bare .dext build (relative to this file).' }),
    app: z.string().min(1).optional().meta({ description: 'Path of an app carrying the extension in Contents/Library/SystemExtensions (relative to this file).' }),
    systemExtension: z.string().min(1).optional()
      .meta({ description: 'Path of a bare .systemextension build, an Endpoint Security or Network Extension (relative to this file).' }),
    version: version.optional(),
    team: z.string().min(1).optional(),
    config: z.record(z.string(), z.unknown(), { error: (issue) => `expected a map of settings, got ${showValue(issue.input)}` }).optional()
      .meta({ description: 'Settings written as JSON to /Users/Shared/dextbench/config/<bundle>.json on the Mac before activation (the extension reads it).' }),
  })
  .superRefine((decl, ctx) => {
    const given = EXTENSION_SOURCES.filter((key) => decl[key] !== undefined);
    for (const key of given.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `give one of dext:, app: or systemExtension:, not ${given.join(' and ')}` });
    }
  });

export function isRelativePathLike(value: string): boolean {
  return value.startsWith('./') || value.startsWith('../');
}

/** A path written in `file`, made absolute relative to that file's folder. */
export function resolveFrom(file: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(file), path);
}
