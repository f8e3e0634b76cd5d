// Scenario steps name extensions by the key under `uses.extensions` (or the rig's `extensions`).
import type { ExtensionDecl } from '../../rig/types.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';

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
