import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { attachmentText, dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';

const shipped = readdirSync(join(repoRoot, 'scenarios/driverkit')).filter((f) => f.endsWith('.yaml'));
const docOf = (file: string) => parse(readFileSync(join(repoRoot, 'scenarios/driverkit', file), 'utf8')) as { name: string; uses?: { devices?: string[] } };
const nameOf = (file: string) => docOf(file).name;
// Scenarios whose devices rigs/sim.yaml lacks (it has only echo): the default run takes them to the
// shipped simulated rig that has them.
const rigOf = (file: string) => ((docOf(file).uses?.devices ?? []).every((role) => role === 'echo') ? 'sim' : 'sim-two-echo');

test('npx dextbench run: every shipped scenario passes once, each on a simulated rig with its devices, with list, JUnit and JSON reports', async () => {
  const r = await dextbench(['run', '--reporter', 'list,junit,json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(shipped.length >= 6);
  assert.ok(shipped.some((f) => rigOf(f) !== 'sim'), 'a sample needs the two-echo rig');
  for (const file of shipped) {
    assert.match(r.stdout, new RegExp(`✓ .*\\[${rigOf(file)}\\] › .*scenarios/driverkit/${escape(file)}:\\d+:1 › ${escape(nameOf(file))}`), `list line for ${file}`);
  }
  assert.match(r.stdout, new RegExp(`${shipped.length} passed`));
  assert.doesNotMatch(r.stdout, /skipped/);

  const tests = readJsonReport(r.cwd);
  assert.equal(tests.length, shipped.length);
  for (const t of tests) {
    assert.equal(t.status, 'expected', t.title);
    const timeline = t.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl');
    assert.ok(timeline, `${t.title} has a timeline`);
    const events = attachmentText(timeline).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.type === 'step' && e.status === 'passed'), t.title);
    assert.ok(events.some((e) => e.type === 'exec' && Array.isArray(e.argv)), t.title);
  }
  const approval = tests.find((t) => t.file.endsWith('echo-needs-approval.yaml'))!;
  const expected = approval.annotations.find((a) => a.type === 'expected failure');
  assert.match(expected?.description ?? '', /waiting for user approval \[activated waiting for user\]: approve it in System Settings/);

  const junit = readFileSync(join(r.cwd, 'dextbench-report/junit.xml'), 'utf8');
  assert.match(junit, /<property name="measure:plug_to_match" value="\d+ ms">/);
  assert.equal((junit.match(/<testcase /g) ?? []).length, shipped.length);
});

test('a failing scenario: its message, the YAML line, the timeline and the failure artifacts', async () => {
  const r = await dextbench(['run', '--reporter', 'list,json', join(repoRoot, 'test/fixtures/projects/failing')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /echo \(1d6b:0104 serial ECHO0001, hub1 port 2\) was not matched by NotTheEchoDriver within 700ms: enumerated as "Loopback" id 0x[0-9a-f]+, services: EchoDriver <IOUserService>/);
  assert.match(r.stdout, /wrong-user-class\.yaml:13/);
  assert.doesNotMatch(r.stdout, /harness\/(steps|engine|rig)\//, 'no harness stack frames');

  const [t] = readJsonReport(r.cwd);
  assert.equal(t!.status, 'unexpected');
  const attachments = new Map(t!.results[0]!.attachments.map((a) => [a.name, attachmentText(a)]));
  for (const name of ['timeline.jsonl', 'systemextensionsctl-list.txt', 'ioreg-usb.txt', 'unified-log.txt']) assert.ok(attachments.has(name), name);
  assert.match(attachments.get('systemextensionsctl-list.txt')!, /com\.example\.echo\.driver \(1\.0\.0\/1\)/);
  assert.match(attachments.get('ioreg-usb.txt')!, /Loopback/);
  assert.match(attachments.get('unified-log.txt')!, /DK: EchoDriver-0x[0-9a-f]+::start\(/);

  const events = attachments.get('timeline.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
  const steps = events.filter((e) => e.type === 'step' && e.status !== 'started');
  assert.deepEqual(steps.map((e) => `${e.phase}:${e.kind}:${e.status}`), [
    'setup:sysext.developer:passed', 'setup:sysext.activate:passed',
    'steps:plug:passed', 'steps:expect.matched:failed',
    'cleanup:sysext.deactivate:passed',
  ]);
  assert.match(steps[3].error, /not matched by NotTheEchoDriver/);
  assert.ok(events.some((e) => e.type === 'exec' && e.argv[0] === 'uhubctl'), 'hub commands recorded');
  assert.ok(events.some((e) => e.type === 'registry' && e.change === 'device-added'), 'registry change recorded');
  const safeAt = events.findIndex((e) => e.type === 'safe-state');
  assert.ok(safeAt > 0, 'the rig was left safe');
  assert.ok(events.slice(0, safeAt).some((e) => e.type === 'exec' && e.argv[0] === 'uhubctl' && e.argv.includes('off')), 'ports switched off');
  assert.equal(events.at(-1).type, 'scenario-end');
});

test('expect.no_crash fails on a crash of the dext during the scenario, quoting the kernel lines', async () => {
  const r = await dextbench(['run', join(repoRoot, 'test/fixtures/projects/crash')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /com\.example\.echo\.driver crashed during the scenario: .*DK: Loopback-0x[0-9a-f]+ rematching after dext crash/);
  assert.match(r.stdout, /crash-not-expected\.yaml:16/);
});

test('a missing .dext fails before activation, in one line naming the path and the fix', async () => {
  const project = join(repoRoot, 'test/fixtures/projects/missing-dext');
  const r = await dextbench(['run', project]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const line = `extension echo-driver: no .dext at ${join(project, 'no-such-build/EchoDriver.dext')} on simulated Mac "sim"; ` +
    'build it first, or fix uses.extensions.echo-driver.dext';
  assert.match(r.stdout, new RegExp(escape(line)));
  assert.match(r.stdout, /missing-dext\.yaml:11/);
  assert.doesNotMatch(r.stdout + r.stderr, /extensionNotFound|dextbench-activator/);
});

test('--grep runs one scenario; --list runs none', async () => {
  const r = await dextbench(['run', '--grep', 'hot unplug']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 passed/);
  assert.match(r.stdout, /echo-hotplug\.yaml/);
  const list = await dextbench(['run', '--list']);
  assert.equal(list.code, 0, list.stdout + list.stderr);
  assert.match(list.stdout, new RegExp(`Total: ${shipped.length} tests in ${shipped.length} files`));
});

test('Playwright options pass through: --shard splits scenarios, --repeat-each multiplies them', async () => {
  const half = Math.ceil(shipped.length / 2);
  const shard = await dextbench(['run', '--list', '--shard', '1/2']);
  assert.equal(shard.code, 0, shard.stdout + shard.stderr);
  assert.match(shard.stdout, new RegExp(`Total: ${half} tests? in ${half} files?`));
  const repeat = await dextbench(['run', '--list', '--repeat-each=2', join(repoRoot, 'scenarios/driverkit/echo-hotplug.yaml')]);
  assert.equal(repeat.code, 0, repeat.stdout + repeat.stderr);
  assert.match(repeat.stdout, /Total: 2 tests in 1 file/);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('several --rig: each scenario is listed for the rigs that have its devices, and only those', async () => {
  const r = await dextbench(['run', '--list', '--rig', join(repoRoot, 'rigs/sim.yaml'), '--rig', join(repoRoot, 'rigs/sim-two-echo.yaml')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const listed = (rig: string, file: string) => new RegExp(`\\[${rig}\\] › .*scenarios/driverkit/${escape(file)}:`).test(r.stdout);
  assert.ok(listed('sim', 'echo-hotplug.yaml') && !listed('sim-two-echo', 'echo-hotplug.yaml'), r.stdout);
  assert.ok(listed('sim-two-echo', 'echo-two-devices-io.yaml') && !listed('sim', 'echo-two-devices-io.yaml'), r.stdout);
  // No devices: both rigs can run it.
  assert.ok(listed('sim', 'echo-needs-approval.yaml') && listed('sim-two-echo', 'echo-needs-approval.yaml'), r.stdout);
});
