// The message a person needs when an extension waits for approval: where to click, or how to
// pre-approve it for unattended rigs.
import type { SystemExtensionRow } from '../../host/parsers/index.ts';

const SETTINGS_PANE: Record<string, string> = {
  'com.apple.system_extension.driver_extension': 'Driver Extensions',
  'com.apple.system_extension.network_extension': 'Network Extensions',
  'com.apple.system_extension.endpoint_security': 'Endpoint Security Extensions',
};

/** The `dextbench profile` option that names an extension of each category. */
const PROFILE_OPTION: Record<string, string> = {
  'com.apple.system_extension.driver_extension': '--dext',
  'com.apple.system_extension.network_extension': '--ne-filter',
  'com.apple.system_extension.endpoint_security': '--es',
};

export const WAITING_FOR_USER = 'activated waiting for user';

export function approvalHint(bundleId: string, row: SystemExtensionRow | undefined, team: string | undefined): string {
  const version = row ? ` ${row.shortVersion}/${row.bundleVersion}` : '';
  const pane = SETTINGS_PANE[row?.category ?? ''] ?? 'Driver Extensions';
  const option = PROFILE_OPTION[row?.category ?? ''] ?? '--dext';
  const teamId = row?.teamId && row.teamId !== '-' ? row.teamId : team ?? '<TEAMID>';
  return `${bundleId}${version} is waiting for user approval [${WAITING_FOR_USER}]: ` +
    `approve it in System Settings > General > Login Items & Extensions > ${pane}, ` +
    `or pre-approve it on unattended rigs with the profile that ` +
    `\`dextbench profile --team ${teamId} ${option} ${bundleId} --removable -o rig.mobileconfig\` writes, delivered through MDM ` +
    `(its system-extension-policy payload has AllowedSystemExtensions: {${teamId}: [${bundleId}]}, and RemovableSystemExtensions so that ` +
    'cleanup can deactivate it without an admin prompt)';
}

/**
 * Deactivation asks for an admin's authorization unless an MDM system-extension-policy lists the
 * extension under RemovableSystemExtensions (macOS 12+): on an unattended rig, cleanup would stall
 * on that prompt.
 */
export function removalHint(bundleId: string, team: string | undefined): string {
  return `unattended deactivation needs the MDM system-extension-policy key RemovableSystemExtensions: {${team ?? '<TEAMID>'}: [${bundleId}]} (macOS 12+); ` +
    'without it macOS asks for an administrator\'s authorization';
}
