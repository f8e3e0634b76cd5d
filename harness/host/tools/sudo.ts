// sudo on the Mac: the commands dextbench runs as root (always as `sudo -n`, which never prompts),
// the sudoers drop-in that lets them run without a password, and asking sudo whether a command would
// (`sudo -n -l <command>` prints the command's full path when it may run, and runs nothing).
// `privileged: { sudo: true }` opts into root for what also works, less well, without it (developer
// mode, uninstall, signalling dexts, restarting); eslogger has no such mode (not root:
// ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED), so the ES steps run it through sudo on every rig that
// declares an Endpoint Security extension or probe, and it is listed whatever `privileged` says.
// The one place that says what needs root: doctor checks these, provision writes their rules.
import type { Exec } from '../exec.ts';
import { endpointSecurityExtensions } from './endpoint-security.ts';
import { oneLine } from './tool-error.ts';

/** The drop-in dextbench owns; sudo reads /etc/sudoers.d through macOS's `#includedir`. */
export const SUDOERS_DROP_IN = '/etc/sudoers.d/dextbench';
/** Who the rules are for: every admin account of the Mac (the CI user must be one). */
export const SUDOERS_GROUP = '%admin';

/** Where Apple's tools live on every Mac; uhubctl is Homebrew's (`$(brew --prefix)/bin/uhubctl`). */
export const MACOS_TOOL_PATHS: Readonly<Record<string, string>> = {
  systemextensionsctl: '/usr/bin/systemextensionsctl',
  kill: '/bin/kill',
  shutdown: '/sbin/shutdown',
  eslogger: '/usr/bin/eslogger',
};

export interface PrivilegedCommand {
  /** The tool as dextbench runs it (a name found on the host's PATH). */
  tool: string;
  /** The sudoers argument pattern (`*` any text); absent: any arguments. */
  args?: string[];
  /** A command line of the kind dextbench runs, to ask `sudo -n -l` about. */
  example: string[];
  /** What needs it. */
  why: string;
}

/** What a rig needs run as root depends on: privileged, its hubs, its Endpoint Security extensions or probe. */
export interface PrivilegedRig {
  privileged: { sudo: boolean };
  hubs: readonly { driver: string }[];
  extensions: Readonly<Record<string, { bundle: string; systemExtension?: string }>>;
  esprobe?: unknown;
}

/**
 * What dextbench runs as root on a rig: on a privileged rig the lifecycle, fault and reboot commands,
 * and hub power when it has uhubctl hubs; on every rig, eslogger when it declares an Endpoint
 * Security extension or an ES probe (the provisioned probe's rule). Empty: sudo is not used.
 */
export function privilegedCommands(rig: PrivilegedRig): PrivilegedCommand[] {
  const eslogger: PrivilegedCommand[] = rig.esprobe !== undefined || endpointSecurityExtensions(rig).length
    // The ES steps' event stream: eslogger refuses to run unless root (ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED).
    ? [{ tool: 'eslogger', example: ['exec', 'fork', 'exit'], why: 'the eslogger stream of es.expect and es.forbid' }]
    : [];
  if (!rig.privileged.sudo) return eslogger;
  const commands: PrivilegedCommand[] = [
    { tool: 'systemextensionsctl', args: ['developer', 'on'], example: ['developer', 'on'], why: 'sysext.developer: on' },
    { tool: 'systemextensionsctl', args: ['developer', 'off'], example: ['developer', 'off'], why: 'sysext.developer: off' },
    { tool: 'systemextensionsctl', args: ['uninstall', '*'], example: ['uninstall', '-', 'com.example.driver'], why: 'sysext.uninstall' },
    // Dexts run as _driverkit; the fault step signals one by its pid, which changes every launch.
    { tool: 'kill', example: ['-KILL', '1'], why: 'fault: crash-dext' },
  ];
  if (rig.hubs.some((hub) => hub.driver === 'uhubctl')) {
    commands.push({ tool: 'uhubctl', example: ['-l', '1-1'], why: 'hub port power' });
  }
  commands.push(...eslogger);
  commands.push({ tool: 'shutdown', args: ['-r', 'now'], example: ['-r', 'now'], why: 'the reboot step' });
  return commands;
}

/** `%admin ALL=(root) NOPASSWD: /usr/bin/systemextensionsctl developer on` */
export function sudoersRule(absolutePath: string, args?: readonly string[]): string {
  if (!absolutePath.startsWith('/') || /[\s,:=\\]/.test(absolutePath)) throw new Error(`sudoers: not a plain absolute path: ${JSON.stringify(absolutePath)}`);
  const escaped = args?.map((a) => {
    if (a === '' || /\s/.test(a)) throw new Error(`sudoers: an argument must be one word, got ${JSON.stringify(a)}`);
    return a.replace(/[,:=\\]/g, '\\$&');
  });
  return `${SUDOERS_GROUP} ALL=(root) NOPASSWD: ${absolutePath}${escaped?.length ? ` ${escaped.join(' ')}` : ''}`;
}

/** The whole drop-in: one rule a line, for commands at their absolute paths on the Mac. */
export function sudoersDropIn(rules: readonly { path: string; args?: readonly string[] }[]): string {
  return ['# dextbench: the commands it runs as root with sudo -n (written by dextbench provision; checked with visudo -c)',
    ...rules.map((r) => sudoersRule(r.path, r.args)), ''].join('\n');
}

export type SudoAnswer = { allowed: true; path: string } | { allowed: false; said: string };

/** Whether `sudo -n <argv>` would run without a password; nothing is run. */
export async function sudoAllows(exec: Exec, argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<SudoAnswer> {
  const result = await exec.run(['sudo', '-n', '-l', ...argv], { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true, idempotent: true });
  if (result.ok) return { allowed: true, path: oneLine(result.stdout) };
  const said = oneLine(result.stderr) || oneLine(result.stdout) || (result.timedOut ? `timed out after ${result.durationMs} ms` : `exit ${result.exitCode}`);
  return { allowed: false, said };
}
