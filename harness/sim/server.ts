// The unix-socket server the shims talk to (protocol: see shim.js).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Mac } from './mac.ts';
import { TOOLS } from './tools/index.ts';

interface Request { tool: string; argv: string[]; cwd: string }

function isRequest(v: unknown): v is Request {
  const r = v as Request;
  return !!r && typeof r.tool === 'string' && Array.isArray(r.argv) && r.argv.every((a) => typeof a === 'string') && typeof r.cwd === 'string';
}

function handle(mac: Mac, sock: Socket): void {
  sock.setEncoding('utf8');
  const abort = new AbortController();
  let buf = '';
  let started = false;
  const send = (msg: object): void => { if (!sock.destroyed && sock.writable) sock.write(JSON.stringify(msg) + '\n'); };
  sock.on('close', () => abort.abort());
  sock.on('error', () => abort.abort());
  sock.on('data', (data: string) => {
    if (started) return; // stdin frames: no simulated tool reads stdin
    buf += data;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    started = true;
    let req: unknown;
    try { req = JSON.parse(buf.slice(0, nl)); } catch { req = null; }
    if (!isRequest(req)) { send({ err: 'sim: malformed request\n' }); send({ exit: 70 }); sock.end(); return; }
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
  });
}

export function startServer(mac: Mac, socketPath: string): Promise<{ server: Server; sockets: Set<Socket> }> {
  if (existsSync(socketPath)) rmSync(socketPath);
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
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
  for (const name of Object.keys(TOOLS)) {
    const path = join(binDir, name);
    writeFileSync(`${path}.tmp`, template.replace('__SOCKET__', JSON.stringify(socketPath)).replace('__TOOL__', JSON.stringify(name)));
    chmodSync(`${path}.tmp`, 0o755);
    renameSync(`${path}.tmp`, path);
  }
}
