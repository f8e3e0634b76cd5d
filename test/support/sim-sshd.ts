// `npm run sim:sshd`: Debian's OpenSSH server on 127.0.0.1:2722 with throwaway keys, so that
// rigs/sim-ssh.yaml reaches the simulated Mac over real ssh, exactly as a CI controller reaches a Mac.
// One per user of this machine (keys and config in ~/.dextbench/sim-sshd/); a second start finds it
// running and leaves it. It serves only key logins for the current user.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SIM_SSHD_PORT = 2722;
export const SIM_SSHD_DIR = join(homedir(), '.dextbench', 'sim-sshd');
const SSHD = '/usr/sbin/sshd';

export interface SimSshd {
  port: number;
  dir: string;
  identityFile: string;
  knownHosts: string;
  pid: number;
  /** True when this call started it (false: it was already running). */
  started: boolean;
}

export class SimSshdError extends Error {}

/** The config this script writes; a running sshd with another config is restarted. */
function sshdConfig(dir: string, port: number): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    // PAM needs root and a service file; key logins do not need it.
    'UsePAM no',
    // The throwaway files live in the user's home, whatever its mode.
    'StrictModes no',
    // bash sources ~/.bashrc for ssh commands unless SHLVL says it is nested (rigs/sim-ssh.yaml
    // sends SHLVL=1): this machine's login files are not part of what a rig measures.
    'AcceptEnv SHLVL',
    // Many commands start at once over one connection during a run; the default 10 unauthenticated
    // connections is about fresh connections, which the bench opens in a row.
    'MaxStartups 50:30:100',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

export async function startSimSshd(options: { port?: number; dir?: string } = {}): Promise<SimSshd> {
  const port = options.port ?? SIM_SSHD_PORT;
  const dir = options.dir ?? SIM_SSHD_DIR;
  if (!existsSync(SSHD)) throw new SimSshdError(`${SSHD} is missing: install the OpenSSH server (apt-get install openssh-server)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const identityFile = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'host_ed25519');
  const knownHosts = join(dir, 'known_hosts');
  for (const key of [hostKey, identityFile]) {
    if (!existsSync(key)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dextbench sim-sshd', '-f', key]);
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${identityFile}.pub`));
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const configFile = join(dir, 'sshd_config');
  const config = sshdConfig(dir, port);

  const running = runningPid(dir);
  if (running !== undefined) {
    const same = existsSync(configFile) && readFileSync(configFile, 'utf8') === config;
    if (same && (await listening(port))) return { port, dir, identityFile, knownHosts, pid: running, started: false };
    try { process.kill(running, 'SIGTERM'); } catch { /* gone already */ }
    await waitFor(() => runningPid(dir) === undefined, 3_000);
  }
  writeFileSync(configFile, config);
  if (await listening(port)) {
    throw new SimSshdError(`port ${port} on 127.0.0.1 is already in use by another program: stop it, or start this sshd on another port (npm run sim:sshd -- --port N) and set that port in rigs/sim-ssh*.yaml`);
  }
  // As root, sshd wants its privilege-separation directory (created by the service, not the package).
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const log = join(dir, 'sshd.log');
  rmSync(log, { force: true });
  const started = spawnSync(SSHD, ['-f', configFile, '-E', log], { encoding: 'utf8' });
  if (started.status !== 0) {
    throw new SimSshdError(`sshd did not start (exit ${started.status}): ${(started.stderr || readIf(log)).trim().split('\n').at(-1) ?? ''}`);
  }
  const up = await waitFor(async () => runningPid(dir) !== undefined && (await listening(port)), 5_000);
  const pid = runningPid(dir);
  if (!up || pid === undefined) throw new SimSshdError(`sshd did not listen on 127.0.0.1:${port} within 5 s: ${readIf(log).trim().split('\n').at(-1) ?? 'no log'}`);
  return { port, dir, identityFile, knownHosts, pid, started: true };
}

export function stopSimSshd(dir = SIM_SSHD_DIR): boolean {
  const pid = runningPid(dir);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  return true;
}

function runningPid(dir: string): number | undefined {
  const pid = Number(readIf(join(dir, 'sshd.pid')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (up: boolean) => { sock.destroy(); resolve(up); };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

function readIf(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  try {
    if (args.includes('--stop')) {
      console.log(stopSimSshd() ? 'sim sshd stopped' : 'sim sshd was not running');
    } else {
      const sshd = await startSimSshd(portAt >= 0 ? { port: Number(args[portAt + 1]) } : {});
      console.log(`sim sshd ${sshd.started ? 'started' : 'already running'} on 127.0.0.1:${sshd.port} (pid ${sshd.pid}, keys in ${sshd.dir})`);
      console.log(`try: npx dextbench run --rig rigs/sim-ssh.yaml`);
    }
  } catch (error) {
    console.error(`sim:sshd: ${(error as Error).message}`);
    process.exit(1);
  }
}
