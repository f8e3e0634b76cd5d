// What a provisioning step works with: zx's `$` on the rig's Mac (reads run in a dry run too), and
// `act`/`actAsRoot` for every command that changes the Mac, which a dry run prints as argv instead.
// sudo: `sudo -n` first; only when it says a password is required, the admin's password, asked for
// once, goes to `sudo -S -p ''` on stdin: never into argv, the timeline or a message.
import type { Shell } from 'zx/core';
import { formatArgv, type Exec } from '../host/exec.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import type { RigDefinition } from '../rig/types.ts';

/** A step stopped the run: what went wrong, and what a person does about it. */
export class ProvisionFailure extends Error {
  constructor(message: string, readonly fix?: string) {
    super(message);
    this.name = 'ProvisionFailure';
  }
}

export type StepOutcome =
  /** Nothing to do: `detail` says what was found ("already installed (…)"). */
  | { status: 'ready'; detail: string }
  /** The step changed the Mac (`did`), or in a dry run would (`would`). */
  | { status: 'changed'; did: string; would: string }
  /** Provision cannot do it; the Mac works without it, with the drawback `detail` names. */
  | { status: 'warning'; detail: string; fix: string }
  /** The rig does not need it. */
  | { status: 'not needed'; detail: string };

export interface ProvisionStep {
  name: string;
  run(ctx: ProvisionContext): Promise<StepOutcome>;
}

export interface ActOptions {
  /** Sent on stdin. */
  input?: string | Buffer;
  /** What a dry run shows for the input, line by line (default: nothing). */
  inputShown?: string;
  timeoutMs?: number;
  /** What a dry run uses as the command's output (e.g. a placeholder for a path it would print). */
  dryRunOutput?: string;
  /** The fix to give when the command fails. */
  fix?: string;
}

export interface ProvisionContext {
  rig: RigDefinition;
  /** The Mac's Exec (the host helpers take it). */
  exec: Exec;
  /** zx on the Mac: for reads, which a dry run performs too. */
  $: Shell;
  dryRun: boolean;
  /** How dextbench commands name the rig in fixes: `--rig rigs/x.yaml`. */
  rigArg: string;
  /** The Mac's /Users/Shared/dextbench as this Exec reaches it (a simulated Mac's is in its state dir). */
  sharedDir: string;
  /** Runs a command that changes the Mac and returns its trimmed stdout; a dry run prints it instead. */
  act(argv: string[], options?: ActOptions): Promise<string>;
  /** The same as root, through sudo. */
  actAsRoot(argv: string[], options?: ActOptions): Promise<string>;
}

export interface ContextOptions {
  rig: RigDefinition;
  exec: Exec;
  $: Shell;
  dryRun: boolean;
  rigArg: string;
  /** The Mac's /Users/Shared/dextbench as the Exec reaches it; default that path. */
  sharedDir?: string;
  /** The admin's password for sudo, when sudo asks for one; undefined when there is no way to get it. */
  password(): Promise<string | undefined>;
  /** How to give provision the password, for the message when there is none. */
  passwordHint: string;
  /** A dry run's lines (each action's argv) go here. */
  print(line: string): void;
}

const DEFAULT_ACT_TIMEOUT_MS = 120_000;
const PASSWORD_REQUIRED = /a password is required|a terminal is required/;
const PASSWORD_REFUSED = /incorrect password|Sorry, try again/;

export function provisionContext(options: ContextOptions): ProvisionContext {
  const { $, dryRun, print } = options;
  let password: Promise<string | undefined> | undefined;

  const show = (argv: string[], given: ActOptions): string => {
    print(`    $ ${formatArgv(argv)}`);
    for (const line of given.inputShown?.split('\n') ?? []) print(`      < ${line}`);
    return given.dryRunOutput ?? '';
  };

  const run = async (argv: string[], given: ActOptions, shownArgv = argv) => {
    const out = await $({ nothrow: true, timeout: given.timeoutMs ?? DEFAULT_ACT_TIMEOUT_MS, ...(given.input !== undefined ? { input: given.input } : {}) })`${argv}`;
    const said = oneLine(out.stderr) || oneLine(out.stdout);
    const how = out.signal ? `was stopped (${out.signal}${out.signal === 'SIGTERM' ? ', out of time' : ''})` : `exited with ${out.exitCode}`;
    return { ok: out.ok, stdout: out.stdout, said, failure: `${formatArgv(shownArgv)} ${how}${said ? `: ${said}` : ''}` };
  };

  const act: ProvisionContext['act'] = async (argv, given = {}) => {
    if (dryRun) return show(argv, given);
    const result = await run(argv, given);
    if (!result.ok) throw new ProvisionFailure(result.failure, given.fix);
    return result.stdout.trim();
  };

  const actAsRoot: ProvisionContext['actAsRoot'] = async (argv, given = {}) => {
    if (dryRun) return show(['sudo', ...argv], given);
    const plain = await run(['sudo', '-n', ...argv], given);
    if (plain.ok) return plain.stdout.trim();
    if (!PASSWORD_REQUIRED.test(plain.said)) throw new ProvisionFailure(plain.failure, given.fix);
    password ??= options.password();
    const secret = await password;
    if (secret === undefined) {
      throw new ProvisionFailure(`sudo needs the password of an admin of the Mac once, for ${formatArgv(argv)}`, options.passwordHint);
    }
    // The password is the first line on stdin; whatever the command reads follows it.
    const input = given.input === undefined ? `${secret}\n` : Buffer.concat([Buffer.from(`${secret}\n`), Buffer.from(given.input)]);
    const withPassword = await run(['sudo', '-S', '-p', '', ...argv], { ...given, input }, ['sudo', '-S', ...argv]);
    if (withPassword.ok) return withPassword.stdout.trim();
    if (PASSWORD_REFUSED.test(withPassword.said)) {
      throw new ProvisionFailure(`sudo did not accept the password for ${formatArgv(argv)}`, `give the password of an admin of the Mac (${options.passwordHint})`);
    }
    throw new ProvisionFailure(withPassword.failure, given.fix);
  };

  return { rig: options.rig, exec: options.exec, $, dryRun, rigArg: options.rigArg, sharedDir: options.sharedDir ?? '/Users/Shared/dextbench', act, actAsRoot };
}
