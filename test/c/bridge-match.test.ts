// Which service the C bridge opens: the choice the IOKit transport makes among the kernel's
// matches (bridge_pick_service, bridge_parse_match in bridge_core.c), run here through
// dextbench-bridge-inproc, whose --service entries stand in for the IORegistry. A registry id is
// matched exactly (64-bit), several matches without one are refused with each candidate's id and
// location, and --match values are strings unless written KEY:int=N.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { C_TOOLCHAIN, lane } from '../support/lane.ts';
import { decode, splitFrames, str, sub, u64 } from './wire.ts';

const bridgeDir = join(new URL('../..', import.meta.url).pathname, 'dext-fixtures', 'bridge');
const bridgeBin = join(bridgeDir, 'build', 'dextbench-bridge-inproc');
const skip = lane('C channel library and bridge', C_TOOLCHAIN);

let built: { ok: boolean; output: string } | undefined;
function build(): void {
  if (!built) {
    const r = spawnSync('make', ['-C', bridgeDir], { encoding: 'utf8', timeout: 300_000 });
    built = { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  }
  assert.ok(built.ok, `make -C dext-fixtures/bridge failed:\n${built.output.slice(-4000)}`);
}

interface Opened { exit: number | null; state: bigint; registryId: string; userClass: string; message: string; stderr: string }

/** Runs the bridge with stdin closed at once: it opens (or refuses), then exits. */
function bridge(args: string[]): Opened {
  build();
  const r = spawnSync(bridgeBin, args, { input: '', timeout: 10_000 });
  const [frames] = splitFrames(r.stdout);
  const st = frames.length ? sub(decode(Buffer.from(frames[0]!)), 14) : undefined;
  return {
    exit: r.status, state: st ? u64(st, 1) : -1n, registryId: st ? str(st, 2) : '', userClass: st ? str(st, 3) : '',
    message: st ? str(st, 6) : '', stderr: r.stderr.toString('utf8'),
  };
}

const OPENED = 1n;
const OPEN_FAILED = 3n;
const TWO_ECHO = [
  '--service', '4294969001,IOUserClass=EchoDriver,locationID:int=0x01120000',
  '--service', '4294969010,IOUserClass=EchoDriver,locationID:int=0x01130000',
];

test('C bridge: two services match and no --registry-id: refused, naming each id and locationID', { skip }, () => {
  const r = bridge(['--match', 'IOUserClass=EchoDriver', ...TWO_ECHO]);
  const why = '2 services match IOUserClass=EchoDriver; pass --registry-id with one of: ' +
    '4294969001 (locationID 0x01120000), 4294969010 (locationID 0x01130000)';
  assert.equal(r.exit, 69);
  assert.equal(r.state, OPEN_FAILED);
  assert.equal(r.message, why);
  assert.match(r.stderr, /^\{"event":"openFailed","transport":"inproc","ioReturn":"0x00000000","message":"2 services match IOUserClass=EchoDriver; pass --registry-id with one of: 4294969001 \(locationID 0x01120000\), 4294969010 \(locationID 0x01130000\)"\}$/m);
});

test('C bridge: --registry-id opens exactly that service (decimal or 0x, all 64 bits), and nothing else', { skip }, () => {
  const second = bridge(['--match', 'IOUserClass=EchoDriver', '--registry-id', '4294969010', ...TWO_ECHO]);
  assert.equal(second.exit, 0, second.stderr);
  assert.equal(second.state, OPENED);
  assert.equal(second.registryId, '4294969010');
  assert.equal(second.userClass, 'EchoDriver');
  assert.equal(bridge(['--match', 'IOUserClass=EchoDriver', '--registry-id', `0x${(4294969001n).toString(16)}`, ...TWO_ECHO]).registryId, '4294969001');

  // Neighbours above 2^53 are one double apart: only exact 64-bit ids tell them apart.
  const top = ['--service', '18446744073709551615,IOUserClass=EchoDriver', '--service', '18446744073709551614,IOUserClass=EchoDriver'];
  const exact = bridge(['--match', 'IOUserClass=EchoDriver', '--registry-id', '18446744073709551614', ...top]);
  assert.equal(exact.registryId, '18446744073709551614', exact.stderr);

  const gone = bridge(['--match', 'IOUserClass=EchoDriver', '--registry-id', '4294969011', ...TWO_ECHO]);
  assert.equal(gone.exit, 69);
  assert.equal(gone.message, 'no service matches IOUserClass=EchoDriver registry id 4294969011');
});

test('C bridge: --match values are strings, digits too; KEY:int=N matches a number property', { skip }, () => {
  const services = [
    '--service', '1,IOUserClass=123',
    '--service', '2,IOUserClass=0123',
    '--service', '3,IOUserClass=EchoDriver,idVendor:int=7531',
  ];
  const zero = bridge(['--match', 'IOUserClass=0123', ...services]);
  assert.equal(zero.exit, 0, zero.stderr);
  assert.equal(zero.registryId, '2');
  assert.equal(zero.userClass, '0123');
  assert.equal(bridge(['--match', 'IOUserClass=123', ...services]).registryId, '1');

  const asNumber = bridge(['--match', 'IOUserClass:int=123', ...services]);
  assert.equal(asNumber.exit, 69);
  assert.equal(asNumber.message, 'no service matches IOUserClass:int=123', 'a number never equals a string property');

  const vendorText = bridge(['--match', 'idVendor=7531', ...services]);
  assert.equal(vendorText.exit, 69);
  assert.equal(vendorText.message, 'no service matches idVendor=7531');
  const vendor = bridge(['--match', 'idVendor:int=0x1d6b', ...services]);
  assert.equal(vendor.registryId, '3', vendor.stderr);
  assert.equal(vendor.userClass, 'EchoDriver');
});

test('C bridge: numbers are decimal or 0x, never octal; anything else is a usage error', { skip }, () => {
  const services = ['--service', '8,IOUserClass=EchoDriver,slot:int=8', '--service', '10,IOUserClass=EchoDriver,slot:int=10'];
  assert.equal(bridge(['--match', 'IOUserClass=EchoDriver', '--registry-id', '010', ...services]).registryId, '10');
  assert.equal(bridge(['--match', 'slot:int=010', ...services]).registryId, '10');
  for (const bad of [['--registry-id', '+10'], ['--registry-id', ' 10'], ['--registry-id', '0x'], ['--registry-id', '0x0x10'],
    ['--match', 'slot:int=ten'], ['--match', ':int=1'], ['--match', '=x']]) {
    const r = bridge([...bad, ...services]);
    assert.equal(r.exit, 64, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^usage: dextbench-bridge-inproc --match KEY=VALUE\.\.\. /m);
  }
});

test('C bridge: --help prints its usage on stdout and exits 0 (provision\'s and doctor\'s probe); no arguments is still a usage error', { skip }, () => {
  build();
  for (const bin of ['dextbench-bridge-inproc', 'dextbench-bridge-simdext']) {
    const help = spawnSync(join(bridgeDir, 'build', bin), ['--help'], { input: '', encoding: 'utf8', timeout: 10_000 });
    assert.deepEqual([help.status, help.stderr], [0, ''], bin);
    assert.match(help.stdout, new RegExp(`^usage: ${bin} (--socket PATH )?--match KEY=VALUE\\.\\.\\. \\[--registry-id N\\] \\[--type N\\].*\\n$`));
    const none = spawnSync(join(bridgeDir, 'build', bin), [], { input: '', encoding: 'utf8', timeout: 10_000 });
    assert.deepEqual([none.status, none.stdout], [64, ''], bin);
    assert.match(none.stderr, new RegExp(`^usage: ${bin} `));
  }
});
