// The sudoers drop-in for exactly the commands dextbench runs as root (host/tools/sudo.ts says which,
// and doctor checks the same with `sudo -n -l`). Written to a private temp folder on the Mac,
// checked with `visudo -c -f` (a drop-in that does not parse stops every sudo), then installed by
// root with mode 0440.
import { commandPath } from '../host/tools/command-path.ts';
import { MACOS_TOOL_PATHS, privilegedCommands, sudoAllows, sudoersDropIn, SUDOERS_DROP_IN, type PrivilegedCommand } from '../host/tools/sudo.ts';
import { ProvisionFailure, type ProvisionContext, type ProvisionStep } from './context.ts';
import { findHomebrew } from './homebrew.ts';

export const sudoers: ProvisionStep = {
  name: 'sudoers',
  async run(ctx) {
    const commands = privilegedCommands(ctx.rig);
    if (commands.length === 0) return { status: 'not needed', detail: 'not needed (privileged: { sudo: false }: dextbench runs nothing as root on this rig)' };
    const count = `${commands.length} command${commands.length === 1 ? '' : 's'} dextbench runs as root`;
    const refused = await refusedCommands(ctx, commands);
    if (refused.length === 0) return { status: 'ready', detail: `already allows the ${count} (${SUDOERS_DROP_IN})` };

    const rules = await Promise.all(commands.map(async (command) => ({ path: await absolutePath(ctx, command.tool), args: command.args })));
    const text = sudoersDropIn(rules);
    const dir = await ctx.act(['mktemp', '-d'], { dryRunOutput: '<temp dir>' });
    const file = `${dir}/dextbench`;
    try {
      await ctx.act(['tee', file], { input: text, inputShown: text.trimEnd() });
      await ctx.act(['visudo', '-c', '-f', file], { fix: 'the drop-in dextbench wrote does not parse: report it as a dextbench bug' });
      await ctx.actAsRoot(['install', '-m', '0440', file, SUDOERS_DROP_IN]);
    } finally {
      await ctx.act(['rm', '-rf', dir]).catch(() => undefined);
    }
    if (!ctx.dryRun) {
      const still = await refusedCommands(ctx, commands);
      if (still.length) {
        throw new ProvisionFailure(`installed ${SUDOERS_DROP_IN}, yet sudo -n -l still refuses ${still.map((r) => `${r.command.tool} (${r.said})`).join(', ')}`,
          'run sudo -l on the Mac: a rule read after the drop-in (in /etc/sudoers) overrides it');
      }
    }
    return {
      status: 'changed',
      did: `wrote ${SUDOERS_DROP_IN} for the ${count} (checked with visudo -c)`,
      would: `write ${SUDOERS_DROP_IN} for the ${count}, checked with visudo -c`,
    };
  },
};

/** The commands `sudo -n -l` does not allow without a password, and what sudo said. */
async function refusedCommands(ctx: ProvisionContext, commands: PrivilegedCommand[]): Promise<{ command: PrivilegedCommand; said: string }[]> {
  const answers = await Promise.all(commands.map(async (command) => ({ command, answer: await sudoAllows(ctx.exec, [command.tool, ...command.example]) })));
  return answers.flatMap(({ command, answer }) => (answer.allowed ? [] : [{ command, said: answer.said }]));
}

/** sudoers names commands by absolute path: Apple's are fixed; uhubctl is Homebrew's. */
async function absolutePath(ctx: ProvisionContext, tool: string): Promise<string> {
  const fixed = MACOS_TOOL_PATHS[tool];
  if (fixed) return fixed;
  const homebrew = tool === 'uhubctl' ? await findHomebrew(ctx.$) : undefined;
  if (homebrew) return `${homebrew.prefix}/bin/${tool}`;
  const found = await commandPath(ctx.exec, tool);
  if (found) return found;
  throw new ProvisionFailure(`${tool} is not installed, so sudoers cannot name its path`, `install ${tool} on the Mac, then run provision again`);
}
