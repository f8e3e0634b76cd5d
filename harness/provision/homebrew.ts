// Homebrew on the Mac: where brew is (over ssh, a non-login shell's PATH often lacks it) and its prefix.
import type { Shell } from 'zx/core';

export interface Homebrew {
  /** The brew command. */
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
