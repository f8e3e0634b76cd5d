// `dextbench provision`: brings a Mac to what `dextbench doctor` wants, as zx scripts run on the
// rig's host through its Exec (locally or over ssh). Each step checks first and acts only when it
// must, so a second run changes nothing; a dry run prints the commands it would run; the first step
// that fails stops the run.
import { dirname } from 'node:path';
import { hostShell } from '../host/zx.ts';
import type { RigSession } from '../rig/connect.ts';
import { activator } from './activator.ts';
import { bridge } from './bridge.ts';
import { commandLineTools } from './command-line-tools.ts';
import { provisionContext, ProvisionFailure, type ProvisionStep } from './context.ts';
import { developerMode } from './developer-mode.ts';
import { esprobe } from './esprobe.ts';
import { contentFilter, mdmProfiles } from './profiles.ts';
import { sudoers } from './sudoers.ts';
import { uhubctl } from './uhubctl.ts';

export { ProvisionFailure } from './context.ts';

/** In order: later steps use what earlier ones set up (sudoers lets developer mode use sudo -n). */
export const PROVISION_STEPS: readonly ProvisionStep[] = [commandLineTools, uhubctl, sudoers, activator, bridge, esprobe, contentFilter, mdmProfiles, developerMode];

export interface ProvisionOptions {
  dryRun: boolean;
  /** How dextbench commands name the rig in fixes: `--rig rigs/x.yaml`. */
  rigArg: string;
  /** The admin's password, asked for at most once, when sudo needs it; undefined when it cannot be had. */
  password(): Promise<string | undefined>;
  /** How to give the password, for the message when there is none. */
  passwordHint: string;
  print(line: string): void;
}

export interface ProvisionSummary {
  changes: number;
  warnings: number;
}

/** A step failed: the run stopped there. */
export class ProvisionStopped extends Error {
  constructor(readonly step: string, readonly failure: ProvisionFailure) {
    super(`provision stopped at ${step}: ${failure.message}${failure.fix ? ` → ${failure.fix}` : ''}`);
    this.name = 'ProvisionStopped';
  }
}

export async function provisionMac(session: RigSession, options: ProvisionOptions): Promise<ProvisionSummary> {
  const controller = new AbortController();
  let actions: string[] = [];
  const ctx = provisionContext({
    rig: session.definition,
    exec: session.exec,
    $: hostShell(session.exec, { signal: controller.signal }),
    dryRun: options.dryRun,
    rigArg: options.rigArg,
    sharedDir: dirname(session.configDir),
    password: options.password,
    passwordHint: options.passwordHint,
    print: (line) => actions.push(line),
  });
  const summary: ProvisionSummary = { changes: 0, warnings: 0 };
  try {
    for (const step of PROVISION_STEPS) {
      actions = [];
      let outcome;
      try {
        outcome = await step.run(ctx);
      } catch (error) {
        if (error instanceof ProvisionFailure) throw new ProvisionStopped(step.name, error);
        throw error;
      }
      const name = `${step.name}: `;
      if (outcome.status === 'changed') {
        summary.changes++;
        options.print(`+ ${name}${options.dryRun ? `would ${outcome.would}` : outcome.did}`);
        for (const action of actions) options.print(action);
      } else if (outcome.status === 'warning') {
        summary.warnings++;
        options.print(`! ${name}${outcome.detail} → ${outcome.fix}`);
      } else {
        options.print(`${outcome.status === 'ready' ? '✓' : '-'} ${name}${outcome.detail}`);
      }
    }
  } finally {
    controller.abort(new Error('provision ended'));
  }
  const warnings = summary.warnings ? ` (${summary.warnings} warning${summary.warnings > 1 ? 's' : ''} above)` : '';
  if (options.dryRun) {
    options.print(summary.changes ? `dry run: ${summary.changes} change${summary.changes > 1 ? 's' : ''} to make, nothing changed${warnings}` : `nothing to do: the Mac is ready${warnings}`);
  } else {
    options.print(summary.changes ? `provisioned: ${summary.changes} change${summary.changes > 1 ? 's' : ''}; the Mac is ready${warnings}` : `nothing to do: the Mac is ready${warnings}`);
  }
  return summary;
}
