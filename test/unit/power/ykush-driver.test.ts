// The YKUSH driver's logic through its transport seam (YkushOptions.connect): a board that answers
// every command report per the protocol (driverkit-rigs-es-ne.md §C.3, pykush 0.3.6) and records
// the bytes it got. What is checked: the reports each operation sends and in which order, the
// read-back after a switch, the port count (rig, board, YKUSHXS), firmware 1.x's port-by-port
// status, refusals, missing and short replies, port ranges, one operation at a time, the board let
// go of after every operation, and every operation's deadline.
//
// The real USB path (harness/usb: find by VID/PID/serial, open, detach usbhid, claim the HID
// interface, interrupt OUT + IN) is proven in the QEMU lane against a YKUSH-like FunctionFS gadget:
// test/usb/ykush*.test.ts. On this machine, without USB, the real path must end in one line.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { createHubDriver, HubError, ykushDriver, type HubDriver, type YkushConnect, type YkushLink } from '../../../harness/power/index.ts';
import type { YkushHubSpec } from '../../../harness/rig/types.ts';

const HUB: YkushHubSpec = { id: 'yk', driver: 'ykush' };
const WHERE = 'hub yk (ykush)';
const NAME = '04d8:f2f7 serial YK12345 at 1-1';

/** A YKUSH as its firmware answers; `sent` is every command byte it got, in order. */
class TestBoard {
  up: boolean[];
  /** [major, minor], or how the board treats 0xf0: refuses it (1.x), or stays silent. */
  firmware: [number, number] | 'refused' | 'silent' = [2, 0];
  /** What 0xf1 answers, or 'refused' (the first boards). */
  count: number | 'refused';
  productId = 0xf2f7;
  sent: number[] = [];
  /** Command bytes answered with status 0, answered with a short report, or not answered. */
  refuse = new Set<number>();
  short = new Set<number>();
  silent = new Set<number>();
  /** The port commands are acknowledged but change nothing (a stuck power switch). */
  stuck = false;
  connects = 0;
  openLinks = 0;
  mostOpenLinks = 0;
  /** Exchanges running at the same time, at most. */
  mostInFlight = 0;
  private inFlight = 0;

  constructor(ports = 3) {
    this.up = new Array(ports).fill(false);
    this.count = ports;
  }

  connect: YkushConnect = async () => {
    this.connects++;
    this.openLinks++;
    this.mostOpenLinks = Math.max(this.mostOpenLinks, this.openLinks);
    let closed = false;
    const link: YkushLink = {
      productId: this.productId,
      name: NAME,
      exchange: async (report) => {
        assert.ok(!closed, 'exchange on a closed link');
        this.inFlight++;
        this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
        try {
          await new Promise((resolve) => setImmediate(resolve));
          return this.answer(report);
        } finally {
          this.inFlight--;
        }
      },
      close: async () => {
        assert.ok(!closed, 'link closed twice');
        closed = true;
        this.openLinks--;
      },
    };
    return link;
  };

  private answer(report: Uint8Array): Uint8Array | null {
    assert.equal(report.length, 64, 'a command is one 64-byte report');
    assert.ok(report.subarray(1).every((b) => b === 0), 'the command byte, then zeros');
    const byte = report[0]!;
    this.sent.push(byte);
    if (this.silent.has(byte)) return null;
    const out = new Uint8Array(this.short.has(byte) ? 2 : 64);
    const reply = (...bytes: number[]) => { out.set(bytes.slice(0, out.length)); return out; };
    if (this.refuse.has(byte)) return reply(0);
    const port = byte & 0x0f;
    const high = byte & 0xf0;
    const state = (up: boolean) => (up ? 0x11 : 0x01);
    if ((high === 0x00 || high === 0x10) && port >= 1 && port <= this.up.length) {
      if (!this.stuck) this.up[port - 1] = high === 0x10;
      return reply(1);
    }
    if (byte === 0x0a || byte === 0x1a) {
      if (!this.stuck) this.up.fill(byte === 0x1a);
      return reply(1);
    }
    if (high === 0x20 && port >= 1 && port <= this.up.length) return reply(1, state(this.up[port - 1]!));
    if (byte === 0x2a) return Array.isArray(this.firmware) && this.firmware[0] >= 2 ? reply(1, ...this.up.map(state)) : reply(0);
    if (byte === 0xf0) {
      if (this.firmware === 'silent') return null;
      return this.firmware === 'refused' ? reply(0) : reply(1, ...this.firmware);
    }
    if (byte === 0xf1) return this.count === 'refused' ? reply(0) : reply(1, this.count);
    return reply(0);
  }
}

function driverOn(board: TestBoard, hub: YkushHubSpec = HUB, timeoutMs = 3_000): HubDriver {
  return ykushDriver(hub, { connect: board.connect, timeoutMs });
}

test('setPort sends "port N up/down", reads the port back, and lets go of the board', async () => {
  const board = new TestBoard();
  const hub = driverOn(board);
  await hub.setPort(2, true);
  assert.deepEqual(board.sent, [0xf1, 0x12, 0x22], 'port count, port 2 up, get port 2 state');
  assert.deepEqual(board.up, [false, true, false]);
  board.sent = [];
  await hub.setPort(2, false);
  assert.deepEqual(board.sent, [0xf1, 0x02, 0x22]);
  await hub.setPort(3, true);
  await hub.setPort(1, true);
  assert.deepEqual(board.up, [true, false, true]);
  assert.equal(board.connects, 4, 'the board is found afresh for each operation');
  assert.equal(board.openLinks, 0, 'and let go of after it');
  await hub.close();
});

test('status: all states in one command from firmware 2 on; port by port on a 1.x firmware, whether it refuses 0xf0 or stays silent', async () => {
  const board = new TestBoard();
  board.up = [true, false, true];
  assert.deepEqual(await driverOn(board).status(), [{ port: 1, powered: true }, { port: 2, powered: false }, { port: 3, powered: true }]);
  assert.deepEqual(board.sent, [0xf1, 0xf0, 0x2a]);

  for (const firmware of ['refused', 'silent'] as const) {
    const old = new TestBoard();
    old.firmware = firmware;
    old.count = 'refused';
    old.up = [false, true, true];
    assert.deepEqual(await driverOn(old).status(), [{ port: 1, powered: false }, { port: 2, powered: true }, { port: 3, powered: true }], firmware);
    assert.deepEqual(old.sent, [0xf1, 0xf0, 0x21, 0x22, 0x23], `${firmware}: a refused 0xf1 means 3 ports`);
  }
});

test('the port count: the rig\'s ports: asks nothing; a 2-port board says so; a YKUSHXS has port 1 only, whatever it or the rig says', async () => {
  const board = new TestBoard();
  await driverOn(board, { ...HUB, ports: 3 }).setPort(3, true);
  assert.deepEqual(board.sent, [0x13, 0x23]);

  const two = new TestBoard(2);
  const hub = driverOn(two);
  assert.deepEqual((await hub.status()).map((p) => p.port), [1, 2]);
  two.sent = [];
  await assert.rejects(hub.setPort(3, true), { name: 'HubError', message: `${WHERE}: no port 3 on ${NAME} (it has ports 1-2)` });
  assert.deepEqual(two.sent, [0xf1], 'nothing switched');

  const xs = new TestBoard(1);
  xs.productId = 0xf0cd;
  xs.count = 3; // whatever it would say
  const xsHub = driverOn(xs);
  await xsHub.setPort(1, true);
  assert.deepEqual(xs.sent, [0x11, 0x21], 'no 0xf1 asked of a YKUSHXS');
  await assert.rejects(xsHub.setPort(2, true), { message: `${WHERE}: no port 2 on ${NAME} (it has port 1 only)` });
  await assert.rejects(driverOn(xs, { ...HUB, ports: 3 }).setPort(2, true), { message: `${WHERE}: no port 2 on ${NAME} (it has port 1 only)` }, 'whatever the rig says');
  assert.deepEqual(await xsHub.status(), [{ port: 1, powered: true }]);
});

test('a port outside the rig\'s range or the protocol\'s is refused before the board is opened', async () => {
  const board = new TestBoard();
  for (const port of [0, 4, 1.5, -1]) {
    await assert.rejects(driverOn(board).setPort(port, true), { name: 'HubError', message: `${WHERE}: no port ${port} (ports 1-3)` });
  }
  await assert.rejects(driverOn(board, { ...HUB, serial: 'YK1', ports: 2 }).setPort(3, true), { message: 'hub yk (ykush YK1): no port 3 (ports 1-2)' });
  assert.equal(board.connects, 0);
});

test('cyclePort: down, the pause, up, each read back', async () => {
  const board = new TestBoard();
  board.up = [false, true, false];
  const started = performance.now();
  await driverOn(board, { ...HUB, ports: 3 }).cyclePort(2, 120);
  assert.ok(performance.now() - started >= 115, 'the pause between');
  assert.deepEqual(board.sent, [0x02, 0x22, 0x12, 0x22]);
  assert.deepEqual(board.up, [false, true, false]);
});

test('a refused command, a short reply, no reply and a stuck port are one HubError line each; the board is let go of', async () => {
  const refused = new TestBoard();
  refused.refuse.add(0x12);
  await assert.rejects(driverOn(refused).setPort(2, true),
    { name: 'HubError', message: `${WHERE}: ${NAME} refused port 2 up (0x12): status 0x00, not OK (0x01): 00 00 00 00 …` });

  const short = new TestBoard();
  short.short.add(0x22);
  await assert.rejects(driverOn(short).setPort(2, true),
    { message: `${WHERE}: ${NAME} refused get port 2 state (0x22): a short reply of 2 bytes (expected 64, the first 20 significant): 01 11` });

  const silent = new TestBoard();
  silent.silent.add(0x2a);
  await assert.rejects(driverOn(silent).status(), { message: `${WHERE}: ${NAME} did not answer get all port states (0x2a) within 1s` });

  const stuck = new TestBoard();
  stuck.stuck = true;
  await assert.rejects(driverOn(stuck).setPort(1, true), { message: `${WHERE}: port 1 still reads down after port 1 up (0x11) was accepted` });
  assert.ok(stuck.sent.filter((b) => b === 0x21).length > 2, 'read back more than once before giving up');

  for (const board of [refused, short, silent, stuck]) assert.equal(board.openLinks, 0);
});

test('operations run one at a time, in the order they were asked', async () => {
  const board = new TestBoard();
  const hub = driverOn(board, { ...HUB, ports: 3 });
  await Promise.all([hub.setPort(1, true), hub.status(), hub.setPort(1, false), hub.setPort(3, true)]);
  assert.equal(board.mostOpenLinks, 1);
  assert.equal(board.mostInFlight, 1);
  assert.deepEqual(board.sent, [0x11, 0x21, 0xf0, 0x2a, 0x01, 0x21, 0x13, 0x23]);
  // A failed operation does not stop the next.
  board.refuse.add(0x12);
  const failing = hub.setPort(2, true);
  const next = hub.setPort(2, false);
  await assert.rejects(failing, HubError);
  await next;
  await hub.close();
});

test('every operation has its deadline: a board that never opens, and one whose replies stop coming', async () => {
  let closedLate = 0;
  let opening: (link: YkushLink) => void = () => undefined;
  const never: YkushConnect = () => new Promise((resolve) => { opening = resolve; });
  const started = performance.now();
  await assert.rejects(ykushDriver(HUB, { connect: never, timeoutMs: 200 }).status(),
    { name: 'HubError', message: `${WHERE}: finding and opening the YKUSH took longer than 200ms` });
  assert.ok(performance.now() - started < 1_000);
  // A board that opens after all is let go of.
  opening({ productId: 0xf2f7, name: NAME, exchange: async () => null, close: async () => { closedLate++; } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(closedLate, 1);

  // Each command waits at most what is left of the operation's time.
  const waits: number[] = [];
  const slow: YkushConnect = async () => ({
    productId: 0xf2f7, name: NAME,
    exchange: async (_report, timeoutMs) => { waits.push(timeoutMs); await new Promise((resolve) => setTimeout(resolve, timeoutMs)); return null; },
    close: async () => undefined,
  });
  const slowStart = performance.now();
  await assert.rejects(ykushDriver(HUB, { connect: slow, timeoutMs: 1_500 }).status(), { message: /^hub yk \(ykush\): (ran out of its 1500ms before|04d8:f2f7 serial YK12345 at 1-1 did not answer) / });
  assert.ok(performance.now() - slowStart < 2_000, `within the deadline (${Math.round(performance.now() - slowStart)} ms)`);
  assert.equal(waits[0], 1_000, 'one command waits up to 1 s');
  assert.ok(waits.slice(1).every((w) => w <= 500), `then what is left: ${waits.join(', ')}`);
});

test('what finding the board says (none, several, bootloader) comes through as one line with the hub\'s name', async () => {
  const several: YkushConnect = async () => { throw new Error('2 YKUSH boards are attached (…): name one with serial: in the rig\'s hubs[] entry (e.g. serial: YK1)'); };
  await assert.rejects(ykushDriver(HUB, { connect: several }).setPort(1, true),
    { name: 'HubError', message: `${WHERE}: 2 YKUSH boards are attached (…): name one with serial: in the rig's hubs[] entry (e.g. serial: YK1)` });
});

test('on this machine: the real USB path ends in one line (no USB here, or no YKUSH attached), never a crash', async () => {
  const hub = ykushDriver(HUB, { timeoutMs: 5_000 });
  const error = await hub.status().then(() => assert.fail('a YKUSH answered on this machine'), (e: unknown) => e);
  assert.ok(error instanceof HubError, String(error));
  assert.ok(!error.message.includes('\n'), error.message);
  if (!existsSync('/sys/bus/usb')) {
    assert.match(error.message, /^hub yk \(ykush\): no USB on this host \(getDevices error: \/sys\/bus\/usb\/devices\/ not found \(errno 2\)\)$/);
  } else {
    assert.match(error.message, /^hub yk \(ykush\): no YKUSH is attached to this machine /);
  }
  await hub.close();
});

test('createHubDriver: a YKUSH with just an id, locally; refused for a Mac reached over ssh', () => {
  const local = createHubDriver(new LocalExec(), { id: 'yk', driver: 'ykush' }, {});
  assert.equal(local.id, 'yk');
  assert.throws(() => createHubDriver(new LocalExec(), { id: 'yk', driver: 'ykush', serial: 'YK20001' }, { overSsh: 'ci@mac-mini' }), {
    name: 'HubError',
    message: 'hub yk: a YKUSH is driven through its USB control interface, which enumerates only on the machine its upstream port is plugged into, ' +
      'and this rig\'s Mac is reached over ssh (ci@mac-mini): run dextbench on that Mac (host: local), or use a hub that uhubctl switches (driver: uhubctl)',
  });
});
