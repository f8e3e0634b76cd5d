import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { attachmentText, dextbench, readJsonReport, repoRoot, scratchDir } from '../../support/cli.ts';

// Every shipped scenario, as folder/file.yaml (driverkit/, es/, ne/ …).
const shipped = readdirSync(join(repoRoot, 'scenarios'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort();
type ScenarioDoc = { name: string; uses?: { devices?: string[]; extensions?: Record<string, Record<string, unknown>> } };
const docOf = (file: string) => parse(readFileSync(join(repoRoot, 'scenarios', file), 'utf8')) as ScenarioDoc;
const nameOf = (file: string) => docOf(file).name;
const simRig = parse(readFileSync(join(repoRoot, 'rigs/sim.yaml'), 'utf8')) as { devices: Record<string, unknown>; extensions: Record<string, unknown> };
// Scenarios whose devices rigs/sim.yaml lacks (it has only echo), or an extension they take from
// the rig without a build of their own: the default run takes them to the shipped simulated rig
// that has them.
const rigOf = (file: string) => {
  const uses = docOf(file).uses ?? {};
  const borrowed = Object.entries(uses.extensions ?? {}).filter(([, d]) => !d['dext'] && !d['app'] && !d['systemExtension']).map(([name]) => name);
  return (uses.devices ?? []).every((role) => role in simRig.devices) && borrowed.every((name) => name in simRig.extensions) ? 'sim' : 'sim-two-echo';
};

test('npx dextbench run: every shipped scenario passes once, each on a simulated rig with its devices, with list, JUnit and JSON reports', async () => {
  const r = await dextbench(['run', '--reporter', 'list,junit,json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(shipped.length >= 6);
  assert.ok(shipped.some((f) => rigOf(f) !== 'sim'), 'a sample needs the two-echo rig');
  for (const file of shipped) {
    assert.match(r.stdout, new RegExp(`✓ .*\\[${rigOf(file)}\\] › .*scenarios/${escape(file)}:\\d+:1 › ${escape(nameOf(file))}`), `list line for ${file}`);
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
  // The ES scenarios take ExecGuard from the rig: only rigs/sim.yaml declares it.
  const es = shipped.filter((f) => f.startsWith('es/'));
  assert.ok(es.length >= 4);
  for (const file of es) {
    const on = (rig: string) => new RegExp(`\\[${rig}\\] › .*scenarios/${escape(file)}:`).test(r.stdout);
    assert.ok(on('sim') && !on('sim-two-echo'), `${file}: ${r.stdout}`);
  }
});

test('an extension taken from the rig picks the rig: with no --rig, a simulated project rig that declares it; none declaring it is one line naming the rigs', async () => {
  const project = join(repoRoot, 'test/fixtures/projects/extension-rigs');
  const output = scratchDir();
  const r = await dextbench(['run', '--list', '--output', output, 'scenarios'], { cwd: project });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // The project's rigs/sim.yaml has the echo device but no ExecGuard; rigs/sim-guard.yaml has both.
  assert.match(r.stdout, /\[sim-guard\] › \S*borrows-execguard\.yaml:2:1 ›/);
  assert.doesNotMatch(r.stdout, /\[sim\] › \S*borrows-execguard\.yaml/);
  // A build of its own needs nothing of the rig: the default rig runs it.
  assert.match(r.stdout, /\[sim\] › \S*brings-its-own\.yaml:2:1 ›/);
  assert.match(r.stdout, /Total: 2 tests in 2 files/);

  const typo = join(project, 'typo/misspelt-extension.yaml');
  const rigs = ['rigs/sim-ssh.yaml', 'rigs/sim-two-echo-ssh.yaml'].flatMap((f) => ['--rig', join(repoRoot, f)]);
  const refused = await dextbench(['run', '--list', '--output', output, ...rigs, typo]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const lines = refused.stderr.trim().split('\n');
  assert.equal(lines.length, 1, refused.stderr);
  assert.match(lines[0]!, /^\S*misspelt-extension\.yaml:5:16: uses\.extensions\.execgaurd: no rig declares an extension "execgaurd" \(sim-ssh: [^;]*\bexecguard\b[^;]*; sim-two-echo-ssh: echo-driver\); did you mean 'execguard'\?$/);
  assert.equal(refused.stdout, '', 'nothing listed, nothing run');
});
