// Scenario steps name extensions by the key under `uses.extensions` (or the rig's `extensions`).
import { bundleOnHost } from '../../rig/stage.ts';
import { z } from 'zod';
import type { ActivationOutcome } from '../../host/tools/activator.ts';
import type { ExtensionDecl } from '../../rig/types.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';
import { ToolError } from '../../host/tools/tool-error.ts';
import { removalHint } from './approval.ts';
import { ConfigDeliveryError, deliverExtensionConfig } from '../../rig/extension-config.ts';

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
  if (!decl.dext && !decl.app && !decl.systemExtension) {
    throw new StepFailure(`extension "${decl.name}" has no dext:, app: or systemExtension: to ${request} from`);
  }
  const onHost = await sendBundle(ctx, decl);
  await checkBundleOnHost(ctx, onHost);
  if (request === 'activate' && decl.config !== undefined) {
    // Before the request: the extension reads its config when it starts (contract §2).
    const path = await deliverExtensionConfig(ctx.rig, decl.bundle, decl.config).catch((error: unknown) => {
      throw error instanceof ConfigDeliveryError ? new StepFailure(`extension ${decl.name}: ${error.message}`) : error;
    });
    ctx.timeline.record({ type: 'config', bundle: decl.bundle, path });
  }
  const team = decl.team ?? ctx.rig.definition.signing.team;
  let outcome: ActivationOutcome;
  try {
    outcome = await ctx.rig.tools.activator[request]({
      ...buildOf(onHost), bundle: decl.bundle,
      identity: ctx.rig.definition.signing.identity, timeoutMs,
    });
  } catch (error) {
    // A deactivation that never answers is most likely waiting at an admin prompt.
    if (request === 'deactivate' && error instanceof ToolError && error.result?.timedOut) {
      throw new StepFailure(`${error.message}; ${removalHint(decl.bundle, team)}`);
    }
    throw error;
  }
  for (const event of outcome.events) ctx.timeline.record({ ...event, type: 'activator' });
  if (outcome.result === 'failed') {
    const e = outcome.error;
    const why = e ? `OSSystemExtensionErrorDomain code ${e.code} (${e.name}): ${e.message}` : `activator exited ${outcome.exitCode}`;
    const hint = request === 'deactivate' && e?.name === 'authorizationRequired' ? `; ${removalHint(decl.bundle, team)}` : '';
    throw new StepFailure(`${request === 'activate' ? 'activation' : 'deactivation'} of ${decl.bundle} failed: ${why}${hint}`);
  }
  return outcome;
}

/**
 * The .dext or .app must be on the Mac before the request: the activator would only report
 * extensionNotFound, without the path. Checked through the rig's Exec, since the path is the
 * host's (local, simulated, or over ssh).
 */
/** Which key holds the extension's build: dext:, systemExtension: or app:. */
function buildKey(decl: ExtensionDecl): 'dext' | 'systemExtension' | 'app' {
  return decl.dext !== undefined ? 'dext' : decl.systemExtension !== undefined ? 'systemExtension' : 'app';
}

function buildOf(decl: ExtensionDecl): Pick<ExtensionDecl, 'dext' | 'systemExtension' | 'app'> {
  const key = buildKey(decl);
  return { [key]: decl[key] };
}

/** The declaration with its bundle's path on the host: sent there first over ssh (rig/stage.ts). */
async function sendBundle(ctx: StepContext, decl: ExtensionDecl & { name: string }): Promise<ExtensionDecl & { name: string }> {
  const key = buildKey(decl);
  const staged = await bundleOnHost(ctx.rig, decl[key]!);
  if (staged.path !== decl[key]) {
    ctx.timeline.record({ type: 'stage', bundle: decl.bundle, from: decl[key], to: staged.path, host: ctx.rig.exec.where, sent: staged.sent });
  }
  return { ...decl, [key]: staged.path };
}

async function checkBundleOnHost(ctx: StepContext, decl: ExtensionDecl & { name: string }): Promise<void> {
  const key = buildKey(decl);
  const path = decl[key]!;
  const kind = key === 'systemExtension' ? 'systemextension' : key;
  const exec = ctx.rig.exec;
  const where = exec.where === 'local' ? 'this Mac' : exec.where;
  const result = await exec.run(['test', '-d', path], { nothrow: true, timeoutMs: 15_000, idempotent: true });
  if (result.ok) return;
  if (result.exitCode !== 1) {
    const why = result.timedOut ? 'timed out' : `exited ${result.exitCode ?? result.signal}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n')[0]}` : ''}`;
    throw new StepFailure(`extension ${decl.name}: cannot check for its .${kind} at ${path} on ${where} (test -d ${why})`);
  }
  // build.sh of a fixture writes into its build/ folder.
  const fixture = /\/dext-fixtures\/([^/]+)\/build[^/]*\//.exec(path);
  const build = fixture ? `build it with dext-fixtures/${fixture[1]}/build.sh` : 'build it first';
  const declared = Object.hasOwn(ctx.scenario.uses.extensions, decl.name)
    ? `uses.extensions.${decl.name}.${key}` : `extensions.${decl.name}.${key} in ${ctx.rig.definition.file}`;
  throw new StepFailure(`extension ${decl.name}: no .${kind} at ${path} on ${where}; ${build}, or fix ${declared}`);
}
