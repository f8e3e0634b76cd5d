// The simulated Mac's network through its curl, nc and dig shims, with no filter on: the contract's
// default hosts answer, an address with nothing listening refuses, an address with no host black-holes
// until the tool's timeout, an unknown name does not resolve. The names exist only on the simulated
// Mac (this machine's own curl cannot resolve allowed.example), so an answer proves the shim ran.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { simConfig, startSim, type Sim } from './support.ts';

let sim: Sim;
before(async () => { sim = await startSim(simConfig()); });
after(async () => { await sim?.stop(); });

test('this machine\'s own curl does not know the simulated names: the answers below are the shim\'s', async () => {
  const host = await new Promise<number>((resolve) => {
    execFile('curl', ['-sS', '--max-time', '5', 'https://allowed.example/'], (error) => resolve(error ? Number(error.code) : 0));
  });
  assert.notEqual(host, 0);
  const shim = await sim.run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', 'https://allowed.example/']);
  assert.deepEqual(shim, { code: 0, stdout: '200', stderr: '' });
});

test('curl: allowed, refused, unresolvable, black-holed, and its usage errors', async () => {
  assert.deepEqual(await sim.run('curl', ['-sS', 'http://blocked.example/']), { code: 0, stdout: '', stderr: '' });
  const refused = await sim.run('curl', ['-sS', 'http://allowed.example:81/']);
  assert.equal(refused.code, 7);
  assert.match(refused.stderr, /^curl: \(7\) Failed to connect to allowed\.example port 81 after \d+ ms: Connection refused\n$/);
  const verbose = await sim.run('curl', ['-sS', '-v', '-o', '/dev/null', 'http://192.0.2.10:81/']);
  assert.match(verbose.stderr, /^\* {3}Trying 192\.0\.2\.10:81\.\.\.\n\* connect to 192\.0\.2\.10 port 81 failed: Connection refused\n/);
  assert.deepEqual(await sim.run('curl', ['-sS', 'https://nowhere.example/']), { code: 6, stdout: '', stderr: 'curl: (6) Could not resolve host: nowhere.example\n' });
  // -s alone hides the error line
  assert.deepEqual(await sim.run('curl', ['-s', 'https://nowhere.example/']), { code: 6, stdout: '', stderr: '' });
  const started = Date.now();
  const hole = await sim.run('curl', ['-sS', '--max-time', '1', 'http://198.51.100.7/']);
  assert.equal(hole.code, 28);
  assert.match(hole.stderr, /^curl: \(28\) Connection timed out after 1\d{3} milliseconds\n$/);
  assert.ok(Date.now() - started >= 1000, 'it waited for --max-time');
  assert.deepEqual(await sim.run('curl', ['-sS', 'ftp://allowed.example/']), { code: 1, stdout: '', stderr: 'curl: (1) Protocol "ftp" not supported or disabled in libcurl\n' });
  const unknown = await sim.run('curl', ['--bogus', 'http://allowed.example/']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^curl: option --bogus: is unknown\n/);
});

test('nc -z: succeeded with the service name, refused, unresolvable, timed out after -G', async () => {
  assert.deepEqual(await sim.run('nc', ['-z', '-G', '2', '-w', '2', 'allowed.example', '443']),
    { code: 0, stdout: '', stderr: 'Connection to allowed.example port 443 [tcp/https] succeeded!\n' });
  assert.deepEqual(await sim.run('nc', ['-u', '-z', '-w', '1', '192.0.2.53', '53']),
    { code: 0, stdout: '', stderr: 'Connection to 192.0.2.53 port 53 [udp/domain] succeeded!\n' });
  assert.deepEqual(await sim.run('nc', ['-z', 'allowed.example', '81']),
    { code: 1, stdout: '', stderr: 'nc: connectx to allowed.example port 81 (tcp) failed: Connection refused\n' });
  assert.deepEqual(await sim.run('nc', ['-z', 'nowhere.example', '80']),
    { code: 1, stdout: '', stderr: 'nc: getaddrinfo: nodename nor servname provided, or not known\n' });
  assert.deepEqual(await sim.run('nc', ['-z', '-G', '1', '198.51.100.7', '80']),
    { code: 1, stdout: '', stderr: 'nc: connectx to 198.51.100.7 port 80 (tcp) failed: Operation timed out\n' });
  assert.equal((await sim.run('nc', ['-z', 'allowed.example', 'http'])).stderr, 'nc: port number invalid: http\n');
});

test('dig: +short answers, NXDOMAIN as nothing, the full form, and a server that does not answer', async () => {
  assert.deepEqual(await sim.run('dig', ['+short', '+time=1', '+tries=1', 'allowed.example', 'A']), { code: 0, stdout: '192.0.2.10\n', stderr: '' });
  assert.deepEqual(await sim.run('dig', ['+short', 'nowhere.example']), { code: 0, stdout: '', stderr: '' });
  const full = await sim.run('dig', ['blocked.example']);
  assert.equal(full.code, 0);
  assert.match(full.stdout, /^\n; <<>> DiG 9\.10\.6 <<>> blocked\.example\n;; global options: \+cmd\n;; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: \d+\n/);
  assert.match(full.stdout, /\n;; ANSWER SECTION:\nblocked\.example\.\t\t300\tIN\tA\t192\.0\.2\.20\n/);
  assert.match((await sim.run('dig', ['nowhere.example'])).stdout, /status: NXDOMAIN/);
  // Nothing listens on port 53 at 192.0.2.10: no reply within +time × +tries.
  assert.deepEqual(await sim.run('dig', ['@192.0.2.10', '+short', '+time=1', '+tries=1', 'allowed.example']),
    { code: 9, stdout: ';; connection timed out; no servers could be reached\n', stderr: '' });
  const bad = await sim.run('dig', ['+bogus', 'allowed.example']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Invalid option: \+bogus\nUsage: {2}dig/);
});
