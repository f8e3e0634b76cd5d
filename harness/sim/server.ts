// The unix-socket server the shims talk to (protocol: see shim.js).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Mac } from './mac.ts';
import { RAW_TOOLS, TOOLS } from './tools/index.ts';

interface Request { tool: string; argv: string[]; cwd: string; raw?: boolean }

function isRequest(v: unknown): v is Request {
  const r = v as Request;
  return !!r && typeof r.tool === 'string' && Array.isArray(r.argv) && r.argv.every((a) => typeof a === 'string') && typeof r.cwd === 'string';
}

const RECORD = { out: 1, err: 2, exit: 3 } as const;

function record(type: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32LE(body.length, 1);
  return Buffer.concat([head, body]);
}

function serveText(mac: Mac, sock: Socket, req: Request, abort: AbortController): void {
  const send = (msg: object): void => { if (!sock.destroyed && sock.writable) sock.write(JSON.stringify(msg) + '\n'); };
  const tool = TOOLS[req.tool];
  if (!tool) { send({ err: `sim: unknown tool ${req.tool}\n` }); send({ exit: 127 }); sock.end(); return; }
  const ctx = {
    mac, argv: req.argv, cwd: req.cwd, signal: abort.signal,
    out: (text: string) => send({ out: text }),
    err: (text: string) => send({ err: text }),
  };
  Promise.resolve()
    .then(() => tool(ctx))
    .catch((e: unknown) => {
      ctx.err(`${req.tool}: internal error in the simulated Mac: ${(e as Error).message}\n`);
      return 70;
    })
    .then((code) => {
      mac.settle();
      send({ exit: code });
      sock.end();
    });
}

function serveRaw(mac: Mac, sock: Socket, req: Request, abort: AbortController, stdin: PassThrough): void {
  const send = (type: number, body: Uint8Array): void => { if (!sock.destroyed && sock.writable) sock.write(record(type, body)); };
  const tool = RAW_TOOLS[req.tool];
  const exit = (code: number): void => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(code);
    send(RECORD.exit, b);
    sock.end();
  };
  if (!tool) { send(RECORD.err, Buffer.from(`sim: unknown tool ${req.tool}\n`)); exit(127); return; }
  const ctx = {
    mac, argv: req.argv, cwd: req.cwd, signal: abort.signal, stdin,
    out: (bytes: Uint8Array) => send(RECORD.out, bytes),
    err: (text: string) => send(RECORD.err, Buffer.from(text)),
  };
  tool(ctx)
    .catch((e: unknown) => {
      ctx.err(`${req.tool}: internal error in the simulated Mac: ${(e as Error).message}\n`);
      return 70;
    })
    .then((code) => {
      mac.settle();
      exit(code);
    });
}

function handle(mac: Mac, sock: Socket): void {
  const abort = new AbortController();
  let buf: Buffer = Buffer.alloc(0);
  let stdin: PassThrough | undefined;
  let started = false;
  sock.on('close', () => { abort.abort(); stdin?.destroy(); });
  sock.on('error', () => abort.abort());
  sock.on('end', () => {
    // Raw tools: the shim's stdin ended (half-close); text shims only end by going away.
    if (stdin) stdin.end();
    else { abort.abort(); sock.end(); }
  });
  sock.on('data', (data: Buffer) => {
    if (stdin) { stdin.write(data); return; }
    if (started) return; // stdin frames: no simulated text tool reads stdin
    buf = buf.length ? Buffer.concat([buf, data]) : data;
    const nl = buf.indexOf(0x0a);
    if (nl < 0) return;
    started = true;
    let req: unknown;
    try { req = JSON.parse(buf.subarray(0, nl).toString('utf8')); } catch { req = null; }
    if (!isRequest(req)) { sock.write(JSON.stringify({ err: 'sim: malformed request\n' }) + '\n'); sock.end(JSON.stringify({ exit: 70 }) + '\n'); return; }
    if (req.raw) {
      stdin = new PassThrough();
      const rest = buf.subarray(nl + 1);
      if (rest.length) stdin.write(rest);
      serveRaw(mac, sock, req, abort, stdin);
    } else {
      serveText(mac, sock, req, abort);
    }
  });
}

export function startServer(mac: Mac, socketPath: string): Promise<{ server: Server; sockets: Set<Socket> }> {
  if (existsSync(socketPath)) rmSync(socketPath);
  const sockets = new Set<Socket>();
  // Half-open: a raw shim ends its side when its stdin ends and still reads the answers.
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

/** One copy of the shim per tool, with the socket path and tool name baked in. */
export function writeShims(binDir: string, socketPath: string): void {
  mkdirSync(binDir, { recursive: true });
  const template = readFileSync(new URL('./shim.js', import.meta.url), 'utf8');
  // Pin CommonJS so the extension-less shims load the same wherever the state dir lives.
  writeFileSync(join(binDir, 'package.json'), '{"type":"commonjs"}\n');
  const tools = [...Object.keys(TOOLS).map((n) => [n, false] as const), ...Object.keys(RAW_TOOLS).map((n) => [n, true] as const)];
  for (const [name, raw] of tools) {
    const path = join(binDir, name);
    writeFileSync(`${path}.tmp`, template.replace('__SOCKET__', JSON.stringify(socketPath)).replace('__TOOL__', JSON.stringify(name)).replace('__RAW__', String(raw)));
    chmodSync(`${path}.tmp`, 0o755);
    renameSync(`${path}.tmp`, path);
  }
}
