// The channel bridge (dext-fixtures/bridge), which every channel step runs on the Mac: when the rig's
// bridge command does not answer `--help`, nanopb and protobuf (protoc) come from Homebrew, the
// bridge's sources with libdextbench and the channel's .proto are copied to the Mac, built there with
// make, and the IOKit binary is installed at the command's path.
// The formula names and what they install (nanopb_generator, pb.h, libprotobuf-nanopb.a; protoc) are
// those libdextbench/nanopb.mk expects, not from the reference: unconfirmed.
import { dirname } from 'node:path';
import { formatArgv } from '../host/exec.ts';
import { ProvisionFailure, type ProvisionStep } from './context.ts';
import { answersHelp, builtOrTarget, withFixturesOnMac } from './fixtures.ts';
import { installFormulae, missingFormulae, requireHomebrew, type Homebrew } from './homebrew.ts';

const FOLDERS = ['bridge', 'libdextbench', 'proto'];
const FORMULAE = ['nanopb', 'protobuf'];
const BUILD_TIMEOUT_MS = 15 * 60_000;

export const bridge: ProvisionStep = {
  name: 'bridge',
  async run(ctx) {
    const found = await builtOrTarget(ctx, 'bridge', '/Users/Shared/dextbench/bridge/dextbench-bridge');
    if ('ready' in found) return found.ready;
    const { command, target } = found;
    const shown = formatArgv(command);
    const homebrew = await requireHomebrew(ctx.$, 'the bridge builds with nanopb and protobuf from it');
    const missing = await missingFormulae(ctx.$, homebrew, FORMULAE);
    if (missing.length) await installFormulae(ctx, homebrew, missing);
    const make = makeCommand(homebrew, (await ctx.$({ timeout: 15_000 })`printenv PATH`).stdout.trim());
    await withFixturesOnMac(ctx, FOLDERS, async (dir) => {
      // Only the IOKit binary: the stand-ins the Makefile also builds are for Linux tests.
      await ctx.act([...make, '-C', `${dir}/bridge`, `${dir}/bridge/build/dextbench-bridge`], {
        timeoutMs: BUILD_TIMEOUT_MS,
        fix: 'the bridge builds with the Xcode command line tools and Homebrew\'s nanopb (see dext-fixtures/bridge/README.md); run its make on the Mac to see why it fails',
      });
      await ctx.act(['mkdir', '-p', dirname(target)]);
      await ctx.act(['install', '-m', '0755', `${dir}/bridge/build/dextbench-bridge`, target]);
    });
    if (!ctx.dryRun && !(await answersHelp(ctx, command))) {
      throw new ProvisionFailure(`installed the bridge at ${target}, yet ${shown} --help does not answer`, `run ${shown} --help on the Mac to see why`);
    }
    const formulae = missing.length ? `${missing.join(' and ')} with Homebrew, ` : '';
    return {
      status: 'changed',
      did: `${missing.length ? `installed ${formulae}` : ''}built and installed at ${target}`,
      would: `${missing.length ? `install ${formulae}` : ''}copy dext-fixtures/{${FOLDERS.join(',')}} to the Mac, build the bridge there and install it at ${target}`,
    };
  },
};

/**
 * make, so that nanopb.mk finds Homebrew's nanopb: it asks `brew --prefix` when brew is on PATH, and
 * the generator and protoc it runs are looked up on PATH too. When brew was found off PATH (where its
 * installer puts it), Homebrew's bin goes first on make's PATH (`pathOnMac`: the Mac's own PATH).
 */
export function makeCommand(homebrew: Homebrew, pathOnMac: string): string[] {
  if (homebrew.brew === 'brew') return ['make'];
  return ['env', `PATH=${homebrew.prefix}/bin${pathOnMac ? `:${pathOnMac}` : ''}`, 'make'];
}
