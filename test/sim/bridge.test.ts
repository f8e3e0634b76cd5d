// dextbench-bridge on the simulated Mac: real daemon, real shims as processes, against both dext
// models (libdextbench's in dextbench-sim-dext, and the TypeScript twin). Lifecycle as on a Mac: an unplug, a kill
// or an InjectFault CRASH terminates open connections; a relaunched dext is a new instance.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BridgeClient, Echo, type Msg } from './bridge-support.ts';
import { C_TOOLCHAIN, lane } from '../support/lane.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from './support.ts';

const MATCH = ['--match', 'IOUserClass=EchoDriver', '--match', 'CFBundleIdentifier=com.example.echo.driver'];
const TERMINATED = 2;
const OPEN_FAILED = 3;

async function dextPid(sim: Sim, not?: number): Promise<number> {
  return waitFor('dext running', async () => {
    const m = /"IOUserClientCreator" = "pid (\d+),/.exec((await sim.run('ioreg', ['-r', '-c', 'IOUserServer', '-l', '-w0'])).stdout);
    const pid = m ? Number(m[1]) : undefined;
    return pid !== undefined && pid !== not ? pid : undefined;
  }, 8000);
}

async function open(sim: Sim): Promise<BridgeClient> {
  const b = new BridgeClient(sim, MATCH);
  const first = await b.next(10_000);
  assert.equal(first['bridgeStatus']?.state, 1, 'OPENED first');
  assert.equal(first['bridgeStatus'].userClass, 'EchoDriver');
  return b;
}

async function expectTerminated(b: BridgeClient, deadlineMs: number): Promise<Msg> {
  const t0 = Date.now();
  const last = await b.status(deadlineMs);
  assert.equal(last['bridgeStatus'].state, TERMINATED);
  assert.deepEqual(await b.exitWithin(Math.max(500, deadlineMs - (Date.now() - t0))), { code: 2, signal: null });
  assert.match(b.stderr, /\{"event":"terminated","registryId":"\d+","ioReturn":"0x[0-9a-f]{8}"\}/);
  return last;
}

async function crashCount(sim: Sim): Promise<number> {
  const r = await sim.run('log', ['show', '--style', 'ndjson', '--predicate', 'eventMessage CONTAINS "has crashed"']);
  return r.stdout.split('\n').filter((l) => l.includes('has crashed')).length;
}

// The C server is built by the simulated Mac with make (else it serves with the TS model): a lane.
const cServer = lane('C dext server of the simulated Mac', C_TOOLCHAIN);

for (const server of ['c', 'ts'] as const) {
  describe(`dextbench-bridge shim, ${server === 'c' ? 'C (dextbench-sim-dext)' : 'TypeScript'} dext server`, { skip: server === 'c' ? cServer : false }, () => {
    let sim: Sim;
    const bridges: BridgeClient[] = [];
    const track = (b: BridgeClient): BridgeClient => { bridges.push(b); return b; };
    before(async () => { sim = await startSim(simConfig({ developerMode: true, dextServer: server })); });
    after(async () => { for (const b of bridges) b.kill(); await sim.stop(); });

    test('no matching service: OPEN_FAILED naming the match, exit 69', async () => {
      const b = track(new BridgeClient(sim, ['--match', 'IOUserClass=EchoDriver']));
      const f = await b.next(10_000);
      assert.equal(f['bridgeStatus'].state, OPEN_FAILED);
      assert.equal(f['bridgeStatus'].message, 'no service matches IOUserClass=EchoDriver');
      assert.deepEqual(await b.exitWithin(5000), { code: 69, signal: null });
      assert.match(b.stderr, /^\{"event":"openFailed","transport":"inproc","ioReturn":"0x00000000","message":"no service matches IOUserClass=EchoDriver"\}$/m);
      const usage = track(new BridgeClient(sim, ['--bogus']));
      assert.deepEqual(await usage.exitWithin(5000), { code: 64, signal: null });
      assert.match(usage.stderr, /^usage: dextbench-bridge --match KEY=VALUE/);
      // --help is the probe provision and doctor run: usage on stdout, exit 0, as bridge_core.c.
      assert.deepEqual(await sim.run('dextbench-bridge', ['--help']), { code: 0, stdout: 'usage: dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]\n', stderr: '' });
    });

    test('Hello, Ping, GetInfo (the dext process identity), Extension echo', async () => {
      assert.equal((await sim.run('dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver'])).code, 0);
      assert.equal((await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on'])).code, 0);
      const pid = await dextPid(sim);
      const b = track(await open(sim));
      const hello = await b.call({ id: 1, hello: { protocolVersion: 1 } });
      assert.equal(hello['hello'].protocolVersion, 1);
      assert.deepEqual(hello['hello'].capabilities, ['loopback', 'endpoint', 'faults', 'events']);
      const data = Buffer.alloc(6000, 0);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
      const nonce = (1n << 63n) + 5n;
      const pong = await b.call({ id: 2, ping: { nonce, data } });
      assert.equal(pong['ping'].nonce, nonce);
      assert.ok(Buffer.from(pong['ping'].data).equals(data));
      const info = (await b.call({ id: 3, getInfo: {} }))['info'];
      assert.equal(info.driverName, 'EchoDriver');
      assert.equal(info.driverVersion, '1.0.0');
      assert.equal(info.instanceId, BigInt(pid));
      const startMs = Number(info.processStartTimeNs / 1_000_000n);
      assert.ok(Math.abs(Date.now() - startMs) < 60_000, 'start time is the dext launch (wall clock)');

      const echo = Echo.encode(Echo.fromObject({ text: 'héllo', count: 7, blob: Buffer.from([0, 1, 255]), token: (1n << 64n) - 1n })).finish();
      const ext = await b.call({ id: 4, extension: { typeName: 'dextbench.echo.v1.Echo', payload: echo } });
      assert.equal(ext['extension'].typeName, 'dextbench.echo.v1.Echo');
      assert.ok(Buffer.from(ext['extension'].payload).equals(Buffer.from(echo)));
      const back = Echo.toObject(Echo.decode(ext['extension'].payload), { longs: BigInt });
      assert.deepEqual(back, { text: 'héllo', count: 7, blob: Buffer.from([0, 1, 255]), token: (1n << 64n) - 1n });
      assert.ok(b.events().some((e) => e['started']), 'Started forwarded through the doorbell');
      assert.deepEqual(await b.close(), { code: 0, signal: null });
    });

    test('loopback IoStart of 8 MiB PRBS31 runs to DONE with 0 errors', async () => {
      const b = track(await open(sim));
      const bytes = 8n << 20n;
      const started = await b.call({ id: 1, ioStart: { mode: 1, byteCount: bytes, pattern: 3, seed: 31 } });
      const ioId = started['ioStart'].ioId as bigint;
      let st: Msg = {};
      await waitFor('io done', async () => {
        st = (await b.call({ id: 2, ioStatus: { ioId } }))['ioStatus'];
        return st['state'] !== 1;
      }, 15_000);
      assert.equal(st['state'], 2); // DONE
      assert.equal(st['bytesDone'], bytes);
      assert.equal(st['errors'] ?? 0n, 0n);
      const done = await waitFor('IoDone forwarded', async () => {
        await b.call({ id: 3, ping: {} });
        return b.events().find((e) => e['ioDone'])?.['ioDone'] as Msg | undefined;
      });
      assert.deepEqual({ ...done, errors: done['errors'] ?? 0n }, { ioId, state: 2, bytesDone: bytes, errors: 0n });
      assert.ok(b.events().filter((e) => e['ioProgress']).length >= 7, 'IoProgress every MiB');
      const stats = (await b.call({ id: 4, getStats: { endpoint: 0x81 } }))['stats'];
      assert.equal(stats.endpoints[0].bytes, bytes);
      await b.close();
    });

    test('the dext process outlives its connections: io runs on unconnected, stats and events are the dext\'s', async () => {
      const a = track(await open(sim));
      const bytes = 256n << 20n; // 0.67 s at the sim's 400 MB/s: still running when a closes
      const ioId = (await a.call({ id: 1, ioStart: { mode: 1, byteCount: bytes, pattern: 3, seed: 5 } }))['ioStart'].ioId as bigint;
      // A proto3 field at 0 is not on the wire: bytesDone is absent until the first chunk.
      const atClose = BigInt((await a.call({ id: 2, ioStatus: { ioId } }))['ioStatus']['bytesDone'] ?? 0);
      assert.ok(atClose < bytes, 'still running when its connection closes');
      assert.deepEqual(await a.close(), { code: 0, signal: null });
      await new Promise((resolve) => setTimeout(resolve, 200)); // nobody connected
      const b = track(await open(sim));
      const first = BigInt((await b.call({ id: 1, ioStatus: { ioId } }))['ioStatus']['bytesDone'] ?? 0);
      assert.ok(first > atClose, `it moved on while nobody was connected (${atClose} -> ${first})`);
      let n = 10;
      const st = await waitFor('the io DONE with every byte', async () => {
        const s = (await b.call({ id: n++, ioStatus: { ioId } }))['ioStatus'];
        return s['state'] === 2 ? s : undefined;
      }, 10_000);
      assert.equal(st['bytesDone'], bytes);

      const c = track(await open(sim)); // two connections at once, one dext
      const statsB = (await b.call({ id: n++, getStats: { endpoint: 0x81 } }))['stats'];
      const statsC = (await c.call({ id: 1, getStats: { endpoint: 0x81 } }))['stats'];
      assert.deepEqual(statsC, statsB);
      assert.ok(statsB.endpoints[0].bytes >= bytes);

      // The doorbell is the last subscriber's (c): the fault's WARN log goes to c, in the dext's seq.
      const seqBefore = [...b.events(), ...c.events()].reduce((max, e) => (e['seq'] > max ? e['seq'] : max), 0n);
      await c.call({ id: 2, injectFault: { kind: 4, param: 1 } });
      const warn = await waitFor('the WARN log forwarded to c', async () => {
        await c.call({ id: 3, ping: {} });
        return c.events().find((e) => e['log']?.text === 'fault injected: delay io by ns 1');
      });
      assert.ok(warn['seq'] > seqBefore && seqBefore > 1n, `seq ${warn['seq']} continues the dext's (after ${seqBefore})`);
      await b.call({ id: n++, ping: {} });
      assert.equal(b.events().some((e) => e['log']?.text === 'fault injected: delay io by ns 1'), false, 'b has no doorbell');
      assert.deepEqual(await b.close(), { code: 0, signal: null });
      assert.deepEqual(await c.close(), { code: 0, signal: null });
    });

    test('unplug mid-io: TERMINATED and exit 2 within 3 s', async () => {
      const b = track(await open(sim));
      await b.call({ id: 1, ioStart: { mode: 1, byteCount: 1n << 40n, pattern: 3 } });
      assert.equal((await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'off'])).code, 0);
      await expectTerminated(b, 3000);
      assert.equal((await sim.run('uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on'])).code, 0);
    });

    test('kill the dext: TERMINATED; after the relaunch a new connection shows a new instance', async () => {
      const pid = await dextPid(sim);
      const b = track(await open(sim));
      const before = (await b.call({ id: 1, getInfo: {} }))['info'];
      const crashes = await crashCount(sim);
      assert.equal((await sim.run('kill', ['-KILL', String(pid)])).code, 0);
      await expectTerminated(b, 3000);
      const newPid = await dextPid(sim, pid);
      const c = track(await open(sim));
      const info = (await c.call({ id: 1, getInfo: {} }))['info'];
      assert.equal(info.instanceId, BigInt(newPid));
      assert.notEqual(info.instanceId, before.instanceId);
      assert.ok(info.processStartTimeNs > before.processStartTimeNs);
      assert.equal(await crashCount(sim), crashes + 1);
      await c.close();
    });

    test('InjectFault CRASH crashes the dext like kill -KILL: UNAVAILABLE, TERMINATED, relaunch', async () => {
      const pid = await dextPid(sim);
      const crashes = await crashCount(sim);
      const b = track(await open(sim));
      const other = track(await open(sim)); // a second connection to the same dext dies with it
      const r = await b.call({ id: 7, injectFault: { kind: 1 } });
      assert.equal(r['status'].code, 14);
      assert.equal(r['status'].message, 'service terminated during the call');
      const last = await expectTerminated(b, 3000);
      assert.equal(last['bridgeStatus'].ioReturn, 0xe00002eb | 0);
      await expectTerminated(other, 3000);
      const log = await sim.run('log', ['show', '--style', 'ndjson', '--predicate', 'eventMessage CONTAINS "exit(SIGKILL)"']);
      assert.match(log.stdout, /::exit\(SIGKILL\)/);
      const newPid = await dextPid(sim, pid);
      assert.equal(await crashCount(sim), crashes + 1);
      const c = track(await open(sim));
      assert.equal((await c.call({ id: 1, getInfo: {} }))['info'].instanceId, BigInt(newPid));
      await c.close();
    });

    test('a reboot terminates open connections', async () => {
      await dextPid(sim);
      const b = track(await open(sim));
      assert.equal((await sim.run('reboot')).code, 0);
      await expectTerminated(b, 3000);
    });
  });
}
