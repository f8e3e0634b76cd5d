// `dextbench doctor` on the simulated Mac reached over a real OpenSSH server (rigs/sim-ssh.yaml):
// the same checks, and the same answers, as locally.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { checkLines, SIM_CHECKS } from '../../support/doctor-output.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);

describe('doctor over ssh', { skip }, () => {
  test('doctor on rigs/sim-ssh.yaml: the same checks as locally, over ssh', async () => {
    await startSimSshd();
    const result = await dextbench(['doctor', '--rig', join(repoRoot, 'rigs/sim-ssh.yaml')], { cwd: scratchDir() });
    assert.equal(result.stderr, '');
    const lines = checkLines(result);
    assert.match(result.stdout, /^doctor: rig sim-ssh \(.*rigs\/sim-ssh\.yaml\) on simulated Mac "sim-ssh" over ssh 127\.0\.0\.1$/m);
    assert.deepEqual(lines.map((l) => l.name), [...SIM_CHECKS, 'sudo -n eslogger', 'hub hub1', 'device echo', 'extension echo-driver', 'extension execguard', 'extension flowgate', 'lease']);
    assert.equal(result.code, 0);
    assert.deepEqual(lines.find((l) => l.name === 'host reachable'), { mark: '✓', name: 'host reachable', detail: 'simulated Mac "sim-ssh" over ssh 127.0.0.1' });
    assert.deepEqual(lines.filter((l) => l.mark !== '✓').map((l) => l.name), ['developer mode', 'device echo']);
    assert.deepEqual(lines.find((l) => l.name === 'bridge'), { mark: '✓', name: 'bridge', detail: 'dextbench-bridge is installed' });
  });
});
