// The NE scenarios pass over ssh as they do locally: rigs/sim-ssh.yaml is the simulated Mac reached
// through a real OpenSSH server on 127.0.0.1 (npm run sim:sshd), so the activator's filter verbs,
// curl, nc, dig and FlowGate's `log stream` all run there, and the rules are delivered through the
// ssh Exec.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { attachmentText, dextbench, readJsonReport, repoRoot, type ReportTest } from '../../support/cli.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);
const shipped = readdirSync(join(repoRoot, 'scenarios/ne')).filter((f) => f.endsWith('.yaml'));

type Event = { type: string } & Record<string, unknown>;

function timeline(tests: ReportTest[], file: string): Event[] {
  const run = tests.find((t) => t.file.endsWith(`scenarios/ne/${file}`))!;
  return attachmentText(run.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!)
    .trim().split('\n').map((l) => JSON.parse(l) as Event);
}

describe('NE scenarios over ssh', { skip }, () => {
  before(async () => { await startSimSshd(); });

  test('every shipped NE scenario passes on the simulated Mac reached over ssh', async () => {
    const r = await dextbench(['run', '--rig', join(repoRoot, 'rigs/sim-ssh.yaml'), '--reporter', 'list,json', join(repoRoot, 'scenarios/ne')], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const tests = readJsonReport(r.cwd);
    assert.ok(shipped.length >= 3);
    for (const file of shipped) {
      const runs = tests.filter((t) => t.file.endsWith(`scenarios/ne/${file}`));
      assert.equal(runs.length, 1, `${file} ran`);
      assert.equal(runs[0]!.status, 'expected', `${runs[0]!.title}`);
      assert.equal(runs[0]!.projectName, 'sim-ssh');
    }
    // The filter went on, the blocked flow was killed by it (not refused or timed out), both verdicts
    // were read from the log stream over ssh, and the filter went off again in cleanup.
    const events = timeline(tests, 'flowgate-drop-and-allow.yaml');
    assert.deepEqual(events.filter((e) => e.type === 'ne-filter').map((e) => e['enabled']), [true, false, false]);
    assert.deepEqual(events.filter((e) => e.type === 'ne-connect').map((e) => e['outcome']), ['killed', 'allowed']);
    assert.deepEqual(events.filter((e) => e.type === 'ne-verdict').length, 2);
    const dns = timeline(tests, 'flowgate-dns-drop.yaml');
    assert.deepEqual(dns.filter((e) => e.type === 'ne-dns').map((e) => e['outcome']), ['timedOut', 'allowed']);
  });
});
