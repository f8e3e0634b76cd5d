// Homebrew on the Mac: where brew is (over ssh, a non-login shell's PATH often lacks it), its prefix,
// and the formulae a step needs (`brew list <formula>` says whether one is installed).
import type { Shell } from 'zx/core';
import { ProvisionFailure, type ProvisionContext } from './context.ts';

const INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface Homebrew {
  /** The brew command: `brew` when it is on PATH, else its absolute path. */
  brew: string;
  /** `brew --prefix`: /opt/homebrew or /usr/local. */
  prefix: string;
}

/** brew on PATH, else where its installer puts it: Apple silicon, then Intel. */
export async function findHomebrew($: Shell): Promise<Homebrew | undefined> {
  const found = await $({ nothrow: true, timeout: 15_000 })`command -v brew >/dev/null && echo brew || { for b in /opt/homebrew/bin/brew /usr/local/bin/brew; do if [ -x "$b" ]; then echo "$b"; exit 0; fi; done; exit 1; }`;
  const brew = found.stdout.trim().split('\n')[0];
  if (!found.ok || !brew) return undefined;
  const prefix = (await $({ timeout: 30_000 })`${brew} --prefix`).stdout.trim();
  return { brew, prefix };
}

/** Homebrew, or the failure that says to install it; `needs` says what for ("the rig's hubs need uhubctl from it"). */
export async function requireHomebrew($: Shell, needs: string): Promise<Homebrew> {
  const homebrew = await findHomebrew($);
  if (homebrew) return homebrew;
  throw new ProvisionFailure(`Homebrew is not installed, and ${needs}`,
    'install Homebrew on the Mac (https://brew.sh; its installer asks for a password), then run provision again');
}

/** The formulae of `formulae` that `brew list` does not know, in order. */
export async function missingFormulae($: Shell, homebrew: Homebrew, formulae: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const formula of formulae) {
    if (!(await $({ nothrow: true, timeout: 60_000 })`${homebrew.brew} list ${formula}`).ok) missing.push(formula);
  }
  return missing;
}

/** `brew install` of the formulae (a dry run prints it). */
export async function installFormulae(ctx: ProvisionContext, homebrew: Homebrew, formulae: string[]): Promise<void> {
  const install = [homebrew.brew, 'install', ...formulae];
  await ctx.act(install, { timeoutMs: INSTALL_TIMEOUT_MS, fix: `run ${install.join(' ')} on the Mac to see why` });
}
