// `dextbench provision` on a fresh simulated Mac reached over a real OpenSSH server: the same zx
// scripts, through the ssh Exec. The first run acts (the sudo password on stdin over ssh), the
// second changes nothing; the activator's sources reach the Mac as a tar archive over ssh.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dextbench, scratchDir } from '../../support/cli.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { FRESH_MAC, simRigFile } from '../../support/sim-rig-file.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);

describe('provision over ssh', { skip }, () => {
  test('the first run acts, the second changes nothing', async () => {
    const sshd = await startSimSshd();
    const cwd = scratchDir('dextbench-provision-ssh-');
    const rig = simRigFile(cwd, 'fresh-ssh', { sim: FRESH_MAC, top: 'privileged: { sudo: true }', sshd });
    const first = await dextbench(['provision', '--rig', rig], { cwd, env: { DEXTBENCH_SUDO_PASSWORD: 'dextbench-sim' } });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trimEnd().split('\n'), [
      'provision: rig fresh-ssh (fresh-ssh.yaml) on simulated Mac "fresh-ssh" over ssh 127.0.0.1',
      '✓ command line tools: already installed (/Library/Developer/CommandLineTools)',
      '+ uhubctl: installed with Homebrew (/opt/homebrew/bin/uhubctl)',
      '+ sudoers: wrote /etc/sudoers.d/dextbench for the 6 commands dextbench runs as root (checked with visudo -c)',
      '✓ activator: already built (dextbench-activator answers)',
      '✓ bridge: already built (dextbench-bridge answers)',
      '- esprobe: not needed (the rig declares no Endpoint Security extension and no esprobe)',
      '- content filter: no content filter declared',
      '✓ MDM profiles: already installed: com.apple.system-extension-policy',
      '+ developer mode: turned on (SIP disabled)',
      'provisioned: 3 changes; the Mac is ready',
    ]);
    const second = await dextbench(['provision', '--rig', rig], { cwd, env: { DEXTBENCH_SUDO_PASSWORD: '' } });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trimEnd().split('\n').at(-1), 'nothing to do: the Mac is ready');
    assert.deepEqual(second.stdout.split('\n').filter((l) => l.startsWith('+') || l.startsWith('!')), []);
  });

  test('the activator\'s sources are copied over ssh and built there; a failing build stops the run at it', async () => {
    const sshd = await startSimSshd();
    const cwd = scratchDir('dextbench-provision-ssh-');
    const rig = simRigFile(cwd, 'no-activator-ssh', { sim: 'sip: disabled', sshd, top: `activator: { command: [${join(cwd, 'no-such-dir', 'dextbench-activator')}] }` });
    const stopped = await dextbench(['provision', '--rig', rig], { cwd });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^dextbench: provision stopped at activator: \/bin\/bash \S+\/activator\/build\.sh --out \S+\/no-such-dir --identity - exited with 1: build\.sh: DextbenchActivator builds on macOS only/);
  });

  test('a bridge that does not answer: the dry run over ssh prints the same build and install; the run stops at Homebrew', async () => {
    const sshd = await startSimSshd();
    const cwd = scratchDir('dextbench-provision-ssh-');
    const target = join(cwd, 'no-such-dir', 'dextbench-bridge');
    const rig = simRigFile(cwd, 'no-bridge-ssh', { sim: 'sip: disabled\ndeveloperMode: true\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }', sshd, top: `bridge: { command: [${target}] }` });
    const dry = await dextbench(['provision', '--rig', rig, '--dry-run'], { cwd });
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.split('\n').filter((l) => l.startsWith('+') || l.startsWith('    $ ')), [
      `+ bridge: would install nanopb and protobuf with Homebrew, copy dext-fixtures/{bridge,libdextbench,proto} to the Mac, build the bridge there and install it at ${target}`,
      '    $ brew install nanopb protobuf',
      '    $ mktemp -d',
      "    $ tar -xf - -C '<temp dir>'",
      "    $ make -C '<temp dir>/bridge' '<temp dir>/bridge/build/dextbench-bridge'",
      `    $ mkdir -p ${join(cwd, 'no-such-dir')}`,
      `    $ install -m 0755 '<temp dir>/bridge/build/dextbench-bridge' ${target}`,
      "    $ rm -rf '<temp dir>'",
    ]);
    const stopped = await dextbench(['provision', '--rig', rig], { cwd });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^dextbench: provision stopped at bridge: brew install nanopb protobuf exited with 1: Error: No available formula with the name "nanopb"/);
  });
});
