// The unix-socket server the shims talk to, and the shims it installs.
//
// The shim protocol: one connection per command; both ways, records of
//   type u8 || length u32 LE || body.
// Shim → daemon: REQUEST first (the tool, the cwd, then each argument, each followed by a NUL:
// argv bytes pass exactly, and no argument can hold a NUL), then STDIN records of raw bytes and
// one STDIN_END. The shim never half-closes: its connection ending means the command went away
// (SIGTERM/SIGINT, a closed stdout), and the daemon aborts the tool.
// Daemon → shim: STDOUT and STDERR records of raw bytes, then EXIT (i32 LE), then it closes.
// The shims: relay/relay.c compiled (a command costs a process start) when `cc` builds it, else
// shim.js (a Node start, ~110 ms, per command).
import { chmodSync, copyFileSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Mac } from './mac.ts';
import { ensureRelay } from './relay/build.ts';
import { RAW_TOOLS, TOOLS } from './tools/index.ts';

const RECORD = { stdout: 1, stderr: 2, exit: 3, request: 4, stdin: 5, stdinEnd: 6 } as const;
const HEADER = 5;
/** ARG_MAX on macOS is 1 MiB; a request past this is not from a shim. */
const MAX_RECORD = 16 << 20;
const EXIT_SOFTWARE = 70;

function record(type: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out[0] = type;
  out.writeUInt32LE(body.length, 1);
  out.set(body, HEADER);
  return out;
}

interface Request { tool: string; cwd: string; argv: string[] }

/** tool NUL cwd NUL (arg NUL)*; tools see UTF-8 strings, as every caller passes (the harness is JS). */
function parseRequest(body: Buffer): Request | undefined {
  if (body.length === 0 || body[body.length - 1] !== 0) return undefined;
  const parts: string[] = [];
  for (let start = 0; start < body.length;) {
    const nul = body.indexOf(0, start);
    parts.push(body.toString('utf8', start, nul));
    start = nul + 1;
  }
  const [tool, cwd, ...argv] = parts;
  return tool && cwd !== undefined ? { tool, cwd, argv } : undefined;
}

/** Splits records off a byte stream; undefined when a record announces more than MAX_RECORD. */
class RecordReader {
  private pending: Buffer = Buffer.alloc(0);

  push(data: Buffer): [number, Buffer][] | undefined {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const records: [number, Buffer][] = [];
    let pos = 0;
    while (this.pending.length - pos >= HEADER) {
      const len = this.pending.readUInt32LE(pos + 1);
      if (len > MAX_RECORD) return undefined;
      if (this.pending.length - pos - HEADER < len) break;
      records.push([this.pending[pos]!, this.pending.subarray(pos + HEADER, pos + HEADER + len)]);
      pos += HEADER + len;
    }
    this.pending = this.pending.subarray(pos);
    return records;
  }
}

/** Runs the tool; resolves to its exit code. Only raw tools get stdin: no text tool reads it. */
function runTool(mac: Mac, req: Request, send: (type: number, body: Uint8Array) => void, signal: AbortSignal, stdin: PassThrough): Promise<number> {
  const err = (text: string): void => send(RECORD.stderr, Buffer.from(text));
  const base = { mac, argv: req.argv, cwd: req.cwd, signal, err };
  const text = TOOLS[req.tool];
  const raw = RAW_TOOLS[req.tool];
  if (!text && !raw) {
    err(`sim: unknown tool ${req.tool}\n`);
    return Promise.resolve(127);
  }
  return Promise.resolve()
    .then(() => (raw
      ? raw({ ...base, stdin, out: (bytes: Uint8Array) => send(RECORD.stdout, bytes) })
      : text!({ ...base, out: (s: string) => send(RECORD.stdout, Buffer.from(s)) })))
    .catch((e: unknown) => {
      err(`${req.tool}: internal error in the simulated Mac: ${(e as Error).message}\n`);
      return EXIT_SOFTWARE;
    });
}

function handle(mac: Mac, sock: Socket): void {
  const abort = new AbortController();
  const reader = new RecordReader();
  const stdin = new PassThrough();
  let started = false;
  let readsStdin = false;
  let finished = false;
  const send = (type: number, body: Uint8Array): void => { if (!sock.destroyed && sock.writable) sock.write(record(type, body)); };
  const exit = (code: number): void => {
    finished = true;
    // Whatever stdin still comes is dropped, so a shim blocked sending it reads its exit.
    sock.resume();
    const b = Buffer.alloc(4);
    b.writeInt32LE(code);
    send(RECORD.exit, b);
    sock.end();
  };
  // The shim went away before the tool finished: abort it (log stream ends, the bridge's child stops).
  const gone = (): void => {
    if (!finished) abort.abort();
    stdin.destroy();
    sock.destroy();
  };
  sock.on('end', gone);
  sock.on('close', gone);
  sock.on('error', gone);
  // Backpressure: a tool that reads its stdin slowly slows the shim down, not the daemon's memory.
  stdin.on('drain', () => sock.resume());
  sock.on('data', (data: Buffer) => {
    const records = reader.push(data);
    if (!records) { gone(); return; }
    for (const [type, body] of records) {
      if (!started) {
        started = true;
        const req = type === RECORD.request ? parseRequest(body) : undefined;
        if (!req) {
          send(RECORD.stderr, Buffer.from('sim: malformed request\n'));
          exit(EXIT_SOFTWARE);
          return;
        }
        readsStdin = req.tool in RAW_TOOLS;
        void runTool(mac, req, send, abort.signal, stdin).then((code) => {
          mac.settle();
          exit(code);
        });
      } else if (type === RECORD.stdin) {
        if (readsStdin && !finished && !stdin.destroyed && !stdin.writableEnded && !stdin.write(body)) sock.pause();
      } else if (type === RECORD.stdinEnd) {
        if (!stdin.destroyed) stdin.end();
      } else {
        gone();
        return;
      }
    }
  });
}

export function startServer(mac: Mac, socketPath: string): Promise<{ server: Server; sockets: Set<Socket> }> {
  rmSync(socketPath, { force: true });
  const sockets = new Set<Socket>();
  // Half-open, so that a shim's end is seen as 'end' here and handled as the shim going away.
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    handle(mac, sock);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve({ server, sockets }));
  });
}

export type ShimKind = 'relay' | 'node';

/** Every tool's name, as the shims in binDir are named. */
export const TOOL_NAMES = [...Object.keys(TOOLS), ...Object.keys(RAW_TOOLS)];

/**
 * One shim per tool in binDir, for the daemon at socketPath: the compiled relay when it builds
 * (kind 'auto', said once on stderr when it does not), or the Node shim. Returns the kind installed.
 */
export async function writeShims(binDir: string, socketPath: string, kind: ShimKind | 'auto' = 'auto'): Promise<ShimKind> {
  mkdirSync(binDir, { recursive: true });
  let relay: string | undefined;
  if (kind !== 'node') {
    const built = await ensureRelay();
    if (built.ok) relay = built.path;
    else if (kind === 'relay') throw new Error(`the shim relay did not build: ${built.reason}`);
    else process.stderr.write(`sim: compiled shims unavailable (${built.reason}); the shims are Node scripts, ~110 ms a command\n`);
  }
  const install = (name: string, write: (tmp: string) => void, mode = 0o755): void => {
    const path = join(binDir, name);
    rmSync(`${path}.tmp`, { force: true });
    write(`${path}.tmp`);
    chmodSync(`${path}.tmp`, mode);
    renameSync(`${path}.tmp`, path);
  };
  if (relay) {
    // The relay finds the daemon through this file beside it, and its tool by its own name.
    install('.sim-socket', (tmp) => writeFileSync(tmp, socketPath), 0o644);
    rmSync(join(binDir, 'package.json'), { force: true });
    for (const name of TOOL_NAMES) {
      install(name, (tmp) => {
        try { linkSync(relay, tmp); } catch { copyFileSync(relay, tmp); } // another filesystem: a copy
      });
    }
    return 'relay';
  }
  const template = readFileSync(new URL('./shim.js', import.meta.url), 'utf8');
  // Pin CommonJS so the extension-less shims load the same wherever the state dir lives.
  writeFileSync(join(binDir, 'package.json'), '{"type":"commonjs"}\n');
  rmSync(join(binDir, '.sim-socket'), { force: true });
  for (const name of TOOL_NAMES) {
    install(name, (tmp) => writeFileSync(tmp, template.replace('__SOCKET__', JSON.stringify(socketPath)).replace('__TOOL__', JSON.stringify(name))));
  }
  return 'node';
}
