// FlowGate's log lines (es-ne contract §5) parsed, matched, and watched over a log stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  curlUrl, digLookup, FLOWGATE_BUNDLE, ncConnect, parseFlowGateMessage, VerdictStream, verdictMismatches, verdictPredicate, type FlowVerdict,
} from '../../../harness/ne/index.ts';
import { FakeExec } from '../host/fake-exec.ts';

test('the three FlowGate lines parse; others do not', () => {
  assert.deepEqual(parseFlowGateMessage('FlowGate started rules=2'), { kind: 'started', rules: 2 });
  assert.deepEqual(parseFlowGateMessage('verdict=drop protocol=tcp remote=192.0.2.20:443 hostname=blocked.example pid=612'), {
    kind: 'flow', verdict: 'drop', protocol: 'tcp', remote: '192.0.2.20:443', address: '192.0.2.20', port: 443, hostname: 'blocked.example', pid: 612,
  });
  assert.deepEqual(parseFlowGateMessage('verdict=allow protocol=udp remote=[2001:db8::1]:53 hostname=- pid=7'), {
    kind: 'flow', verdict: 'allow', protocol: 'udp', remote: '[2001:db8::1]:53', address: '2001:db8::1', port: 53, pid: 7,
  });
  assert.equal((parseFlowGateMessage('verdict=allow protocol=tcp remote=fe80::1:8080 hostname=- pid=7') as FlowVerdict).address, 'fe80::1');
  assert.deepEqual(parseFlowGateMessage('dns verdict=drop name=blocked.example pid=88'), { kind: 'dns', verdict: 'drop', name: 'blocked.example', pid: 88 });
  // %20 stands for a space; order of keys and unknown keys do not matter
  assert.deepEqual(parseFlowGateMessage('verdict=allow pid=3 extra=1 hostname=my%20host remote=10.0.0.1:80 protocol=tcp'), {
    kind: 'flow', verdict: 'allow', protocol: 'tcp', remote: '10.0.0.1:80', address: '10.0.0.1', port: 80, hostname: 'my host', pid: 3,
  });
  for (const other of ['verdict=pause protocol=tcp remote=1.2.3.4:1 hostname=- pid=1', 'verdict=drop protocol=tcp remote=1.2.3.4 hostname=- pid=1',
    'verdict=drop protocol=tcp remote=1.2.3.4:1 hostname=-', 'dns verdict=drop pid=1', 'FlowGate started', 'ExecGuard started: es_new_client ES_NEW_CLIENT_RESULT_SUCCESS', '']) {
    assert.equal(parseFlowGateMessage(other), undefined, other);
  }
});

test('a verdict matches on protocol, remote (with or without port), hostname, port, name; the differences are named', () => {
  const flow = parseFlowGateMessage('verdict=drop protocol=tcp remote=192.0.2.20:443 hostname=blocked.example pid=612') as FlowVerdict;
  assert.deepEqual(verdictMismatches(flow, 'drop', { protocol: 'TCP', remote: '192.0.2.20', hostname: 'Blocked.Example.', port: 443 }), []);
  assert.deepEqual(verdictMismatches(flow, 'drop', { remote: '192.0.2.20:443' }), []);
  assert.deepEqual(verdictMismatches(flow, 'allow', { protocol: 'udp', port: 80, hostname: 'allowed.example' }), ['verdict=drop', 'protocol=tcp', 'hostname=blocked.example', 'port=443']);
  assert.deepEqual(verdictMismatches(flow, 'drop', { name: 'blocked.example' }), ['a flow verdict, not a dns one']);
  const dns = parseFlowGateMessage('dns verdict=drop name=blocked.example pid=88')!;
  assert.ok(dns.kind === 'dns');
  assert.deepEqual(verdictMismatches(dns, 'drop', { name: 'blocked.example' }), []);
  assert.deepEqual(verdictMismatches(dns, 'drop', { name: 'allowed.example', port: 53 }), ['a dns verdict has no port', 'name=blocked.example']);
});

const ndjson = (message: string, subsystem = 'com.example.flowgate') => `${JSON.stringify({
  timestamp: '2025-08-09 10:11:55.521570-0400', messageType: 'Default', eventType: 'logEvent', subsystem, category: 'filter',
  processID: 612, processImagePath: '/Library/SystemExtensions/X/com.example.flowgate.systemextension/Contents/MacOS/com.example.flowgate',
  eventMessage: message, traceID: 1,
})}\n`;

test('the verdict stream follows FlowGate\'s subsystem, finds past and later verdicts, and says what it saw at the deadline', async () => {
  const exec = new FakeExec(() => ({}));
  const stream = await VerdictStream.start(exec, { bundles: [FLOWGATE_BUNDLE] });
  const child = exec.spawned[0]!;
  assert.deepEqual(child.argv, ['log', 'stream', '--style', 'ndjson', '--predicate', 'subsystem == "com.example.flowgate"']);
  child.stdout.write('Filtering the log data using "subsystem == \\"com.example.flowgate\\""\n');
  child.stdout.write(ndjson('FlowGate started rules=2'));
  child.stdout.write(ndjson('verdict=allow protocol=tcp remote=192.0.2.10:443 hostname=allowed.example pid=700'));
  const past = await stream.waitFor('allow', { hostname: 'allowed.example' }, { timeoutMs: 100 });
  assert.equal(past.pid, 700);
  const later = stream.waitFor('drop', { port: 443 }, { timeoutMs: 2000 });
  child.stdout.write(ndjson('verdict=drop protocol=tcp remote=192.0.2.20:443 hostname=blocked.example pid=701'));
  assert.equal((await later).pid, 701);
  await assert.rejects(stream.waitFor('drop', { name: 'blocked.example' }, { timeoutMs: 50 }),
    { message: 'saw 2 other verdict(s), last: allow tcp 192.0.2.10:443 (allowed.example) pid 700 [verdict=allow, a flow verdict, not a dns one]; drop tcp 192.0.2.20:443 (blocked.example) pid 701 [a flow verdict, not a dns one]' });
  const quiet = await VerdictStream.start(new FakeExec(() => ({})), { bundles: [FLOWGATE_BUNDLE] });
  await assert.rejects(quiet.waitFor('drop', {}, { timeoutMs: 30 }), { message: 'saw no FlowGate verdict at all (0 line(s) from subsystem == "com.example.flowgate")' });
  await stream.stop();
  await quiet.stop();
});

test('the stream follows each filter under its own bundle id: one predicate term per bundle', async () => {
  assert.equal(verdictPredicate(['com.acme.netfilter']), 'subsystem == "com.acme.netfilter"');
  assert.equal(verdictPredicate(['com.example.flowgate', 'com.acme.netfilter']), 'subsystem == "com.example.flowgate" OR subsystem == "com.acme.netfilter"');
  assert.throws(() => verdictPredicate([]), /no bundle id/);
  const exec = new FakeExec(() => ({}));
  const stream = await VerdictStream.start(exec, { bundles: ['com.acme.netfilter'] });
  assert.deepEqual(exec.spawned[0]!.argv, ['log', 'stream', '--style', 'ndjson', '--predicate', 'subsystem == "com.acme.netfilter"']);
  await stream.stop();
});

test('attempt argv: curl -v with --max-time, nc -z with -G/-w or -u, dig +short +time; a missing tool or a refused argument is an error, not an outcome', async () => {
  const exec = new FakeExec((argv) => {
    if (argv[0] === 'curl') return { exitCode: 7, stderr: 'curl: (7) Failed to connect to blocked.example port 443 after 2 ms: Bad file descriptor\n' };
    if (argv[0] === 'nc' && argv.includes('-u')) return { exitCode: 0, stderr: 'Connection to 192.0.2.53 port 53 [udp/domain] succeeded!\n' };
    if (argv[0] === 'nc') return { exitCode: 127, stderr: 'zsh: command not found: nc\n' };
    return { exitCode: 0, stdout: '192.0.2.10\n' };
  });
  const curl = await curlUrl(exec, 'https://blocked.example/', { timeoutMs: 2500 });
  assert.deepEqual([curl.outcome, curl.exitCode, curl.argv], ['killed', 7, ['curl', '-sS', '-v', '-o', '/dev/null', '--max-time', '3', 'https://blocked.example/']]);
  assert.equal(exec.calls[0]!.timeoutMs, 8000);
  const udp = await ncConnect(exec, '192.0.2.53', 53, 'udp', { timeoutMs: 1000 });
  assert.deepEqual([udp.outcome, udp.argv], ['allowed', ['nc', '-u', '-z', '-w', '1', '192.0.2.53', '53']]);
  await assert.rejects(ncConnect(exec, 'h', 443, 'tcp', { timeoutMs: 1000 }), { message: 'nc is not available on fake host: zsh: command not found: nc' });
  assert.deepEqual(exec.argvs().at(-1), ['nc', '-z', '-G', '1', '-w', '1', 'h', '443']);
  await assert.rejects(ncConnect(exec, 'h', 0, 'tcp', { timeoutMs: 1000 }), { message: 'not a port: 0' });
  const dig = await digLookup(exec, 'allowed.example', { timeoutMs: 2000 });
  assert.deepEqual([dig.outcome, dig.addresses, dig.argv], ['allowed', ['192.0.2.10'], ['dig', '+short', '+time=2', '+tries=1', 'allowed.example', 'A']]);
  await assert.rejects(digLookup(exec, 'x; rm -rf /', { timeoutMs: 1000 }), { message: 'not a DNS name: "x; rm -rf /"' });
  const refusing = new FakeExec(() => ({ exitCode: 3, stderr: 'curl: (3) URL using bad/illegal format or missing URL\n' }));
  await assert.rejects(curlUrl(refusing, 'http://[', { timeoutMs: 1000 }),
    { message: "curl -sS -v -o /dev/null --max-time 1 'http://[' on fake host did not make the attempt: curl: (3) URL using bad/illegal format or missing URL" });
});
