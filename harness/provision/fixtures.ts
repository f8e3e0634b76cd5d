// Programs of dext-fixtures that provision builds on the Mac (the activator, the bridge): whether the
// rig's command answers `--help`, and their sources copied to a temp folder on the Mac as one tar
// archive on stdin (so the same over ssh), removed again once built.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../common/package-root.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import { formatArgv } from '../host/exec.ts';
import { ProvisionFailure, type ProvisionContext, type StepOutcome } from './context.ts';

const FIXTURES = join(packageRoot, 'dext-fixtures');

/**
 * The rig's command for a fixture program (`activator` or `bridge`): ready when it answers, else the
 * absolute path to build it at; a name looked up on PATH does not say where, so it stops the run.
 */
export async function builtOrTarget(
  ctx: ProvisionContext, key: 'activator' | 'bridge', example: string,
): Promise<{ ready: StepOutcome } | { target: string; command: string[] }> {
  const command = ctx.rig[key].command;
  const shown = formatArgv(command);
  if (await answersHelp(ctx, command)) return { ready: { status: 'ready', detail: `already built (${shown} answers)` } };
  const target = command[0]!;
  if (!target.startsWith('/')) {
    throw new ProvisionFailure(`${shown} does not answer on the Mac, and ${target} is a name looked up on PATH, so provision does not know where to build it`,
      `set ${key}.command in ${ctx.rig.file} to an absolute path on the Mac (e.g. [${example}]); provision builds it there`);
  }
  return { target, command };
}

/** Whether `<command> --help` exits 0 on the Mac: installed, and it runs. */
export async function answersHelp(ctx: ProvisionContext, command: string[]): Promise<boolean> {
  return (await ctx.$({ nothrow: true, timeout: 30_000 })`${command} --help`).ok;
}

/** Copies `folders` of dext-fixtures into a fresh temp folder on the Mac, runs `use` with it, then removes it. */
export async function withFixturesOnMac(ctx: ProvisionContext, folders: string[], use: (dir: string) => Promise<void>): Promise<void> {
  const sources = await archive(folders);
  const dir = await ctx.act(['mktemp', '-d'], { dryRunOutput: '<temp dir>' });
  try {
    await ctx.act(['tar', '-xf', '-', '-C', dir], { input: sources, inputShown: `a tar archive of ${describeFolders(folders)}` });
    await use(dir);
  } finally {
    await ctx.act(['rm', '-rf', dir]).catch(() => undefined);
  }
}

/** `/…/dext-fixtures/activator`, or `/…/dext-fixtures/{bridge,libdextbench,proto}`. */
function describeFolders(folders: string[]): string {
  return folders.length === 1 ? join(FIXTURES, folders[0]!) : join(FIXTURES, `{${folders.join(',')}}`);
}

/** Folders of dext-fixtures as one tar archive, without build output (COPYFILE_DISABLE: no ._ files from a Mac). */
async function archive(folders: string[]): Promise<Buffer> {
  try {
    const { stdout } = await promisify(execFile)('tar', ['-cf', '-', '--exclude=build', '-C', FIXTURES, ...folders], {
      encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env: { ...process.env, COPYFILE_DISABLE: '1' },
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new ProvisionFailure(`packing ${describeFolders(folders)} with tar failed: ${oneLine(stderr) || (error as Error).message}`, 'install tar on this machine');
  }
}
