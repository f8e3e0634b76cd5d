// The channel conformance vectors (dext-fixtures/proto/conformance/loopback-session.json) against
// both simulated dext servers. (1) The TypeScript model in process, with the vectors' clock and
// advance: byte for byte, every step. (2) Both servers through the `dextbench-bridge` shim of a
// running sim: byte for byte wherever the answer does not depend on the clock or on how far io has
// moved; those fields are listed per step and the rest of the message must still be equal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LoopbackModel } from '../../harness/sim/dext/model.ts';
import { BridgeClient, Response, frame, type Msg } from './bridge-support.ts';
import { C_TOOLCHAIN, lane } from '../support/lane.ts';
import { DEXTS, ROOT, simConfig, startSim, waitFor, type Sim } from './support.ts';

interface Step { name: string; clock_ns: number; advance_bytes: number; request_hex: string; response_hex: string }
const session = JSON.parse(readFileSync(join(ROOT, 'dext-fixtures/proto/conformance/loopback-session.json'), 'utf8')) as {
  config: { driver_name: string; driver_version: string; instance_id: string; process_start_time_ns: string; endpoints: number[]; init_clock_ns: number };
  steps: Step[];
};

test('TypeScript loopback model: every loopback-session step byte for byte', () => {
  const c = session.config;
  let clock = BigInt(c.init_clock_ns);
  const model = new LoopbackModel({
    driverName: c.driver_name, driverVersion: c.driver_version, instanceId: BigInt(c.instance_id),
    processStartTimeNs: BigInt(c.process_start_time_ns), endpoints: c.endpoints, now: () => clock,
  });
  assert.ok(session.steps.length >= 25);
  for (const s of session.steps) {
    clock = BigInt(s.clock_ns);
    if (s.advance_bytes) model.advance(s.advance_bytes);
    assert.equal(Buffer.from(model.handle(Buffer.from(s.request_hex, 'hex'))).toString('hex'), s.response_hex, s.name);
  }
});

// ------------------------------------------------------------------ through the shim, live

const FAULT_DELAY = 4;
/** io is frozen with a DELAY fault (the vectors advance io by hand; a live server moves it by time). */
const FREEZE_NS = 3_600_000_000_000n;

interface LivePlan {
  /** Fields that depend on the live clock or on io progress: removed from both sides before comparing. */
  ignore?: string[];
  before?: 'freeze';
  /** After the step: let io move and wait until this io is no longer RUNNING. */
  thenFinish?: bigint;
  events?: true;
}
const PLAN: Record<string, LivePlan> = {
  'ping': { ignore: ['ping.timeNs'] },
  'get_info': { ignore: ['info.instanceId', 'info.processStartTimeNs'] },
  'poll_events: Started': { events: true },
  'io_start loopback prbs31 64KiB': { before: 'freeze' },
  'io_status running, nothing moved': { ignore: ['ioStatus.elapsedNs'] },
  'io_status after 32KiB': { ignore: ['ioStatus.bytesDone', 'ioStatus.elapsedNs'] },
  'inject_fault corrupt offset 40000': { thenFinish: 1n },
  'io_status done with one corrupted byte': { ignore: ['ioStatus.elapsedNs'] },
  'get_stats all': { ignore: ['stats.endpoints.transfers'] },
  'poll_events: fault log, io done': { events: true },
  'io_start endpoint 0x81 in': { thenFinish: 2n },
  'io_status failed by the stall': { ignore: ['ioStatus.elapsedNs'] },
  'get_stats 0x81 counts the stall': { ignore: ['stats.endpoints.transfers'] },
  'io_start 1MiB prbs7': { before: 'freeze' },
  'io_stop aborts after 48KiB': { ignore: ['ioStop.bytesDone', 'ioStop.elapsedNs'] },
  'poll_events max 2': { events: true },
  'poll_events rest': { events: true },
};
/** Not sendable on stdio: a frame's length is 1..16384, so an empty Request cannot be framed. */
const UNFRAMEABLE = new Set(['empty request']);

function plain(bytes: Uint8Array): Msg {
  return Response.toObject(Response.decode(bytes), { longs: String, bytes: String, oneofs: true }) as Msg;
}

function drop(obj: Msg, path: string[]): void {
  const [head, ...rest] = path;
  const v = obj[head!];
  if (rest.length === 0) { delete obj[head!]; return; }
  if (Array.isArray(v)) for (const x of v) drop(x as Msg, rest);
  else if (v && typeof v === 'object') drop(v as Msg, rest);
}

function normalized(bytes: Uint8Array, ignore: string[]): Msg {
  const m = plain(bytes);
  for (const p of ignore) drop(m, p.split('.'));
  return m;
}

const isDelayLog = (e: Msg): boolean => typeof e['log']?.text === 'string' && e['log'].text.startsWith('fault injected: delay io');

/** Events without seq and time; IoDone of an aborted io carries how far it had moved (live: frozen). */
function eventShape(e: Msg): Msg {
  const { seq: _s, timeNs: _t, ...rest } = e;
  if (rest['ioDone']?.state === 3) rest['ioDone'] = { ...rest['ioDone'], bytesDone: '(progress)' };
  return JSON.parse(JSON.stringify(rest)) as Msg;
}

// The C server is built by the simulated Mac with make (else it serves with the TS model): a lane.
const cServer = lane('C dext server of the simulated Mac', C_TOOLCHAIN);

for (const server of ['c', 'ts'] as const) {
  describe(`conformance through the dextbench-bridge shim, ${server === 'c' ? 'C (dextbench-sim-dext)' : 'TypeScript'} server`, { skip: server === 'c' ? cServer : false }, () => {
    let sim: Sim;
    let bridge: BridgeClient | undefined;
    before(async () => {
      sim = await startSim(simConfig({ developerMode: true, dextServer: server }));
      assert.equal((await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver'])).code, 0);
      assert.equal((await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on'])).code, 0);
    });
    after(async () => { bridge?.kill(); await sim.stop(); });

    test('loopback-session vectors: exact bytes, or equal after the listed live fields', async () => {
      const pid = await waitFor('dext running', async () =>
        /"IOUserClientCreator" = "pid (\d+),/.exec((await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout)?.[1], 8000);
      const b = bridge = new BridgeClient(sim, ['--match', 'IOUserServerName=com.example.echo.driver']);
      assert.equal((await b.next(10_000))['bridgeStatus']?.state, 1);
      let extraId = 10_000n;
      const delay = async (param: bigint): Promise<void> => {
        const r = await b.call({ id: ++extraId, injectFault: { kind: FAULT_DELAY, param } });
        assert.equal(r['status'], undefined);
      };
      const liveEvents: Msg[] = [];
      const vectorEvents: Msg[] = [];
      let exact = 0;
      for (const step of session.steps) {
        if (UNFRAMEABLE.has(step.name)) continue;
        const plan = PLAN[step.name] ?? {};
        if (plan.before === 'freeze') await delay(FREEZE_NS);
        const req = Buffer.from(step.request_hex, 'hex');
        const id = BigInt(plain(Buffer.from(step.response_hex, 'hex'))['id'] ?? '0');
        b.sendRaw(frame(req));
        const { bytes } = await b.responseRaw(id);
        if (plan.events) {
          const want = plain(Buffer.from(step.response_hex, 'hex'));
          vectorEvents.push(...(want['eventBatch']?.events ?? []) as Msg[]);
          const got = plain(bytes);
          assert.ok(got['eventBatch'], `${step.name}: an EventBatch`);
          liveEvents.push(...(got['eventBatch'].events ?? []) as Msg[]);
        } else if (plan.ignore) {
          assert.deepEqual(normalized(bytes, plan.ignore), normalized(Buffer.from(step.response_hex, 'hex'), plan.ignore), step.name);
        } else {
          assert.equal(bytes.toString('hex'), step.response_hex, step.name);
          exact++;
        }
        if (step.name === 'get_info') {
          assert.equal(plain(bytes)['info'].instanceId, pid, 'GetInfo.instance_id is the dext pid');
        }
        if (plan.thenFinish !== undefined) {
          await delay(0n);
          await waitFor(`io ${plan.thenFinish} finished`, async () =>
            (await b.call({ id: ++extraId, ioStatus: { ioId: plan.thenFinish } }))['ioStatus'].state !== 1);
        }
      }
      assert.ok(exact >= 14, `${exact} steps compared byte for byte`);

      // Events: what the doorbell forwarded plus what the polls returned, in order, seq without gaps.
      await b.call({ id: ++extraId, ping: {} });
      const all = [...b.unsolicited.flatMap((f) => (f['eventBatch']?.events ?? []) as Msg[])
        .map((e) => plain(Response.encode(Response.fromObject({ eventBatch: { events: [e] } })).finish())['eventBatch'].events[0] as Msg), ...liveEvents]
        .sort((x, y) => Number(BigInt(x['seq']) - BigInt(y['seq'])));
      assert.deepEqual(all.map((e) => BigInt(e['seq'])), all.map((_, i) => BigInt(i + 1)), 'seq 1, 2, 3 … without gaps');
      assert.deepEqual(all.filter((e) => !isDelayLog(e)).map(eventShape), vectorEvents.map(eventShape));
      assert.deepEqual(await b.close(), { code: 0, signal: null });
    });
  });
}
