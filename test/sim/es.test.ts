// The simulated Mac's Endpoint Security through its shims, as real processes: eslogger (root and
// Full Disk Access, unknown names, v9 before macOS 26 and v10 from it, parsed by the harness's own
// parser), dextbench-esprobe against ExecGuard's policy from the delivered config, ExecGuard's log
// lines, and exec allowed while the crashed client is down, denied again once launchd relaunched it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { normaliseEvent, type EsEvent } from '../../harness/es/events.ts';
import { parseExecGuardLine } from '../../harness/es/execguard.ts';
import { parseEsloggerLine } from '../../harness/host/parsers/index.ts';
import { simConfig, startSim, waitFor, type Sim } from './support.ts';

const EXECGUARD = join(new URL('../..', import.meta.url).pathname, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension');

function config(productVersion: string, fullDiskAccess = ['eslogger', 'com.example.execguard']): Record<string, unknown> {
  return simConfig({
    developerMode: true, macos: { productName: 'macOS', productVersion, buildVersion: '1A1' },
    policy: { allowedTeamIdentifiers: ['DXTBNCH001'], allowedSystemExtensions: {} },
    tcc: { fullDiskAccess }, passwordlessSudo: ['/usr/bin/eslogger'], timing: { enumerateMs: 15, matchMs: 15, activateMs: 30, relaunchMs: 600 },
  });
}

async function withExecGuard(sim: Sim, denyExec: string[]): Promise<number> {
  const dir = join(sim.stateDir, 'fs/Users/Shared/dextbench/config');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'com.example.execguard.json'), `${JSON.stringify({ denyExec, denySigningIds: [] }, null, 2)}\n`);
  const activated = await sim.run('dextbench-activator', ['activate', '--sysext', EXECGUARD, '--bundle', 'com.example.execguard']);
  assert.equal(activated.code, 0, activated.stderr);
  return waitFor('the ExecGuard process', async () => Number((await sim.run('pgrep', ['-f', 'com.example.execguard.systemextension/Contents/MacOS/'])).stdout.trim()) || undefined);
}

/** `sudo -n eslogger <names>` running; its events as the harness parses them. */
function eslogger(sim: Sim, names: string[]): { events: EsEvent[]; lines: string[]; stop(): void } {
  const child = spawn('sudo', ['-n', 'eslogger', ...names], { env: sim.env() });
  const events: EsEvent[] = [];
  const lines: string[] = [];
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) { lines.push(line); events.push(normaliseEvent(parseEsloggerLine(line)!)); }
  });
  return { events, lines, stop: () => child.kill() };
}

const probe = async (sim: Sim, ...args: string[]) => {
  const r = await sim.run('dextbench-esprobe', args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

test('eslogger: root only, Full Disk Access, unknown names refused whole; --list-events needs neither', async () => {
  const sim = await startSim(config('15.5', ['com.example.execguard']));
  try {
    const plain = await sim.run('eslogger', ['exec']);
    assert.deepEqual([plain.code, /ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED/.test(plain.stderr)], [1, true]);
    const noFda = await sim.run('sudo', ['-n', 'eslogger', 'exec']);
    assert.deepEqual([noFda.code, /ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED/.test(noFda.stderr)], [1, true]);
    const unknown = await sim.run('sudo', ['-n', 'eslogger', 'exec', 'nosuchevent']);
    assert.deepEqual([unknown.code, unknown.stderr.trim().split('\n').length, /nosuchevent/.test(unknown.stderr)], [1, 1, true]);
    const list = await sim.run('eslogger', ['--list-events']);
    assert.equal(list.code, 0);
    for (const name of ['exec', 'fork', 'exit', 'open', 'rename', 'unlink', 'signal', 'mount', 'trace']) assert.ok(list.stdout.split('\n').includes(name), name);
  } finally {
    await sim.stop();
  }
});

for (const [productVersion, version] of [['15.5', 9], ['26.0', 10]] as const) {
  test(`macOS ${productVersion}: message version ${version}; a denied exec is EPERM, logged, and has no exec event; an allowed one has its args`, async () => {
    const sim = await startSim(config(productVersion));
    try {
      await withExecGuard(sim, ['/usr/bin/nc']);
      const log = eslogger(sim, ['exec', 'fork', 'exit', 'create', 'rename', 'signal']);
      await new Promise((r) => setTimeout(r, 300));
      const denied = await probe(sim, 'exec', '/usr/bin/nc', '-z', 'blocked.example', '443');
      assert.deepEqual([denied['ok'], denied['errno'], denied['errnoName']], [false, 1, 'EPERM']);
      const allowed = await probe(sim, 'exec', '/usr/bin/true', 'a b');
      assert.deepEqual([allowed['ok'], allowed['exitStatus']], [true, 0]);
      assert.equal((await probe(sim, 'create', '/tmp/es-test-file'))['ok'], true);
      assert.equal((await probe(sim, 'create', '/tmp/es-test-file'))['errnoName'], 'EEXIST');
      assert.equal((await probe(sim, 'rename', '/tmp/es-test-file', '/tmp/es-test-moved'))['ok'], true);
      assert.deepEqual([(await probe(sim, 'signal', 'TERM'))['signal']], ['SIGTERM']);
      await waitFor('the events', async () => log.events.some((e) => e.event === 'signal'));
      log.stop();
      assert.ok(log.events.every((e) => e.version === version));
      // v10: audit tokens are arrays; v9: objects.
      assert.equal(/"audit_token":\[/.test(log.lines[0]!), version === 10);
      assert.ok(!log.events.some((e) => e.event === 'exec' && e.target?.path === '/usr/bin/nc'), 'no exec of the denied path');
      const exec = log.events.find((e) => e.event === 'exec' && e.target?.path === '/usr/bin/true')!;
      assert.deepEqual([exec.args, exec.pid], [['/usr/bin/true', 'a b'], allowed['pid']]);
      assert.ok(log.events.some((e) => e.event === 'create' && e.path === '/private/tmp/es-test-file'));
      assert.ok(log.events.some((e) => e.event === 'rename' && e.to === '/private/tmp/es-test-moved'));
      assert.ok(log.events.some((e) => e.event === 'signal' && e.signal === 'SIGTERM'));
      const globals = log.events.map((e) => e.globalSeqNum!);
      assert.deepEqual(globals, globals.map((_, i) => BigInt(i + 1)), 'global_seq_num counts every event, without gaps');
      const lines = (await sim.run('log', ['show', '--last', '1m', '--predicate', 'subsystem == "com.example.execguard"'])).stdout;
      const parsed = lines.split('\n').map((l) => parseExecGuardLine(l.replace(/^.*\[com\.example\.execguard:policy\] /, ''))).filter(Boolean);
      assert.deepEqual(parsed[0], { kind: 'started', result: 'ES_NEW_CLIENT_RESULT_SUCCESS' });
      assert.ok(parsed.some((p) => p?.kind === 'deny' && p.path === '/usr/bin/nc' && p.pid === denied['pid'] && p.rule === 'path'));
    } finally {
      await sim.stop();
    }
  });
}

test('a crashed ES client allows exec until launchd relaunches it; no Full Disk Access: es_new_client fails and nothing is denied', async () => {
  const sim = await startSim(config('15.5'));
  try {
    const pid = await withExecGuard(sim, ['/usr/bin/nc']);
    assert.equal((await probe(sim, 'exec', '/usr/bin/nc'))['errnoName'], 'EPERM');
    assert.equal((await sim.run('kill', ['-9', String(pid)])).code, 0);
    assert.equal((await probe(sim, 'exec', '/usr/bin/nc'))['ok'], true, 'allowed while the client is down');
    await waitFor('the relaunch', async () => (await sim.run('pgrep', ['-f', 'com.example.execguard.systemextension/Contents/MacOS/'])).code === 0, 5000);
    assert.equal((await probe(sim, 'exec', '/usr/bin/nc'))['errnoName'], 'EPERM', 'denied again');
  } finally {
    await sim.stop();
  }
  const unpermitted = await startSim(config('15.5', ['eslogger']));
  try {
    await withExecGuard(unpermitted, ['/usr/bin/nc']);
    assert.equal((await probe(unpermitted, 'exec', '/usr/bin/nc'))['ok'], true);
    const lines = (await unpermitted.run('log', ['show', '--last', '1m', '--predicate', 'subsystem == "com.example.execguard"'])).stdout;
    assert.match(lines, /ExecGuard failed: es_new_client ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED/);
  } finally {
    await unpermitted.stop();
  }
});
