import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dextPredicate, extensionLogPredicate, formatLocalSecond, logShow, UnifiedLogStream } from '../../../harness/host/tools/log.ts';
import { FakeExec, type FakeProcess, lines } from './fake-exec.ts';

const entry = (message: string, process = 'kernel', traceID = '41979461356879876') =>
  `{"timezoneName":"","messageType":"Default","eventType":"logEvent","source":null,"formatString":"%s","subsystem":"","category":"",` +
  `"threadID":1138139,"processImagePath":"\\/${process === 'kernel' ? 'kernel' : `usr\\/libexec\\/${process}`}","timestamp":"2025-08-09 10:11:55.521570-0400",` +
  `"eventMessage":${JSON.stringify(message)},"traceID":${traceID},"processID":0}`;
const START = 'DK: EchoDriver-0x100000a45::start(IOUSBHostDevice-0x100000a40) ok';

test('the stream spawns log stream --style ndjson with level and predicate, skips notices, keeps entries', async () => {
  let child!: FakeProcess;
  const exec = new FakeExec(() => ({}), (p) => { child = p; });
  const stream = await UnifiedLogStream.start(exec, { predicate: dextPredicate(['com.example.echo.driver']), level: 'debug', startupMs: 5 });
  assert.deepEqual(exec.calls[0]!.argv, ['log', 'stream', '--style', 'ndjson', '--level', 'debug', '--predicate',
    'process == "kernel" OR process == "sysextd" OR process == "kernelmanagerd" OR sender == "com.example.echo.driver.dext" OR sender == "com.example.echo.driver" OR process == "com.example.echo.driver"']);
  const seen: string[] = [];
  stream.onEntry((e) => seen.push(e.eventMessage));
  const waiting = stream.waitFor((e) => /::start\(.*\) ok/.test(e.eventMessage), { timeoutMs: 2000, description: 'EchoDriver start' });
  child.stdout.write('Filtering the log data using "process == \\"kernel\\""\n');
  child.stdout.write(entry('unrelated') + '\n' + entry(START).slice(0, 40));
  child.stdout.write(entry(START).slice(40) + '\n{"torn":\n');
  const hit = await waiting;
  assert.equal(hit.eventMessage, START);
  assert.equal(hit.traceID, 41979461356879876n);
  assert.deepEqual(seen, ['unrelated', START]);
  assert.equal(stream.entries().length, 2);
  assert.deepEqual(stream.lines(), [entry('unrelated'), entry(START)], 'the lines as received, for the full-stream artifact');
  assert.equal(stream.malformed, 1);
  // Past entries answer at once unless includePast is false.
  assert.equal((await stream.waitFor((e) => e.eventMessage === 'unrelated', { timeoutMs: 10, description: 'x' })).eventMessage, 'unrelated');
  await assert.rejects(stream.waitFor((e) => e.eventMessage === 'unrelated', { timeoutMs: 20, description: 'a second unrelated line', includePast: false }),
    { message: 'no unified log line for a second unrelated line within 20 ms (2 line(s) received)' });
  await stream.stop();
  assert.deepEqual(child.killedWith, ['SIGTERM']);
});

test('waitFor rejects when log stream exits, with what it said', async () => {
  let child!: FakeProcess;
  const exec = new FakeExec(() => ({}), (p) => { child = p; });
  const stream = await UnifiedLogStream.start(exec, { startupMs: 5 });
  const waiting = stream.waitFor(() => false, { timeoutMs: 5000, description: 'the dext start line' });
  child.stderr.write('log: Could not open the log store\n');
  setTimeout(() => child.exit(1), 5);
  await assert.rejects(waiting, { message: 'log stream exited (1) while waiting for the dext start line: log: Could not open the log store' });
});

test('start rejects when log stream exits at once (no such command)', async () => {
  const exec = new FakeExec(() => ({}), (p) => { setTimeout(() => p.exit(-2), 1); });
  await assert.rejects(UnifiedLogStream.start(exec, { startupMs: 500 }), { message: 'log stream on fake host is not available (no `log` command)' });
});

test('start trusts the stream once log prints its notice (stdout or stderr), without waiting out startupMs', { timeout: 20_000 }, async () => {
  for (const where of ['stdout', 'stderr'] as const) {
    let child!: FakeProcess;
    const exec = new FakeExec(() => ({}), (p) => {
      child = p;
      setTimeout(() => p[where].write('Filtering the log data using "process == \\"kernel\\""\n'), 5);
    });
    // Only the notice can end this wait within the test's timeout.
    const stream = await UnifiedLogStream.start(exec, { predicate: 'process == "kernel"', startupMs: 600_000 });
    child.stdout.write(entry(START) + '\n');
    assert.equal((await stream.waitFor((e) => e.eventMessage === START, { timeoutMs: 2000, description: 'the start line' })).eventMessage, START, where);
    await stream.stop();
  }
});

test('a predicate log rejects exits before any notice: start says what log said', async () => {
  const exec = new FakeExec(() => ({}), (p) => {
    setTimeout(() => { p.stderr.write("log: Couldn't parse predicate: nope\n"); p.exit(64); }, 2);
  });
  await assert.rejects(UnifiedLogStream.start(exec, { predicate: 'nope ==', startupMs: 600_000 }),
    { message: "log stream on fake host exited at once with 64: log: Couldn't parse predicate: nope" });
});

test('logShow: --start in local time to the second, predicate, footer and notices skipped', async () => {
  const start = new Date(2025, 0, 26, 9, 5, 7, 900);
  assert.equal(formatLocalSecond(start), '2025-01-26 09:05:07');
  const exec = new FakeExec(() => ({ stdout: lines('Filtering the log data using "…"', entry(START), entry('Driver com.example.echo.driver has crashed 0 time(s)'), '{"count":2,"finished":1}') }));
  const got = await logShow(exec, { start, predicate: dextPredicate([]) });
  assert.deepEqual(exec.argvs(), [['log', 'show', '--style', 'ndjson', '--start', '2025-01-26 09:05:07', '--predicate',
    'process == "kernel" OR process == "sysextd" OR process == "kernelmanagerd"']]);
  assert.deepEqual(got.map((e) => e.eventMessage), [START, 'Driver com.example.echo.driver has crashed 0 time(s)']);
  const failing = new FakeExec(() => ({ stderr: 'log: invalid predicate\n', exitCode: 64 }));
  await assert.rejects(logShow(failing, { start }), /^ToolError: reading the unified log: log show .* exited with 64: log: invalid predicate$/);
});

test('dextPredicate refuses what is not a bundle id', () => {
  assert.throws(() => dextPredicate(['a" OR 1 == 1']), /not a bundle identifier/);
});

test('extensionLogPredicate: system lines naming the extensions or their service classes, and the dexts\' own lines', () => {
  assert.equal(extensionLogPredicate({ targets: [] }), undefined, 'nothing to follow, no stream');
  assert.equal(extensionLogPredicate({ targets: [{ bundle: 'com.example.echo.driver', userClasses: ['EchoDriver'] }] }),
    '((process == "kernel" OR process == "sysextd" OR process == "kernelmanagerd") AND ' +
    '(eventMessage CONTAINS "com.example.echo.driver" OR eventMessage CONTAINS "EchoDriver-0x")) OR ' +
    'sender == "com.example.echo.driver.dext" OR sender == "com.example.echo.driver" OR process == "com.example.echo.driver"');
  // A longer bundle id the rig knows is left out where it contains a target's; one the scenario follows is not.
  assert.equal(extensionLogPredicate({
    targets: [{ bundle: 'com.example.echo.driver' }, { bundle: 'com.example.other' }],
    others: ['com.example.echo.driver.beta', 'com.example.unrelated', 'com.example.other'],
  }),
  '((process == "kernel" OR process == "sysextd" OR process == "kernelmanagerd") AND ' +
    '((eventMessage CONTAINS "com.example.echo.driver" AND NOT (eventMessage CONTAINS "com.example.echo.driver.beta")) OR eventMessage CONTAINS "com.example.other")) OR ' +
    'sender == "com.example.echo.driver.dext" OR sender == "com.example.echo.driver" OR process == "com.example.echo.driver" OR ' +
    'sender == "com.example.other.dext" OR sender == "com.example.other" OR process == "com.example.other"');
  assert.throws(() => extensionLogPredicate({ targets: [{ bundle: 'com.example.x', userClasses: ['Echo" OR 1'] }] }), /not a class name/);
  assert.throws(() => extensionLogPredicate({ targets: [{ bundle: 'x"' }] }), /not a bundle identifier/);
});

test('a stream whose connection was lost (ssh\'s 255, a reboot) resumes once the Mac answers: later lines keep coming, the gap is reported', async () => {
  const children: FakeProcess[] = [];
  let refuse = 2; // the Mac is down for two attempts: those streams end at once
  const exec = new FakeExec(() => ({}), (p) => {
    children.push(p);
    if (children.length > 1 && refuse-- > 0) setTimeout(() => p.exit(255), 1);
  });
  const stream = await UnifiedLogStream.start(exec, { startupMs: 5 });
  const gaps: number[] = [];
  stream.onGap((gap) => gaps.push(gap.ended.exitCode!));
  const waiting = stream.waitFor((e) => e.eventMessage === 'after the reboot', { timeoutMs: 10_000, description: 'a line after the reboot' });
  children[0]!.stdout.write(entry('before') + '\n');
  children[0]!.exit(255);
  const deadline = Date.now() + 8_000;
  while (children.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(children.length, 4, 'the stream was started again until the Mac answered');
  await new Promise((r) => setTimeout(r, 20));
  children[3]!.stdout.write(entry('after the reboot') + '\n');
  assert.equal((await waiting).eventMessage, 'after the reboot');
  assert.deepEqual(stream.entries().map((e) => e.eventMessage), ['before', 'after the reboot']);
  assert.deepEqual(gaps, [255]);
  assert.ok(children.every((c) => c.argv.join(' ') === children[0]!.argv.join(' ')));
  await stream.stop();
  assert.deepEqual(children[3]!.killedWith, ['SIGTERM']);
});

test('a stream that ends for another reason than a lost connection is not restarted', async () => {
  const children: FakeProcess[] = [];
  const exec = new FakeExec(() => ({}), (p) => { children.push(p); });
  const stream = await UnifiedLogStream.start(exec, { startupMs: 5 });
  const waiting = stream.waitFor(() => false, { timeoutMs: 5000, description: 'anything' });
  children[0]!.exit(1);
  await assert.rejects(waiting, /log stream exited \(1\)/);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(children.length, 1);
});
