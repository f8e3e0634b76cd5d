// Scenario steps name extensions by the key under `uses.extensions` (or the rig's `extensions`).
import { z } from 'zod';
import type { ActivationOutcome } from '../../host/tools/activator.ts';
import type { ExtensionDecl } from '../../rig/types.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';

/** `sysext.deactivate: echo-driver` or `sysext.deactivate: { extension: echo-driver, … }`. */
export function extensionArgs<Extra extends z.ZodRawShape>(extra: Extra) {
  return z.union([
    z.string().min(1),
    z.strictObject({ extension: z.string().min(1), ...extra }),
  ]).transform((v) => (typeof v === 'string' ? { extension: v } : v) as { extension: string } & z.output<z.ZodObject<Extra>>);
}

export function resolveExtension(ctx: StepContext, name: string): ExtensionDecl & { name: string } {
  const decl = ctx.extensions[name];
  if (decl) return { name, ...decl };
  // A bare bundle id is accepted too, for steps that only need the id.
  const byBundle = Object.entries(ctx.extensions).find(([, d]) => d.bundle === name);
  if (byBundle) return { name: byBundle[0], ...byBundle[1] };
  const known = Object.keys(ctx.extensions).join(', ') || 'none';
  throw new StepFailure(`unknown extension "${name}": declare it under uses.extensions in the scenario or extensions in the rig (known: ${known})`);
}

/** The team the rig signs with, for commands that need a team id. */
export function teamFor(ctx: StepContext, decl: ExtensionDecl): string | undefined {
  const host = ctx.rig.definition.host;
  return decl.team ?? ctx.rig.definition.signing.team ?? (host.kind === 'sim' ? host.sim.teamId : undefined);
}

/** Runs the activator for a request, puts its callbacks on the timeline, and fails on `failed`. */
export async function requestThroughActivator(
  ctx: StepContext, request: 'activate' | 'deactivate', decl: ExtensionDecl & { name: string }, timeoutMs: number,
): Promise<ActivationOutcome> {
  if (!decl.dext && !decl.app) {
    throw new StepFailure(`extension "${decl.name}" has neither dext: nor app: to ${request} from`);
  }
  const outcome = await ctx.rig.tools.activator[request]({
    dext: decl.dext, app: decl.app, bundle: decl.bundle,
    identity: ctx.rig.definition.signing.identity, timeoutMs,
  });
  for (const event of outcome.events) ctx.timeline.record({ ...event, type: 'activator' });
  if (outcome.result === 'failed') {
    const e = outcome.error;
    const why = e ? `OSSystemExtensionErrorDomain code ${e.code} (${e.name}): ${e.message}` : `activator exited ${outcome.exitCode}`;
    throw new StepFailure(`${request === 'activate' ? 'activation' : 'deactivation'} of ${decl.bundle} failed: ${why}`);
  }
  return outcome;
}
