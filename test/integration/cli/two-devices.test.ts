// Two identical echo devices on one driver (rigs/sim-two-echo.yaml), through the real CLI: each
// role is its own device (found by its hub port's locationID), has its own service and dext
// process, and its channel reaches only that dext, so each dext's counters are its own.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachmentText, dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';

const rig = join(repoRoot, 'rigs/sim-two-echo.yaml');
const scenario = join(repoRoot, 'scenarios/driverkit/echo-two-devices-io.yaml');

test('echo-two-devices-io on rigs/sim-two-echo.yaml: both devices pass, each with its own service, channel and counters', async () => {
  const r = await dextbench(['run', '--rig', rig, '--reporter', 'list,json', scenario], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ .*\[sim-two-echo\] › .*echo-two-devices-io\.yaml:\d+:1 › two echo devices on one driver/);

  const [t, ...others] = readJsonReport(r.cwd);
  assert.equal(others.length, 0);
  assert.equal(t!.status, 'expected', t!.title);
  const events = attachmentText(t!.results[0]!.attachments.find((a) => a.name === 'timeline.jsonl')!)
    .trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const byDevice = (type: string, extra: (e: Record<string, unknown>) => boolean = () => true) =>
    new Map(events.filter((e) => e['type'] === type && extra(e)).map((e) => [e['device'], e]));

  const matched = byDevice('registry', (e) => e['change'] === 'service-matched');
  const opened = byDevice('channel-open');
  for (const role of ['echo-a', 'echo-b']) {
    assert.ok(matched.has(role), `${role} matched`);
    // The bridge opened exactly the service expect.matched saw on this device (decimal vs 0x hex).
    assert.equal(BigInt(opened.get(role)?.['registryId'] as string), BigInt(matched.get(role)!['serviceId'] as string), `${role}'s channel`);
  }
  const [a, b] = [matched.get('echo-a')!, matched.get('echo-b')!];
  assert.notEqual(a['providerId'], b['providerId'], 'two devices');
  assert.notEqual(a['serviceId'], b['serviceId'], 'two services');
  assert.notEqual(a['pid'], b['pid'], 'two dext processes');

  // Both io ran, and each GetStats step (its expect holds that device's own byte counts) passed.
  assert.deepEqual([...byDevice('io-start').keys()].sort(), ['echo-a', 'echo-b']);
  const stats = events.filter((e) => e['type'] === 'call' && e['method'] === 'GetStats').map((e) => e['device']);
  assert.deepEqual(stats, ['echo-a', 'echo-b']);
  const steps = events.filter((e) => e['type'] === 'step' && e['kind'] === 'call' && e['status'] !== 'started');
  assert.ok(steps.length >= 4 && steps.every((e) => e['status'] === 'passed'), JSON.stringify(steps));
  for (const measure of ['measure:io_a.MBps', 'measure:io_b.MBps']) {
    assert.match(t!.annotations.find((n) => n.type === measure)?.description ?? '', /^\d+(\.\d+)? MB\/s$/, measure);
  }
});
