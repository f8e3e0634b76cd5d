// A board's Exec with every command run as root through `sudo -n`: configfs gadgets need root, and
// a board is usually reached as an ordinary user (pi@…). `-n` never prompts: a rule that asks for a
// password fails at once, with one line that says which sudoers rule to add on the board.
import type { Exec, ExecOptions } from '../host/exec.ts';
import { ExecError } from '../host/exec.ts';
import { GadgetError } from './gadget.ts';

/** What the gadget code runs on the board (gadget.ts), plus mount for configfs and FunctionFS. */
export const GADGET_COMMANDS = ['mkdir', 'rmdir', 'ln', 'rm', 'sh', 'cat', 'ls', 'test', 'mount'];

const NEEDS_PASSWORD = /a password is required|a terminal is required|is not allowed to execute/;

export function asRoot(argv: readonly string[]): string[] {
  return ['sudo', '-n', ...argv];
}

/** The sudoers line that lets `user` run the gadget commands without a password (Debian's /usr/bin paths). */
export function gadgetSudoersRule(user: string): string {
  return `${user} ALL=(root) NOPASSWD: ${GADGET_COMMANDS.map((c) => `/usr/bin/${c}`).join(', ')}`;
}

export interface SudoExecOptions {
  /** The board's user, for the sudoers line of the error (default <user>). */
  user?: string;
}

export function sudoExec(exec: Exec, options: SudoExecOptions = {}): Exec {
  const rule = gadgetSudoersRule(options.user ?? '<user>');
  return {
    where: exec.where,
    async run(argv: string[], runOptions: ExecOptions = {}) {
      const result = await exec.run(asRoot(argv), { ...runOptions, nothrow: true });
      // What both Execs say when argv[0] is not found (exec.ts, ssh.ts's wrapper).
      if (result.exitCode === 127 && result.stderr.startsWith('sudo: command not found')) {
        throw new GadgetError(`${exec.where}: sudo is not installed on the board: install it (apt-get install sudo), or set sudo: false on the hub and reach the board as root`);
      }
      if (!result.ok && !result.timedOut && NEEDS_PASSWORD.test(result.stderr)) {
        throw new GadgetError(`${exec.where}: sudo -n needs a password for ${argv[0]} (configfs needs root): on the board, ` +
          `echo '${rule}' | sudo tee /etc/sudoers.d/dextbench-gadget; or set sudo: false on the hub and reach the board as root`);
      }
      if (!result.ok && !runOptions.nothrow) throw new ExecError(result);
      return result;
    },
    spawn: (argv, spawnOptions) => exec.spawn(asRoot(argv), spawnOptions),
    onRecord: (listener) => exec.onRecord(listener),
    close: () => exec.close(),
  };
}
