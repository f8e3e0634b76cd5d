// Classification tables: curl, nc and dig exits as the tools print them. Lines marked "captured"
// were printed by curl 7.88.1 on Linux against real sockets (refused port, silent listener, RST,
// close without reply); "macOS" lines are the shapes the reference and the es-ne contract give for
// the Mac's own tools (curl ≤ 7.8x printed the errno; macOS nc says `connectx`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyCurl, classifyDig, classifyNc, digAddresses, type ToolExit } from '../../../harness/ne/index.ts';

const exit = (exitCode: number | null, stderr = '', stdout = '', timedOut = false): ToolExit => ({ exitCode, stderr, stdout, timedOut });

test('curl: each exit code and message to its outcome', () => {
  const table: [ToolExit, string | undefined][] = [
    [exit(0), 'allowed'],
    // captured
    [exit(6, 'curl: (6) Could not resolve host: nonexistent.invalid\n'), 'dnsFailed'],
    // reference §D.4 (LuLu users, a dropped DNS flow)
    [exit(6, 'curl: (6) Could not resolve host: raw.githubusercontent.com\n'), 'dnsFailed'],
    // captured, with -v: the errno is on the `* connect to` line
    [exit(7, '*   Trying 127.0.0.1:1...\n* connect to 127.0.0.1 port 1 failed: Connection refused\n* Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn\'t connect to server\n* Closing connection 0\ncurl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn\'t connect to server\n'), 'refused'],
    // contract §6 (the sim) and curl ≤ 7.8x
    [exit(7, 'curl: (7) Failed to connect to allowed.example port 81 after 3 ms: Connection refused\n'), 'refused'],
    [exit(7, 'curl: (7) Failed to connect to blocked.example port 443 after 2 ms: Bad file descriptor\n'), 'killed'],
    [exit(7, '* connect to 192.0.2.20 port 443 failed: Operation not supported\ncurl: (7) Failed to connect to blocked.example port 443 after 2 ms: Couldn\'t connect to server\n'), 'killed'],
    // captured, without -v: curl does not say why; counted as refused
    [exit(7, 'curl: (7) Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn\'t connect to server\n'), 'refused'],
    // captured
    [exit(28, 'curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received\n'), 'timedOut'],
    [exit(28, 'curl: (28) Connection timed out after 2001 milliseconds\n'), 'timedOut'],
    [exit(56, 'curl: (56) Recv failure: Connection reset by peer\n'), 'killed'],
    [exit(52, 'curl: (52) Empty reply from server\n'), 'killed'],
    // our deadline, not curl's
    [exit(null, '', '', true), 'timedOut'],
    // not an attempt at all
    [exit(3, 'curl: (3) URL using bad/illegal format or missing URL\n'), undefined],
    [exit(2, 'curl: option --bogus: is unknown\ncurl: try \'curl --help\' or \'curl --manual\' for more information\n'), undefined],
  ];
  for (const [input, outcome] of table) assert.equal(classifyCurl(input).outcome, outcome, input.stderr);
  assert.equal(classifyCurl(exit(7, 'curl: (7) Failed to connect to h port 1 after 0 ms: Couldn\'t connect to server\n')).reason,
    'curl: (7) Failed to connect to h port 1 after 0 ms: Couldn\'t connect to server (curl did not say why; counted as refused)');
  assert.equal(classifyCurl(exit(3, 'curl: (3) URL using bad/illegal format or missing URL\n')).reason, 'curl: (3) URL using bad/illegal format or missing URL');
});

test('nc -z: success, connectx failures by errno, a name that does not resolve', () => {
  const table: [ToolExit, string | undefined][] = [
    [exit(0, 'Connection to allowed.example port 443 [tcp/https] succeeded!\n'), 'allowed'],
    [exit(1, 'nc: connectx to allowed.example port 81 (tcp) failed: Connection refused\n'), 'refused'],
    // OpenBSD / Linux wording
    [exit(1, 'nc: connect to 127.0.0.1 port 1 (tcp) failed: Connection refused\n'), 'refused'],
    [exit(1, 'nc: connectx to blocked.example port 443 (tcp) failed: Bad file descriptor\n'), 'killed'],
    [exit(1, 'nc: connectx to 192.0.2.99 port 443 (tcp) failed: Operation timed out\n'), 'timedOut'],
    [exit(1, 'nc: connectx to 192.0.2.20 port 53 (udp) failed: Bad file descriptor\n'), 'killed'],
    [exit(1, 'nc: getaddrinfo: nodename nor servname provided, or not known\n'), 'dnsFailed'],
    [exit(1, 'nc: getaddrinfo for host "no.such" port 80: Name or service not known\n'), 'dnsFailed'],
    [exit(1, ''), 'refused'],
    [exit(null, '', '', true), 'timedOut'],
    [exit(1, 'usage: nc [-46AacCDdEFhklMnOortUuvz] [-K tc] [-b boundif] [-i interval] [-p source_port]\n'), undefined],
  ];
  for (const [input, outcome] of table) assert.equal(classifyNc(input).outcome, outcome, input.stderr);
  assert.equal(classifyNc(exit(1, 'nc: connectx to b port 443 (tcp) failed: Bad file descriptor\n')).reason, 'nc: connectx to b port 443 (tcp) failed: Bad file descriptor');
});

test('dig +short: an answer (with or without addresses) is allowed; no reply is a timeout', () => {
  const table: [ToolExit, string | undefined][] = [
    [exit(0, '', '192.0.2.10\n'), 'allowed'],
    [exit(0, '', ''), 'allowed'],
    // macOS dig (BIND 9.10) prints this on stdout
    [exit(9, '', ';; connection timed out; no servers could be reached\n'), 'timedOut'],
    // BIND 9.18 words it differently
    [exit(9, '', ';; communications error to 192.0.2.53#53: timed out\n;; no servers could be reached\n'), 'timedOut'],
    [exit(9, '', ';; communications error to 192.0.2.53#53: connection refused\n;; no servers could be reached\n'), 'refused'],
    [exit(1, 'Invalid option: +bogus\nUsage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n'), undefined],
    [exit(10, 'dig: couldn\'t get address for \'nowhere\': not found\n'), undefined],
  ];
  for (const [input, outcome] of table) assert.equal(classifyDig(input).outcome, outcome, input.stdout + input.stderr);
  assert.equal(classifyDig(exit(0, '', '')).reason, 'answered with no address (NXDOMAIN or no record)');
  assert.equal(classifyDig(exit(9, '', ';; connection timed out; no servers could be reached\n')).reason, ';; connection timed out; no servers could be reached');
  assert.deepEqual(digAddresses('alias.example.\n192.0.2.10\n2001:db8::1\n;; Warning\n'), ['192.0.2.10', '2001:db8::1']);
});
