// The ES scenarios pass over ssh as they do locally: rigs/sim-ssh.yaml is the simulated Mac reached
// through a real OpenSSH server on 127.0.0.1 (npm run sim:sshd), so eslogger runs as `sudo -n
// eslogger` over ssh, the probe runs there, and the config is delivered through the ssh Exec.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { attachmentText, dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);
const shipped = readdirSync(join(repoRoot, 'scenarios/es')).filter((f) => f.endsWith('.yaml'));

describe('ES scenarios over ssh', { skip }, () => {
  before(async () => { await startSimSshd(); });

  test('every shipped ES scenario passes on the simulated Mac reached over ssh', async () => {
    const r = await dextbench(['run', '--rig', join(repoRoot, 'rigs/sim-ssh.yaml'), '--reporter', 'list,json', join(repoRoot, 'scenarios/es')], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const tests = readJsonReport(r.cwd);
    assert.ok(shipped.length >= 4);
    for (const file of shipped) {
      const runs = tests.filter((t) => t.file.endsWith(`scenarios/es/${file}`));
      assert.equal(runs.length, 1, `${file} ran`);
      assert.equal(runs[0]!.status, 'expected', `${runs[0]!.title}`);
      assert.equal(runs[0]!.projectName, 'sim-ssh');
    }
    // eslogger ran as root through sudo -n, and was stopped by cleanup with nothing dropped.
    const denied = tests.find((t) => t.file.endsWith('execguard-deny-exec.yaml'))!;
    const events = attachmentText(denied.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!)
      .trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; argv?: string[]; dropped?: string });
    assert.deepEqual(events.find((e) => e.type === 'eslogger' && e.phase === 'started')?.argv?.slice(0, 3), ['sudo', '-n', 'eslogger']);
    assert.equal(events.find((e) => e.type === 'eslogger' && e.phase === 'stopped')?.dropped, '0');
  });

  test('es.mount: an image beside the scenario is sent to the Mac\'s stage folder, and the probe attaches that copy', async () => {
    const scenario = join(repoRoot, 'test/fixtures/projects/es-mount/mount-image.yaml');
    const r = await dextbench(['run', '--rig', join(repoRoot, 'rigs/sim-ssh.yaml'), '--reporter', 'list,json', scenario], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [t] = readJsonReport(r.cwd);
    const events = attachmentText(t!.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!)
      .trim().split('\n').map((l) => JSON.parse(l) as { type: string; from?: string; to?: string; action?: string; path?: string; ok?: boolean });
    const image = join(repoRoot, 'test/fixtures/projects/es-mount/blank.dmg');
    const staged = events.find((e) => e.type === 'stage');
    const stageDir = join(r.cwd, '.dextbench/sim/sim-ssh/fs/Users/Shared/dextbench/stage');
    assert.equal(staged?.from, image);
    assert.match(staged?.to ?? '', new RegExp(`^${stageDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[0-9a-f]{16}/blank\\.dmg$`));
    assert.deepEqual(readFileSync(staged!.to!), readFileSync(image), 'the copy on the Mac has the same bytes');
    const probe = events.find((e) => e.type === 'es-probe');
    assert.deepEqual([probe?.action, probe?.path, probe?.ok], ['mount', staged!.to, true]);
  });
});
