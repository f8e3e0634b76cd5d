// The ES probe (dext-fixtures/esprobe/dextbench-esprobe, contract §4): a Perl script for the perl
// macOS ships, so nothing is built: it is copied (on stdin, so the same over ssh) to
// /Users/Shared/dextbench/esprobe/dextbench-esprobe with mode 0755 when it is missing or differs
// from this checkout's, and read back. Needed when the rig names a probe command or declares an
// Endpoint Security system extension (one whose Info.plist has NSEndpointSecurityMachServiceName,
// contract §1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/package-root.ts';
import { endpointSecurityExtensions } from '../host/tools/endpoint-security.ts';
import { ProvisionFailure, type ProvisionStep } from './context.ts';

const SOURCE = join(packageRoot, 'dext-fixtures', 'esprobe', 'dextbench-esprobe');
/** Where the probe lives on a real Mac (the message names this, also for a simulated Mac). */
export const ESPROBE_PATH_ON_MAC = '/Users/Shared/dextbench/esprobe/dextbench-esprobe';
// $1 the file; the script on stdin. Written beside it and renamed: a probe running meanwhile never sees half a file.
// One line, so a dry run shows it as one.
const INSTALL = 'set -e; umask 022; mkdir -p "$(dirname "$1")"; cat > "$1.tmp"; chmod 0755 "$1.tmp"; mv -f "$1.tmp" "$1"';

export const esprobe: ProvisionStep = {
  name: 'esprobe',
  async run(ctx) {
    const users = endpointSecurityExtensions(ctx.rig);
    if (!ctx.rig.esprobe && users.length === 0) return { status: 'not needed', detail: 'not needed (the rig declares no Endpoint Security extension and no esprobe)' };
    const script = readFileSync(SOURCE, 'utf8');
    const target = join(ctx.sharedDir, 'esprobe', 'dextbench-esprobe');
    const installed = await ctx.$({ nothrow: true, timeout: 15_000 })`cat ${target}`;
    if (installed.ok && installed.stdout === script) return { status: 'ready', detail: `already installed (${ESPROBE_PATH_ON_MAC})` };
    await ctx.act(['/bin/sh', '-c', INSTALL, 'install-esprobe', target], { input: script, inputShown: `${SOURCE} (${Buffer.byteLength(script)} bytes)` });
    if (!ctx.dryRun) {
      const back = await ctx.$({ nothrow: true, timeout: 15_000 })`cat ${target}`;
      if (back.stdout !== script) {
        throw new ProvisionFailure(`copied the ES probe to ${ESPROBE_PATH_ON_MAC}, yet it reads back different`, `check the disk and the permissions of ${ESPROBE_PATH_ON_MAC} on the Mac`);
      }
    }
    const verb = installed.ok ? 'updated' : 'installed';
    return {
      status: 'changed',
      did: `${verb} ${ESPROBE_PATH_ON_MAC}`,
      would: `copy dext-fixtures/esprobe/dextbench-esprobe to ${ESPROBE_PATH_ON_MAC}`,
    };
  },
};
