// The shims of the simulated Mac, both kinds against one real daemon: the compiled relay (when a C
// compiler is present) and the Node fallback. Each must pass argv byte-exact, keep stdin and
// stdout binary-clean, return the tool's exit code, end with 143/130 on SIGTERM/SIGINT and 141
// on a closed stdout while disconnecting so the daemon aborts the tool, and say one line, exit
// 69, when the daemon is not there.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TOOL_NAMES, writeShims, type ShimKind } from '../../harness/sim/server.ts';
import { ensureRelay } from '../../harness/sim/relay/build.ts';
import { BridgeClient, encodeRequest, frame, type Msg } from './bridge-support.ts';
import { C_TOOLCHAIN, lane, NEEDS } from '../support/lane.ts';
import { DEXTS, simConfig, startSim, waitFor, type Sim } from './support.ts';

const noCc = lane('the compiled shim relay', [NEEDS.cc]);
// With the TypeScript dext server there is no bridge process to watch stop.
const cBridge = lane('the simulated Mac\'s C dext server', C_TOOLCHAIN);
// Where the daemon's connections and children are read from.
const notLinux = process.platform === 'linux' ? false : 'reads /proc (Linux only)';

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }

function run(dir: string, tool: string, args: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(join(dir, tool), args, { encoding: 'buffer', timeout: 10_000, maxBuffer: 64 << 20 }, (_error, stdout, stderr) => {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** Connections the daemon holds open (Linux: accepted unix sockets carry the listener's path). */
/** The inodes of the daemon's socket ends (its listener and each accepted connection). */
function daemonSockets(socket: string): Set<string> {
  return new Set(readFileSync('/proc/net/unix', 'utf8').split('\n').filter((line) => line.endsWith(` ${socket}`)).map((line) => line.trim().split(/\s+/)[6]!));
}

/** The daemon's C bridge processes (one per open dextbench-bridge command). */
function bridgeChildren(daemonPid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      // Field 4 of stat is the parent; the name in field 2 may hold spaces, so count from its end.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === daemonPid && basename(readlinkSync(`/proc/${pid}/exe`)) === 'dextbench-bridge-simdext';
    } catch {
      return false; // gone meanwhile
    }
  }).map(Number);
}

for (const kind of ['relay', 'node'] as const satisfies readonly ShimKind[]) {
  describe(`the ${kind === 'relay' ? 'compiled relay' : 'Node'} shims`, { skip: kind === 'relay' ? noCc : false }, () => {
    let sim: Sim;
    let dir: string;
    before(async () => {
      sim = await startSim(simConfig({ developerMode: true, dextServer: cBridge ? 'auto' : 'c' }));
      dir = mkdtempSync(join(tmpdir(), `shims-${kind}-`));
      assert.equal(await writeShims(dir, sim.socket, kind), kind);
    });
    after(async () => {
      await sim?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('argv reaches the tool exactly: every byte 1..255, empty strings, a 32 KB argument, UTF-8', async () => {
      const everyByte = String.fromCharCode(...Array.from({ length: 255 }, (_, i) => i + 1));
      const big = Array.from({ length: 32 * 1024 }, (_, i) => String.fromCharCode(1 + (i * 7919) % 254)).join('');
      const args = [everyByte, '', 'héllo → 😀', big, ' ', '\n', ''];
      // kill names each argument that is no pid: /bin/kill's own message, argument by argument.
      const r = await run(dir, 'kill', ['--', ...args]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout.length, 0);
      assert.ok(r.stderr === args.map((a) => `kill: ${a}: No such process\n`).join(''), 'stderr names every argument byte-exact');
    });

    test('exit codes and both output streams are the tool\'s', async () => {
      const ok = await run(dir, 'sw_vers');
      assert.deepEqual([ok.code, ok.stdout.toString(), ok.stderr], [0, 'ProductName:\t\tmacOS\nProductVersion:\t\t15.5\nBuildVersion:\t\t24F74\n', '']);
      const usage = await run(dir, 'sw_vers', ['--bogus']);
      assert.equal(usage.code, 1);
      assert.match(usage.stderr, /^Usage: sw_vers /);
      assert.equal((await run(dir, 'kill')).code, 2);
      assert.equal((await run(dir, 'log', ['show', '--predicate', 'processID > 5'])).code, 64);
    });

    test('the raw bridge tool: binary frames both ways, byte-exact, in odd-sized writes', async () => {
      assert.equal((await run(dir, 'dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver'])).code, 0);
      assert.equal((await run(dir, 'uhubctl', ['-l', '1-1', '-p', '2', '-a', 'on'])).code, 0);
      await waitFor('the echo dext matched', async () => /"IOUserClass" = "EchoDriver"/.test((await run(dir, 'ioreg', ['-r', '-l', '-w0', '-c', 'IOUserService'])).stdout.toString()), 10_000);
      const b = new BridgeClient({ ...sim, env: () => ({ ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` }) }, ['--match', 'IOUserClass=EchoDriver']);
      try {
        assert.equal((await b.next(10_000))['bridgeStatus']?.state, 1, 'OPENED');
        // Every byte value, in payloads up to Ping's 8192-byte limit, sent as one stream cut at odd places.
        const payloads = Array.from({ length: 64 }, (_, n) => Buffer.from(Array.from({ length: (n * 131) % 8193 }, (_, i) => (i * 31 + n) & 0xff)));
        const stream = Buffer.concat(payloads.map((data, n) => frame(encodeRequest({ id: n + 1, ping: { nonce: n, data } }))));
        for (let pos = 0, cut = 1; pos < stream.length; pos += cut, cut = (cut * 3 + 1) % 9973) b.sendRaw(stream.subarray(pos, pos + cut));
        for (const [n, data] of payloads.entries()) {
          const pong: Msg = await b.response(BigInt(n + 1), 10_000);
          assert.ok(Buffer.from(pong['ping'].data ?? []).equals(data), `ping ${n + 1}: ${data.length} bytes back exactly`);
        }
        assert.deepEqual(await b.close(), { code: 0, signal: null });
      } finally {
        b.kill();
      }
    });

    test('SIGTERM on a bridge command: 143, and the daemon stops the bridge it ran for it', { skip: cBridge || notLinux }, async () => {
      const b = new BridgeClient({ ...sim, env: () => ({ ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` }) }, ['--match', 'IOUserClass=EchoDriver']);
      try {
        assert.equal((await b.next(10_000))['bridgeStatus']?.state, 1, 'OPENED');
        const bridges = await waitFor('the daemon runs a C bridge', async () => { const p = bridgeChildren(sim.proc.pid!); return p.length ? p : undefined; });
        b.child.kill('SIGTERM');
        assert.deepEqual(await b.exitWithin(5000), { code: 143, signal: null });
        await waitFor('the C bridge exited', async () => bridgeChildren(sim.proc.pid!).every((pid) => !bridges.includes(pid)));
      } finally {
        b.kill();
      }
    });

    /** `log stream` through the shim, once the daemon has its connection; killed after 10 s at the latest. */
    async function startLogStream() {
      // The stream's own connection, by inode: an earlier test's connection may still be closing,
      // so a count would be off by it.
      const before = daemonSockets(sim.socket);
      const child = spawn(join(dir, 'log'), ['stream', '--style', 'ndjson'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const connection = await waitFor('log stream connected', async () => [...daemonSockets(sim.socket)].find((inode) => !before.has(inode)));
      const closed = () => waitFor('the daemon closed the stream', async () => !daemonSockets(sim.socket).has(connection));
      return { child, exited, deadline, closed };
    }

    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      test(`${signal} ends the command with ${code} and disconnects, so the daemon aborts the tool`, { skip: notLinux }, async () => {
        const { child, exited, deadline, closed } = await startLogStream();
        try {
          child.kill(signal);
          assert.equal(await exited, code);
          await closed();
        } finally {
          clearTimeout(deadline);
        }
      });
    }

    test('a closed stdout (log stream | head) ends the command with 141 and disconnects', { skip: notLinux }, async () => {
      const { child, exited, deadline, closed } = await startLogStream();
      try {
        child.stdout!.destroy();
        // An activation request logs sysextd lines for the stream to write into the closed pipe.
        await waitFor('the shim noticed its reader is gone', async () => {
          await run(dir, 'dextbench-activator', ['activate', '--dext', join(DEXTS, 'EchoDriver-1.0.0.dext'), '--bundle', 'com.example.echo.driver']);
          return child.exitCode !== null;
        });
        assert.equal(await exited, 141);
        await closed();
      } finally {
        clearTimeout(deadline);
      }
    });

    test('no daemon at the socket: one line naming it, exit 69', async () => {
      const gone = mkdtempSync(join(tmpdir(), `shims-${kind}-gone-`));
      try {
        const socket = join(gone, 'sim.sock');
        await writeShims(gone, socket, kind);
        const r = await run(gone, 'sw_vers');
        assert.equal(r.code, 69);
        assert.equal(r.stdout.length, 0);
        assert.equal(r.stderr, `sw_vers: the simulated Mac is not reachable at ${socket}: ENOENT\n`);
      } finally {
        rmSync(gone, { recursive: true, force: true });
      }
    });
  });
}

test('with a C compiler present, the daemon installs the compiled relay for every tool', { skip: noCc }, async () => {
  const built = await ensureRelay();
  assert.ok(built.ok, `the relay builds with cc: ${built.ok ? '' : built.reason}`);
  const relay = readFileSync(built.path);
  const sim = await startSim();
  try {
    for (const tool of TOOL_NAMES) {
      const shim = join(sim.binDir, tool);
      assert.ok(readFileSync(shim).equals(relay), `${tool} is the compiled relay, not a Node script`);
      assert.ok(statSync(shim).mode & 0o111, `${tool} is executable`);
    }
    assert.equal((await sim.run('sw_vers', ['-productVersion'])).stdout, '15.5\n');
  } finally {
    await sim.stop();
  }
});
