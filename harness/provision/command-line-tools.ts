// The Xcode command line tools (swiftc builds the activator). Installing them opens a dialog someone
// must click through, so provision only checks, and stops with the command that starts it.
import { oneLine } from '../host/tools/tool-error.ts';
import { ProvisionFailure, type ProvisionStep } from './context.ts';

export const commandLineTools: ProvisionStep = {
  name: 'command line tools',
  async run({ $ }) {
    const dir = await $({ nothrow: true, timeout: 15_000 })`xcode-select -p`;
    if (dir.ok && dir.stdout.trim()) return { status: 'ready', detail: `already installed (${dir.stdout.trim()})` };
    const said = oneLine(dir.stderr) || `exit ${dir.exitCode}`;
    throw new ProvisionFailure(`not installed (xcode-select -p: ${said})`,
      'run xcode-select --install on the Mac and click Install in the dialog it opens (provision cannot click for you), then run provision again');
  },
};
