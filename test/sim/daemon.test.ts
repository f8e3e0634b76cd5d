// The daemon's process contract: ready line, config errors, stdin close, resuming from state.json.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEXTS, ROOT, simConfig, startSim, waitFor, writeConfig } from './support.ts';
import { tempDir } from '../support/temp.ts';

function runDaemon(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'harness/sim/daemon.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

test('a bad config is one line on stderr and exit 2', async () => {
  const dir = tempDir('simbad-');
  const r = await runDaemon(['--config', writeConfig(simConfig({ sip: 'maybe' })), '--state-dir', dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /sip/);
  const hub = await runDaemon(['--config', writeConfig(simConfig({ devices: [{ ...(simConfig()['devices'] as object[])[0]!, hub: 'nohub' }] })), '--state-dir', dir]);
  assert.equal(hub.code, 2);
  assert.match(hub.stderr, /unknown hub "nohub"/);
  const missing = await runDaemon(['--state-dir', dir]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
});

test('ready line, shims in binDir, and exit when stdin closes', async () => {
  const sim = await startSim();
  try {
    for (const tool of ['systemextensionsctl', 'ioreg', 'log', 'csrutil', 'sw_vers', 'uhubctl', 'kill', 'reboot', 'dextbench-activator', 'dextbench-bridge']) {
      assert.ok(existsSync(join(sim.binDir, tool)), tool);
    }
    assert.ok(existsSync(sim.socket));
    sim.proc.stdin!.end();
    assert.equal(await sim.exited, 0);
  } finally {
    await sim.stop();
  }
});

test('state survives a daemon restart on the same state dir', async () => {
  const stateDir = tempDir('simresume-');
  const config = simConfig({ developerMode: true });
  const first = await startSim(config, stateDir);
  let pid: string;
  let sessionId: string;
  try {
    assert.equal((await first.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver'])).code, 0);
    assert.equal((await first.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on'])).code, 0);
    pid = await waitFor('dext running', async () => /"IOUserClientCreator" = "pid (\d+),/.exec((await first.run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout)?.[1]);
    sessionId = /"sessionID" = (\d+)/.exec((await first.run('ioreg', ['-r', '-n', 'Loopback', '-l', '-w0'])).stdout)![1]!;
  } finally {
    await first.stop();
  }
  assert.ok(existsSync(join(stateDir, 'state.json')));

  const second = await startSim(config, stateDir);
  try {
    const list = await second.run('systemextensionsctl', ['list']);
    assert.match(list.stdout, /^\*\t\*\tDXTBNCH001\tcom\.example\.echo\.driver \(1\.0\.0\/1\)\tcom\.example\.echo\.driver\t\[activated enabled\]$/m);
    assert.equal((await second.run('systemextensionsctl', ['developer'])).stdout, 'Developer mode is on\n');
    assert.match((await second.run('uhubctl', ['-l', '1-1', '-p', '2'])).stdout, /Port 2: 0503 power highspeed enable connect/);
    const dev = (await second.run('ioreg', ['-r', '-n', 'Loopback', '-l', '-w0'])).stdout;
    assert.ok(dev.includes(`"sessionID" = ${sessionId}`), 'same enumeration, same sessionID');
    assert.ok((await second.run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout.includes(`"pid ${pid}, com.example.echo"`));
    // History is kept too.
    const show = await second.run('log', ['show', '--style', 'ndjson', '--predicate', 'eventMessage ENDSWITH ") ok"']);
    assert.match(show.stdout, /{"count":1,"finished":1}\n$/);
  } finally {
    await second.stop();
  }
});
