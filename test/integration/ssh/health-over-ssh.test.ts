// Rig health on the simulated Mac reached over a real OpenSSH server: `rig check`, `rig state` and
// the run's refusal read and write the same <rig>.health beside the lease, through ssh.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';
import { simRigFile } from '../../support/sim-rig-file.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);

describe('rig health over ssh', { skip }, () => {
  test('rig check sets good over ssh; rig state maintenance makes the next run refuse in one line; status shows it', async () => {
    const sshd = await startSimSshd();
    const cwd = scratchDir();
    const file = simRigFile(cwd, 'h-ssh', {
      sim: 'sip: disabled\ndeveloperMode: false\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }',
      top: `health: ${join(repoRoot, 'scenarios/health/echo-rig.yaml')}`,
      sshd,
    });
    const healthFile = join(cwd, '.dextbench/sim/h-ssh/fs/Users/Shared/dextbench/leases/h-ssh.health');
    const check = await dextbench(['rig', 'check', '--rig', file], { cwd });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(JSON.parse(readFileSync(healthFile, 'utf8')).state, 'good');

    const set = await dextbench(['rig', 'state', 'maintenance', '--why', 'moving the Mac', '--rig', file], { cwd });
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual([JSON.parse(readFileSync(healthFile, 'utf8')).state, JSON.parse(readFileSync(healthFile, 'utf8')).why], ['maintenance', 'moving the Mac']);
    const status = await dextbench(['rig', 'status', '--rig', file], { cwd });
    assert.match(status.stdout, /^ {2}health: maintenance, set by dextbench rig state \(\S+\) at \S+: moving the Mac$/m);
    const scenario = join(cwd, 'no-device.yaml');
    writeFileSync(scenario, 'name: needs no device\nsteps:\n  - wait: 10ms\n');
    const run = await dextbench(['run', '--rig', file, scenario], { cwd });
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, /^Error: rig "h-ssh" is in maintenance \(set by dextbench rig state, \S+, at \S+\): moving the Mac; to put it back in service: dextbench rig state good --why "…" --rig h-ssh\.yaml$/m);
  });
});
