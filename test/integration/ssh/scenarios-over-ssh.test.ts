// Every shipped DriverKit scenario, the channel ones included, passes over ssh exactly as it does
// locally: rigs/sim-ssh.yaml and rigs/sim-two-echo-ssh.yaml are the simulated Macs reached through
// a real OpenSSH server on 127.0.0.1 (npm run sim:sshd), so every command, log stream and bridge
// crosses ssh, and every .dext is sent to the Mac's stage folder before it is activated.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { attachmentText, dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);
const shipped = readdirSync(join(repoRoot, 'scenarios/driverkit')).filter((f) => f.endsWith('.yaml'));

describe('DriverKit scenarios over ssh', { skip }, () => {
  before(async () => { await startSimSshd(); });

  test('every shipped DriverKit scenario passes on the simulated Macs reached over ssh', async () => {
    const rigs = ['rigs/sim-ssh.yaml', 'rigs/sim-two-echo-ssh.yaml'].flatMap((r) => ['--rig', join(repoRoot, r)]);
    const r = await dextbench(['run', ...rigs, '--reporter', 'list,json'], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const tests = readJsonReport(r.cwd);
    for (const file of shipped) {
      const runs = tests.filter((t) => t.file.endsWith(`scenarios/driverkit/${file}`));
      assert.ok(runs.length >= 1, `${file} ran`);
      for (const t of runs) {
        assert.equal(t.status, 'expected', `${t.title} on ${t.projectName}`);
        assert.match(t.projectName, /-ssh$/);
      }
    }
    // The activations went through bundles sent to the Mac, not through this machine's paths.
    const install = tests.find((t) => t.file.endsWith('echo-install-match.yaml'))!;
    const events = attachmentText(install.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!)
      .trim().split('\n').map((l) => JSON.parse(l) as { type: string; argv?: string[]; to?: string });
    const staged = events.find((e) => e.type === 'stage');
    const stageDir = join(r.cwd, '.dextbench/sim/sim-ssh/fs/Users/Shared/dextbench/stage');
    assert.ok(staged?.to?.startsWith(`${stageDir}/`) && staged.to.endsWith("/EchoDriver-1.0.0.dext"), `${stageDir}: ${JSON.stringify(staged)}`);
    const activation = events.find((e) => e.type === 'exec' && e.argv?.includes('activate'));
    assert.ok(activation?.argv?.includes(staged!.to!), `the activator got the staged path: ${JSON.stringify(activation?.argv)}`);
  });
});
