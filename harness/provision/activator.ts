// The activator (dext-fixtures/activator): when the rig's activator command does not answer
// `--help`, its sources are copied to the Mac (a tar archive on stdin, so the same over ssh) and its
// build.sh builds it there, into the folder of the rig's command (build.sh puts the launcher and the
// app side by side).
import { dirname } from 'node:path';
import { formatArgv } from '../host/exec.ts';
import { ProvisionFailure, type ProvisionStep } from './context.ts';
import { answersHelp, builtOrTarget, withFixturesOnMac } from './fixtures.ts';

const BUILD_TIMEOUT_MS = 15 * 60_000;

export const activator: ProvisionStep = {
  name: 'activator',
  async run(ctx) {
    const found = await builtOrTarget(ctx, 'activator', '/Users/Shared/dextbench/activator/dextbench-activator');
    if ('ready' in found) return found.ready;
    const { command } = found;
    const shown = formatArgv(command);
    const out = dirname(found.target);
    await withFixturesOnMac(ctx, ['activator'], async (dir) => {
      await ctx.act(['/bin/bash', `${dir}/activator/build.sh`, '--out', out, '--identity', ctx.rig.signing.identity], {
        timeoutMs: BUILD_TIMEOUT_MS,
        fix: 'the activator builds with the Xcode command line tools (see dext-fixtures/activator/README.md); run its build.sh on the Mac to see why it fails',
      });
    });
    if (!ctx.dryRun && !(await answersHelp(ctx, command))) {
      throw new ProvisionFailure(`built the activator into ${out}, yet ${shown} --help does not answer`, `run ${shown} --help on the Mac to see why`);
    }
    return { status: 'changed', did: `built into ${out} (signed with ${ctx.rig.signing.identity})`, would: `copy dext-fixtures/activator to the Mac and build it into ${out}` };
  },
};
