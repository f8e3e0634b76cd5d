// systemextensionsctl: list / developer / uninstall / reset in the real formats (§1, §2).
import type { ExtensionRow } from '../state.ts';
import { reset, uninstall, versionOf } from '../sysext.ts';
import type { Tool } from './context.ts';

// Printed on stdout: the captures (§2-A) do not say which stream it goes to.
const SIP_REFUSAL =
  'At this time, this tool cannot be used if System Integrity Protection is enabled.\n' +
  'This limitation will be removed in the near future.\n' +
  'Please remember to re-enable System Integrity Protection!\n';

const USAGE =
  'systemextensionsctl: usage:\n' +
  'systemextensionsctl developer [on|off]\n' +
  'systemextensionsctl list [category]\n' +
  'systemextensionsctl reset - reset all System Extensions state\n' +
  "systemextensionsctl uninstall <teamId> <bundleId>; can also accept '-' for teamID\n";

const LABELS: Record<string, string> = {
  'com.apple.system_extension.driver_extension': 'Driver Extensions',
  'com.apple.system_extension.network_extension': 'Network Extensions',
  'com.apple.system_extension.endpoint_security': 'Endpoint Security Extensions',
  'com.apple.system_extension.cmio': 'Camera Extensions',
};

const CATEGORY_ORDER = [
  'com.apple.system_extension.network_extension',
  'com.apple.system_extension.endpoint_security',
  'com.apple.system_extension.driver_extension',
];

/** Unknown categories after the ones §1-G orders (a stable sort keeps them in order of appearance). */
function categoryRank(category: string): number {
  const i = CATEGORY_ORDER.indexOf(category);
  return i === -1 ? CATEGORY_ORDER.length : i;
}

function rowLine(r: ExtensionRow): string {
  const enabled = r.state === 'activated enabled' ? '*' : '';
  const active = r.state.startsWith('activated') ? '*' : '';
  return [enabled, active, r.teamId, `${r.bundle} (${versionOf(r)})`, r.name, `[${r.state}]`].join('\t');
}

export function renderList(rows: ExtensionRow[], productVersion: string): string {
  // INFERRED (§1.2): the "(Go to 'System Settings …')" suffix came with System Settings, macOS 13.
  const suffixed = Number(productVersion.split('.')[0]) >= 13;
  const lines = [`${rows.length} extension(s)`];
  // INFERRED (§1-G, the one capture with several categories): network extensions, then endpoint
  // security, then drivers, each block with its own header line and column header.
  const categories = [...new Set(rows.map((r) => r.category))]
    .sort((a, b) => categoryRank(a) - categoryRank(b));
  for (const category of categories) {
    const label = LABELS[category];
    lines.push(`--- ${category}${suffixed && label ? ` (Go to 'System Settings > General > Login Items & Extensions > ${label}' to modify these system extension(s))` : ''}`);
    lines.push('enabled\tactive\tteamID\tbundleID (version)\tname\t[state]');
    for (const r of rows.filter((x) => x.category === category)) lines.push(rowLine(r));
  }
  return lines.join('\n') + '\n';
}

export const systemextensionsctl: Tool = ({ mac, argv, out, err }) => {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'list': {
      const rows = args[0] ? mac.state.extensions.filter((r) => r.category === args[0]) : mac.state.extensions;
      out(renderList(rows, mac.config.macos.productVersion));
      return 0;
    }
    case 'developer': {
      if (args.length === 0) {
        out(`Developer mode is ${mac.state.developerMode ? 'on' : 'off'}\n`);
        return 0;
      }
      if (args[0] !== 'on' && args[0] !== 'off') { err(USAGE); return 1; }
      // Unconfirmed: the refusal text for `developer on|off` with SIP on was never captured; the
      // reference only shows this text for reset/uninstall (§2-A), so the same is printed here.
      if (mac.state.sip === 'enabled') { out(SIP_REFUSAL); return 1; }
      // Unconfirmed: no capture shows what `developer on|off` prints on success; it prints nothing here.
      mac.state.developerMode = args[0] === 'on';
      mac.settle();
      return 0;
    }
    case 'uninstall': {
      // The SIP check comes before argument checks (1-A passed only a bundle id and still got it).
      if (mac.state.sip === 'enabled') { out(SIP_REFUSAL); return 1; }
      if (args.length !== 2) { err(USAGE); return 1; }
      // Unconfirmed: the error for an unknown team/bundle and the success output were never captured.
      if (!uninstall(mac, args[0]!, args[1]!)) { err(`No extension found matching ${args[0]} ${args[1]}\n`); return 1; }
      return 0;
    }
    case 'reset': {
      if (mac.state.sip === 'enabled') { out(SIP_REFUSAL); return 1; }
      // Unconfirmed: the success output of `reset` was never captured; it prints nothing here.
      reset(mac);
      return 0;
    }
    default:
      err(USAGE);
      return 1;
  }
};
