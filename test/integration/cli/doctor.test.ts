// `dextbench doctor` as a user runs it, against the simulated Mac: one line per check, the exit code
// is the failing count, --json has the same checks; a Mac with pieces missing fails exactly those
// checks with their fixes, and the sudoers drop-in written to the contract of host/tools/sudo.ts
// (what provision installs) makes every sudo check pass.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { MACOS_TOOL_PATHS, privilegedCommands, sudoersDropIn } from '../../../harness/host/tools/sudo.ts';
import { attachSimulatedMac, simStateDirFor } from '../../../harness/rig/sim-launcher.ts';
import { loadRig } from '../../../harness/scenario/index.ts';
import { dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { checkLines, SIM_CHECKS } from '../../support/doctor-output.ts';

test('doctor on rigs/sim.yaml: one line per check, in order, the exit code counts the failures; --json has the same checks', async () => {
  const cwd = scratchDir();
  const text = await dextbench(['doctor'], { cwd });
  assert.equal(text.stderr, '');
  const lines = checkLines(text);
  assert.deepEqual(lines.map((l) => l.name), [...SIM_CHECKS, 'sudo -n eslogger', 'hub hub1', 'device echo', 'extension echo-driver', 'extension execguard', 'extension flowgate', 'lease']);
  assert.equal(text.code, 0);
  // A fresh simulated Mac: developer mode off, the device's port off (it has eslogger).
  assert.deepEqual(lines.filter((l) => l.mark !== '✓').map((l) => [l.mark, l.name]), [['!', 'developer mode'], ['!', 'device echo']]);
  assert.equal(lines.find((l) => l.name === 'developer mode')!.fix, 'systemextensionsctl developer on');
  assert.match(lines.find((l) => l.name === 'device echo')!.fix!, /^dextbench rig plug echo --rig \S*rigs\/sim\.yaml$/);
  assert.equal(lines.find((l) => l.name === 'macOS version')!.detail, 'macOS 15.5 (24F74)');
  assert.equal(lines.find((l) => l.name === 'lease')!.detail, 'free');
  assert.deepEqual(lines.find((l) => l.name === 'bridge'), { mark: '✓', name: 'bridge', detail: 'dextbench-bridge is installed' });

  const json = await dextbench(['doctor', '--json'], { cwd });
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.deepEqual(Object.keys(report), ['rig', 'host', 'checks']);
  assert.equal(report.rig, 'sim');
  assert.equal(report.host, 'simulated Mac "sim"');
  for (const check of report.checks) {
    assert.deepEqual(Object.keys(check), ['name', 'status', 'detail', 'fix']);
    assert.ok(['ok', 'warn', 'fail'].includes(check.status), check.status);
    assert.equal(typeof check.detail, 'string');
    assert.equal(check.fix === null, check.status === 'ok');
  }
  const marks = { ok: '✓', warn: '!', fail: '✘' } as const;
  assert.deepEqual(report.checks.map((c: { name: string; status: keyof typeof marks; detail: string; fix: string | null }) => [marks[c.status], c.name, c.detail, c.fix ?? undefined]),
    lines.map((l) => [l.mark, l.name, l.detail, l.fix]));

  const usage = await dextbench(['doctor', 'extra'], { cwd });
  assert.deepEqual([usage.code, usage.stderr.trim()], [2, 'dextbench: usage: dextbench doctor [--rig rigs/x.yaml] [--json]']);
});

test('a Mac without the command line tools and a privileged rig without the drop-in: exactly those checks fail; the drop-in fixes sudo', async () => {
  const cwd = scratchDir();
  mkdirSync(join(cwd, 'rigs'));
  const rigFile = join(cwd, 'rigs', 'bare.yaml');
  writeFileSync(rigFile, [
    'name: bare',
    'host: sim',
    'sim: { commandLineTools: false }',
    'privileged: { sudo: true }',
    'bridge: { command: [/Users/Shared/dextbench/bridge/dextbench-bridge] }',
    'hubs:',
    '  - { id: hub1, driver: uhubctl, location: "1-1", ports: 4 }',
    'devices:',
    `  echo: { profile: ${join(repoRoot, 'devices/echo.yaml')}, port: { hub: hub1, port: 2 } }`,
    '',
  ].join('\n'));
  const rig = loadRig(rigFile);
  const provision = '--rig rigs/bare.yaml';
  const sudoChecks = privilegedCommands(rig).map((c) => `sudo -n ${[c.tool, ...(c.args ?? [])].join(' ')}`);

  const before = await dextbench(['doctor', '--rig', 'rigs/bare.yaml'], { cwd });
  assert.equal(before.stderr, '');
  const failing = checkLines(before).filter((l) => l.mark === '✘');
  assert.deepEqual(failing.map((l) => [l.name, l.fix]), [
    ['command line tools', 'xcode-select --install'],
    ['swiftc', 'xcode-select --install'],
    ['bridge', `dextbench provision ${provision}`],
    ...sudoChecks.map((name) => [name, `dextbench provision ${provision}`]),
    // uhubctl runs under sudo -n on a privileged rig, so the hub cannot be read either.
    ['hub hub1', `dextbench provision ${provision}`],
  ]);
  assert.equal(before.code, 4 + sudoChecks.length);
  assert.equal(failing.find((l) => l.name === 'bridge')!.detail, '/Users/Shared/dextbench/bridge/dextbench-bridge is not installed (channel steps need it)');
  assert.ok(failing.filter((l) => l.name.startsWith('sudo')).every((l) => l.detail.startsWith('sudo: a password is required (')), before.stdout);

  // What provision does once (with the admin password), through the simulated Mac's own sudo.
  const sim = await attachSimulatedMac(rig, { stateDir: simStateDirFor(cwd, rig.name), repoRoot, who: 'doctor test' });
  try {
    const paths: Record<string, string> = { ...MACOS_TOOL_PATHS, uhubctl: '/opt/homebrew/bin/uhubctl' };
    const dropIn = join(cwd, 'dextbench.sudoers');
    writeFileSync(dropIn, sudoersDropIn(privilegedCommands(rig).map((c) => ({ path: paths[c.tool]!, ...(c.args ? { args: c.args } : {}) }))));
    assert.deepEqual(await onSim(sim.binDir, ['visudo', '-c', '-f', dropIn]), { code: 0, stdout: `${dropIn}: parsed OK\n`, stderr: '' });
    const installed = await onSim(sim.binDir, ['sudo', '-S', '-p', '', 'install', '-m', '0440', dropIn, '/etc/sudoers.d/dextbench'], 'dextbench-sim\n');
    assert.deepEqual(installed, { code: 0, stdout: '', stderr: '' });

    const after = await dextbench(['doctor', '--rig', 'rigs/bare.yaml'], { cwd });
    const lines = checkLines(after);
    assert.deepEqual(lines.filter((l) => l.mark === '✘').map((l) => l.name), ['command line tools', 'swiftc', 'bridge']);
    assert.equal(after.code, 3);
    for (const name of sudoChecks) assert.match(lines.find((l) => l.name === name)!.detail, /^runs \/\S+.* without a password$/);
    assert.equal(lines.find((l) => l.name === 'sudo -n kill')!.detail, 'runs /bin/kill -KILL 1 without a password');
    assert.deepEqual(lines.find((l) => l.name === 'device echo'), { mark: '!', name: 'device echo', detail: 'port off (hub1 port 2)', fix: `dextbench rig plug echo ${provision}` });
  } finally {
    await sim.detach();
  }
});

/** A command on the simulated Mac through its shims, as the rig's Exec runs it. */
async function onSim(binDir: string, argv: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await new LocalExec({ pathPrefix: [binDir] }).run(argv, { stdin, nothrow: true, timeoutMs: 10_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}
