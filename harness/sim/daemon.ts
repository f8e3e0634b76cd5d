// The simulated Mac's daemon: `node --import tsx harness/sim/daemon.ts --config <file> --state-dir <dir> [--shared]`.
// Prints one ready JSON line and serves the shims in <state-dir>/bin. It runs until SIGTERM, and:
// - by default until its stdin closes (so it never outlives the one process that started it);
// - with --shared, for as long as anyone is attached through its control socket (see control.ts):
//   one simulated Mac per state dir, shared by a run, the hands-on commands and a second run, and
//   started detached so that a Ctrl-C in the terminal reaches the runner, not the Mac.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, configHash, loadConfig } from './config.ts';
import { startControl } from './control.ts';
import { ensureCBridge } from './dext/c-bridge.ts';
import { Mac } from './mac.ts';
import { startServer, writeShims } from './server.ts';
import { loadState } from './state.ts';

function fail(message: string, code: number): never {
  process.stderr.write(`sim: ${message}\n`);
  process.exit(code);
}

// Unix socket paths are limited to ~104 bytes; long state dirs get a socket in the temp dir.
function socketPathFor(stateDir: string, name = 'sim'): string {
  const local = join(stateDir, `${name}.sock`);
  if (Buffer.byteLength(local) < 100) return local;
  return join(tmpdir(), `dextbench-${name}-${createHash('sha1').update(stateDir).digest('hex').slice(0, 12)}.sock`);
}

async function main(): Promise<void> {
  const usage = 'usage: daemon.ts --config <config.json> --state-dir <dir> [--shared]';
  let values: { config?: string; 'state-dir'?: string; shared?: boolean };
  try {
    ({ values } = parseArgs({ options: { config: { type: 'string' }, 'state-dir': { type: 'string' }, shared: { type: 'boolean' } }, strict: true }));
  } catch (e) {
    fail(`${(e as Error).message}; ${usage}`, 2);
  }
  if (!values.config || !values['state-dir']) fail(usage, 2);

  let config;
  try {
    config = loadConfig(resolve(values.config));
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message, 2);
    throw e;
  }
  const stateDir = resolve(values['state-dir']);
  mkdirSync(stateDir, { recursive: true });
  const statePath = join(stateDir, 'state.json');
  let state;
  try {
    state = loadState(statePath, config);
  } catch (e) {
    // The launcher recognises this line and tells the user how to reset the Mac.
    fail(`damaged state ${statePath}: ${(e as Error).message.split('\n')[0]}`, 3);
  }

  // The C dext server is built in the background (make, once, under a lock); a failure is one line
  // here and dextbench-bridge falls back to the TypeScript model (or fails, with dextServer "c").
  if (config.dextServer !== 'ts') {
    void ensureCBridge().then((b) => {
      if (!b.ok) process.stderr.write(`sim: C dext server unavailable (${b.reason}); dextbench-bridge uses the TypeScript model\n`);
    });
  }
  const mac = new Mac(config, state, statePath);
  mac.boot();
  const socket = socketPathFor(stateDir);
  const binDir = join(stateDir, 'bin');
  await writeShims(binDir, socket);
  const { server, sockets } = await startServer(mac, socket);

  let stopping = false;
  let control: Awaited<ReturnType<typeof startControl>> | undefined;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    mac.shutdown();
    for (const s of sockets) s.destroy();
    rmSync(socket, { force: true });
    control?.close();
    server.close(() => process.exit(0));
    // Every wait has a deadline: do not hang on a stuck connection.
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (values.shared) {
    control = await startControl({
      stateDir, socket: socketPathFor(stateDir, 'ctl'), configHash: configHash(values.config), binDir, toolSocket: socket, stop,
    });
  } else {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }

  process.stdout.write(JSON.stringify({ ready: true, binDir, socket, pid: process.pid }) + '\n');
  // A shared Mac's starter stops reading once it is ready; nothing else is written to stdout.
  if (values.shared) process.stdout.on('error', () => { /* the starter has gone */ });
}

main().catch((e: unknown) => fail((e as Error).message.split('\n')[0] ?? 'failed', 1));
