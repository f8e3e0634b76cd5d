// An upgrade scenario finished by the reboot step, run as a user runs it, on a privileged simulated
// rig provisioned as a CI Mac is (a sudoers drop-in for the commands that need root): locally, and
// over ssh (npm run sim:sshd) as a CI controller drives a Mac.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TOOL_NAMES } from '../../../harness/sim/server.ts';
import { attachmentText, dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';
import { lane, NEEDS } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';

const projects = join(repoRoot, 'test/fixtures/projects');

const overSsh = { skip: lane('reboot over ssh (OpenSSH server on 127.0.0.1)', [NEEDS.sshd, NEEDS.ssh]) };

for (const [rig, options] of [['sim-privileged', {}], ['sim-ssh-privileged', overSsh]] as const) {
  test(`upgrade, then reboot on ${rig}: the old version's terminated row is gone, the device matches 1.1.0, and the timeline shows the restart`, options, async () => {
    if (rig === 'sim-ssh-privileged') await startSimSshd();
    await upgradeThenReboot(rig);
  });
}

async function upgradeThenReboot(rig: string): Promise<void> {
  // This machine's own shutdown and sudo must never be reached (tests may run as root).
  for (const tool of ['shutdown', 'sudo', 'sysctl']) assert.ok(TOOL_NAMES.includes(tool), `the simulated Mac has no ${tool}`);
  const cwd = scratchDir();
  const dropIns = join(cwd, `.dextbench/sim/${rig}/fs/etc/sudoers.d`);
  mkdirSync(dropIns, { recursive: true });
  writeFileSync(join(dropIns, 'dextbench'), '%admin ALL = (root) NOPASSWD: /opt/homebrew/bin/uhubctl, /usr/bin/systemextensionsctl, /sbin/shutdown -r now\n');

  const r = await dextbench(['run', '--reporter', 'list,json', '--rig', join(projects, `rigs/${rig}.yaml`), join(projects, 'reboot')], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [t] = readJsonReport(cwd);
  assert.equal(t!.status, 'expected');
  assert.match(t!.results[0]!.annotations?.find((a) => a.type === 'measure:reboot_down')?.description ?? '', /^\d+ ms$/);
  const events = attachmentText(t!.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const argvs = events.filter((e) => e['type'] === 'exec').map((e) => (e['argv'] as string[]).join(' '));
  assert.ok(argvs.includes('sudo -n shutdown -r now'), 'restarted through sudo -n');
  assert.ok(argvs.filter((a) => a === 'sysctl -n kern.boottime').length >= 2, 'the boot time read before and after');
  const reboot = events.filter((e) => e['type'] === 'reboot');
  assert.deepEqual(reboot.map((e) => e['phase']), ['requested', 'back']);
  assert.ok(Date.parse(reboot[1]!['bootTime'] as string) > Date.parse(reboot[0]!['bootTime'] as string), 'a later boot');
  const steps = events.filter((e) => e['type'] === 'step' && e['status'] !== 'started').map((e) => `${e['kind']}:${e['status']}`);
  assert.deepEqual(steps.slice(steps.indexOf('reboot:passed')), ['reboot:passed', 'measure:passed', 'sysext.expect:passed', 'run:passed', 'expect.matched:passed', 'unplug:passed', 'sysext.deactivate:passed']);
}
