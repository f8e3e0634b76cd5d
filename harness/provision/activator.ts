// The activator (dext-fixtures/activator): when the rig's activator command does not answer
// `--help`, its sources are copied to the Mac (a tar archive on stdin, so the same over ssh) and its
// build.sh builds it there, into the folder of the rig's command (build.sh puts the launcher and the
// app side by side).
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../common/package-root.ts';
import { formatArgv } from '../host/exec.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import { ProvisionFailure, type ProvisionContext, type ProvisionStep } from './context.ts';

const FIXTURES = join(packageRoot, 'dext-fixtures');
const BUILD_TIMEOUT_MS = 15 * 60_000;

export const activator: ProvisionStep = {
  name: 'activator',
  async run(ctx) {
    const command = ctx.rig.activator.command;
    const shown = formatArgv(command);
    if (await answers(ctx, command)) return { status: 'ready', detail: `already built (${shown} answers)` };
    const launcher = command[0]!;
    if (!launcher.startsWith('/')) {
      throw new ProvisionFailure(`${shown} does not answer on the Mac, and ${launcher} is a name looked up on PATH, so provision does not know where to build it`,
        `set activator.command in ${ctx.rig.file} to an absolute path on the Mac (e.g. [/Users/Shared/dextbench/activator/dextbench-activator]); provision builds it there`);
    }
    const out = dirname(launcher);
    const sources = await archive('activator');
    const dir = await ctx.act(['mktemp', '-d'], { dryRunOutput: '<temp dir>' });
    try {
      await ctx.act(['tar', '-xf', '-', '-C', dir], { input: sources, inputShown: `a tar archive of ${join(FIXTURES, 'activator')}` });
      await ctx.act(['/bin/bash', `${dir}/activator/build.sh`, '--out', out, '--identity', ctx.rig.signing.identity], {
        timeoutMs: BUILD_TIMEOUT_MS,
        fix: 'the activator builds with the Xcode command line tools (see dext-fixtures/activator/README.md); run its build.sh on the Mac to see why it fails',
      });
    } finally {
      await ctx.act(['rm', '-rf', dir]).catch(() => undefined);
    }
    if (!ctx.dryRun && !(await answers(ctx, command))) {
      throw new ProvisionFailure(`built the activator into ${out}, yet ${shown} --help does not answer`, `run ${shown} --help on the Mac to see why`);
    }
    return { status: 'changed', did: `built into ${out} (signed with ${ctx.rig.signing.identity})`, would: `copy dext-fixtures/activator to the Mac and build it into ${out}` };
  },
};

async function answers(ctx: ProvisionContext, command: string[]): Promise<boolean> {
  return (await ctx.$({ nothrow: true, timeout: 30_000 })`${command} --help`).ok;
}

/** A folder of dext-fixtures as a tar archive, without build output (COPYFILE_DISABLE: no ._ files from a Mac). */
async function archive(folder: string): Promise<Buffer> {
  try {
    const { stdout } = await promisify(execFile)('tar', ['-cf', '-', '--exclude=build', '-C', FIXTURES, folder], {
      encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env: { ...process.env, COPYFILE_DISABLE: '1' },
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new ProvisionFailure(`packing ${join(FIXTURES, folder)} with tar failed: ${oneLine(stderr) || (error as Error).message}`, 'install tar on this machine');
  }
}
