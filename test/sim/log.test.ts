// The unified log on the simulated Mac: predicates, log show, log stream (live, through the shim).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { parsePredicate, PredicateError, type LogEntry } from '../../harness/sim/log.ts';
import { DEXTS, simConfig, startSim, type Sim } from './support.ts';

function entry(over: Partial<LogEntry>): LogEntry {
  return {
    us: 0n, machTimestamp: 0n, traceID: 0n, threadID: 1, messageType: 'Default', subsystem: '', category: '',
    processID: 0, processImagePath: '/kernel', senderImagePath: '/kernel', eventMessage: '', ...over,
  };
}

describe('predicates', () => {
  const kernel = entry({ eventMessage: 'DK: EchoDriver-0x100000a45::start(Loopback-0x100000a40) ok' });
  const sysextd = entry({ processImagePath: '/usr/libexec/sysextd', senderImagePath: '/usr/libexec/sysextd', subsystem: 'com.apple.sx', category: 'StateChanges', eventMessage: 'extension X advancing state' });
  const dext = entry({ processImagePath: '/L/S/U/com.example.echo.driver.dext/com.example.echo.driver', senderImagePath: '/L/S/U/com.example.echo.driver.dext/com.example.echo.driver.dext', eventMessage: 'hello' });

  test('fields, operators, modifiers, quotes and boolean structure', () => {
    const cases: Array<[string, LogEntry, boolean]> = [
      ['process == "kernel"', kernel, true],
      ["process == 'kernel'", sysextd, false],
      ['sender == "com.example.echo.driver.dext"', dext, true],
      ['process == "com.example.echo.driver"', dext, true],
      ['subsystem == "com.apple.sx" AND category == "StateChanges"', sysextd, true],
      ['eventMessage CONTAINS "::start("', kernel, true],
      ['eventMessage BEGINSWITH "DK:" && NOT eventMessage ENDSWITH "fail"', kernel, true],
      ['eventMessage contains[c] "echodriver"', kernel, true],
      ['eventMessage CONTAINS "echodriver"', kernel, false],
      ['(process == "sysextd" OR process == "kernel") AND NOT eventMessage CONTAINS "ok"', kernel, false],
      ['process != "kernel" || sender == "kernel"', kernel, true],
      ['processImagePath ENDSWITH "/sysextd"', sysextd, true],
      ['sender == "sysextd" or sender CONTAINS "org.pqrs"', sysextd, true],
    ];
    for (const [src, e, want] of cases) assert.equal(parsePredicate(src)(e), want, src);
  });

  test('anything outside the subset is a parse error', () => {
    for (const bad of ['', 'process ==', 'process == "x" AND', 'foo == "x"', 'process LIKE "x"', '(process == "x"', 'process == "x', 'process == "x" "y"']) {
      assert.throws(() => parsePredicate(bad), PredicateError, bad);
    }
  });
});

function ndjsonLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('{'));
}

describe('log show and log stream', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(simConfig({ developerMode: true }));
    const r = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
    assert.equal(r.code, 0);
  });
  after(async () => { await sim.stop(); });

  test('log show --style ndjson: notice, matching objects with the real keys, then the footer', async () => {
    const r = await sim.run('log', ['show', '--style', 'ndjson', '--predicate', 'process == "kernelmanagerd"', '--predicate', 'category == "XPC"']);
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'Filtering the log data using "process == "kernelmanagerd" OR category == "XPC""');
    const objs = ndjsonLines(r.stdout);
    const footer = objs.pop()!;
    assert.equal(footer, `{"count":${objs.length},"finished":1}`);
    assert.ok(objs.length >= 3);
    for (const line of objs) {
      const o = JSON.parse(line) as Record<string, unknown>;
      for (const key of ['timestamp', 'eventMessage', 'messageType', 'eventType', 'subsystem', 'category', 'processID', 'processImagePath', 'senderImagePath', 'traceID', 'threadID', 'machTimestamp']) {
        assert.ok(key in o, `${key} in ${line}`);
      }
      assert.equal(o['eventType'], 'logEvent');
      assert.match(o['timestamp'] as string, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{4}$/);
      assert.ok(o['processImagePath'] === '/usr/libexec/kernelmanagerd' || o['category'] === 'XPC');
      // traceID is written as an exact integer, and these are all above 2^53.
      const raw = /"traceID":(\d+)/.exec(line)![1]!;
      assert.ok(BigInt(raw) > 2n ** 53n);
      assert.match(line, /"processImagePath":"\\\/usr\\\/libexec\\\//);
    }
  });

  test('--start in the future and --last filter by time; default style has the header', async () => {
    const future = await sim.run('log', ['show', '--style', 'ndjson', '--start', '2999-01-01 00:00:00']);
    assert.deepEqual(ndjsonLines(future.stdout), ['{"count":0,"finished":1}']);
    const recent = await sim.run('log', ['show', '--style', 'ndjson', '--last', '5m']);
    assert.ok(ndjsonLines(recent.stdout).length > 5);
    const text = await sim.run('log', ['show', '--last', '5m', '--predicate', 'process == "sysextd"']);
    assert.match(text.stdout, /^Timestamp {23}Thread {5}Type {8}Activity {13}PID {4}TTL {2}$/m);
    assert.match(text.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}[+-]\d{4} 0x[0-9a-f]+ +Default +0x0 +283 +0 +sysextd: \[com\.apple\.sx:StateChanges\] extension DXTBNCH001 com\.example\.echo\.driver \(1\.0\.0\/1\) advancing state from realizing to staging$/m);
  });

  test('a predicate outside the subset exits 64 with one line', async () => {
    const r = await sim.run('log', ['show', '--predicate', 'processID > 5']);
    assert.equal(r.code, 64);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^log: Couldn't parse predicate/);
  });

  test('log stream relays entries made after it started, and stops when the shim is terminated', async () => {
    const child = spawn('log', ['stream', '--style', 'ndjson', '--predicate', 'process == "sysextd"'], { env: sim.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      const notice = await lines.next();
      assert.equal(notice.value, 'Filtering the log data using "process == "sysextd""');
      const act = await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.1.0.dext'), '--bundle', 'com.example.echo.driver']);
      assert.equal(act.code, 0);
      const first = (await lines.next()).value as string;
      const o = JSON.parse(first) as { eventMessage: string; processImagePath: string };
      assert.equal(o.processImagePath, '/usr/libexec/sysextd');
      // Only the new request shows: the 1.0.0 activation happened before the stream started.
      assert.equal(o.eventMessage, 'client activation request for com.example.echo.driver');
      const second = JSON.parse((await lines.next()).value as string) as { eventMessage: string };
      assert.equal(second.eventMessage, 'attempting to realize extension with identifier com.example.echo.driver');
      child.kill('SIGTERM');
      assert.equal(await exited, 143);
    } finally {
      clearTimeout(deadline);
    }
    // The daemon is still serving after the stream's client went away.
    assert.equal((await sim.run('csrutil', ['status'])).code, 0);
  });
});
