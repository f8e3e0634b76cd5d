// Developer mode (`systemextensionsctl developer on`, extensions load from anywhere), when SIP allows:
// SIP off, or a custom configuration with Kext Signing off (as doctor reads csrutil status).
import { parseCsrutilStatus } from '../host/parsers/index.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import { ProvisionFailure, type ProvisionContext, type ProvisionStep } from './context.ts';

const SIP_FIX = 'in macOS Recovery\'s Terminal: csrutil disable (or csrutil enable --without kext), restart, then run provision again';

export const developerMode: ProvisionStep = {
  name: 'developer mode',
  async run(ctx) {
    if (await isOn(ctx)) return { status: 'ready', detail: 'already on' };
    const status = await ctx.$({ timeout: 15_000 })`csrutil status`;
    const sip = parseCsrutilStatus(status.stdout);
    const allows = sip.status === 'disabled' || sip.configuration['Kext Signing'] === false;
    if (!allows) {
      return { status: 'warning', detail: `off, and SIP is ${sip.status}${sip.qualifier ? ` (${sip.qualifier})` : ''}: extensions load only from an app in /Applications`, fix: SIP_FIX };
    }
    await ctx.actAsRoot(['systemextensionsctl', 'developer', 'on']);
    if (!ctx.dryRun && !(await isOn(ctx))) {
      throw new ProvisionFailure('systemextensionsctl developer on succeeded, yet developer mode is still off', 'run systemextensionsctl developer on the Mac');
    }
    return { status: 'changed', did: `turned on (SIP ${sip.status})`, would: `turn on (SIP ${sip.status})` };
  },
};

async function isOn(ctx: ProvisionContext): Promise<boolean> {
  const out = await ctx.$({ nothrow: true, timeout: 15_000 })`systemextensionsctl developer`;
  const m = /Developer mode is (on|off)/i.exec(`${out.stdout}\n${out.stderr}`);
  if (!m) throw new ProvisionFailure(`systemextensionsctl developer printed no "Developer mode is on|off": ${oneLine(out.stdout + out.stderr) || `exit ${out.exitCode}`}`);
  return m[1]!.toLowerCase() === 'on';
}
