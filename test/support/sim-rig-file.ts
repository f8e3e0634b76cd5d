// A rig file for a simulated Mac with the echo device on a uhubctl hub, written into a scratch
// folder, for tests that need a Mac in a given state (a fresh one for provision, a locked one…).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.ts';
import type { SimSshd } from './sim-sshd.ts';

/** A Mac provision has work on: uhubctl not installed, developer mode off (SIP off; MDM approves echo). */
export const FRESH_MAC = `sip: disabled
developerMode: false
approvedExtensions: { DXTBNCH001: [com.example.echo.driver] }
homebrew: { uhubctl: false }`;

export interface SimRigOptions {
  /** The YAML under `sim:`, one setting a line. */
  sim: string;
  /** More top-level YAML (privileged:, activator:, …). */
  top?: string;
  /** Reach the simulated Mac over this sshd instead of running its commands here. */
  sshd?: SimSshd;
}

export function simRigFile(dir: string, name: string, { sim, top = '', sshd }: SimRigOptions): string {
  const file = join(dir, `${name}.yaml`);
  const host = sshd
    ? `{ ssh: 127.0.0.1, port: ${sshd.port}, identityFile: ${sshd.identityFile}, options: [UserKnownHostsFile=${sshd.knownHosts}, SetEnv=SHLVL=1] }`
    : 'sim';
  writeFileSync(file, `name: ${name}
host: ${host}
sim:
${sim.split('\n').map((l) => `  ${l}`).join('\n')}
${top}
hubs:
  - { id: hub1, driver: uhubctl, location: "1-1", ports: 4 }
devices:
  echo: { profile: ${join(repoRoot, 'devices/echo.yaml')}, port: { hub: hub1, port: 2 } }
extensions:
  echo-driver: { dext: ${join(repoRoot, 'dext-fixtures/echo/sim/EchoDriver-1.0.0.dext')}, bundle: com.example.echo.driver }
`);
  return file;
}
