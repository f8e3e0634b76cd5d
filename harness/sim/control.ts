// The control socket of a shared simulated Mac (daemon --shared). Everyone who uses the Mac (a
// run's runner and workers, `dextbench rig …`) attaches: one connection, held open for as long as
// they use it. The Mac stops a moment after the last one lets go, and soon after start if nobody
// ever attaches (a starter that died). Requests are one JSON line each:
//   {"attach": {"who": "…", "configHash": "…"}}  -> {"ok": true, "binDir", "socket", "pid"} and the
//       connection stays open; with another configHash (the rig file changed) -> {"ok": false,
//       "reason": "config", "holders": [...]}, and the caller stops an idle Mac and starts its own.
//   {"ping": true}                               -> {"ok": true}
//   {"stop": {"ifIdle": true|false}}             -> {"ok": true} and the Mac stops, or
//       {"ok": false, "holders": [...]} when ifIdle and someone is attached.
// daemon.json in the state dir says where to find it, and is removed when it stops.
import { rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';

/** Exit this long after the last attachment closes (back-to-back commands reuse the Mac). */
const IDLE_EXIT_MS = 3_000;
/** Exit if nobody attaches this long after start. */
const FIRST_ATTACH_MS = 20_000;
const REQUEST_MAX_BYTES = 64 * 1024;

export interface ControlOptions {
  stateDir: string;
  socket: string;
  configHash: string;
  binDir: string;
  toolSocket: string;
  stop(): void;
}

export async function startControl(options: ControlOptions): Promise<{ close(): void }> {
  const attached = new Map<Socket, string>();
  let idleTimer: NodeJS.Timeout | undefined = setTimeout(options.stop, FIRST_ATTACH_MS);
  const daemonFile = join(options.stateDir, 'daemon.json');

  const reply = (sock: Socket, body: object, end: boolean): void => {
    const line = JSON.stringify(body) + '\n';
    if (end) sock.end(line); else sock.write(line);
  };
  const handle = (sock: Socket, request: unknown): void => {
    const r = request as { attach?: { who?: unknown; configHash?: unknown }; stop?: { ifIdle?: unknown }; ping?: unknown } | null;
    if (r?.ping === true) {
      reply(sock, { ok: true }, true);
      return;
    }
    if (r?.attach) {
      if (r.attach.configHash !== options.configHash) {
        reply(sock, { ok: false, reason: 'config', holders: [...attached.values()] }, true);
        return;
      }
      clearTimeout(idleTimer);
      idleTimer = undefined;
      attached.set(sock, typeof r.attach.who === 'string' ? r.attach.who : 'unknown');
      sock.on('close', () => {
        attached.delete(sock);
        if (attached.size === 0) {
          clearTimeout(idleTimer);
          idleTimer = setTimeout(options.stop, IDLE_EXIT_MS);
        }
      });
      reply(sock, { ok: true, binDir: options.binDir, socket: options.toolSocket, pid: process.pid }, false);
      return;
    }
    if (r?.stop) {
      if (r.stop.ifIdle === true && attached.size > 0) {
        reply(sock, { ok: false, holders: [...attached.values()] }, true);
        return;
      }
      reply(sock, { ok: true }, true);
      options.stop();
      return;
    }
    reply(sock, { ok: false, reason: 'malformed request' }, true);
  };

  const server = createServer((sock) => {
    let buf = '';
    let done = false;
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > REQUEST_MAX_BYTES) sock.destroy();
        return;
      }
      done = true;
      let request: unknown = null;
      try { request = JSON.parse(buf.slice(0, nl)); } catch { /* answered as malformed */ }
      handle(sock, request);
    });
  });
  rmSync(options.socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socket, resolve);
  });
  const tmp = `${daemonFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, control: options.socket, socket: options.toolSocket, binDir: options.binDir, configHash: options.configHash }) + '\n');
  renameSync(tmp, daemonFile);

  return {
    close() {
      clearTimeout(idleTimer);
      for (const sock of attached.keys()) sock.destroy();
      server.close();
      rmSync(options.socket, { force: true });
      rmSync(daemonFile, { force: true });
    },
  };
}
