// csrutil: `status` prints the real line (§6.1). SIP can only change in Recovery, so the
// simulated Mac takes it from its config and refuses enable/disable like a booted Mac does.
import type { Tool } from './context.ts';

export const csrutil: Tool = ({ mac, argv, out, err }) => {
  const cmd = argv[0];
  if (cmd === 'status') {
    out(`System Integrity Protection status: ${mac.state.sip}.\n`);
    return 0;
  }
  if (cmd === 'enable' || cmd === 'disable' || cmd === 'clear') {
    err('csrutil: failed to modify system integrity configuration. This tool needs to be executed from within the Recovery OS.\n');
    return 1;
  }
  err('usage: csrutil <command>\nAvailable commands:\n    clear\n    disable\n    enable\n    status\n');
  return 64;
};
