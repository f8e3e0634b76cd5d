#!/usr/bin/env node
// Shim for a macOS tool on the simulated Mac (template: the daemon fills in the socket and tool).
// Plain JS that runs as CommonJS or ESM, dynamic imports only, so it starts fast.
// Text tools: one JSON request line {tool, argv, cwd}; stdin follows as {stdin: base64} /
// {stdinEnd} lines; the daemon answers with {out}/{err} lines as output streams and one {exit} line.
// Raw tools (binary stdio, dextbench-bridge): the request line has "raw":true, then stdin flows
// as raw bytes (end of stdin = half-close); the daemon answers with records
// type u8 (1 stdout, 2 stderr, 3 exit: i32 LE) || length u32 LE || bytes.
'use strict';
const SOCKET = __SOCKET__;
const TOOL = __TOOL__;
const RAW = __RAW__;

import('node:net').then((net) => {
  const sock = net.connect({ path: SOCKET, allowHalfOpen: RAW });
  let exited = false;
  const finish = (code) => {
    if (exited) return;
    exited = true;
    process.exitCode = code;
    sock.destroy();
    if (process.stdin && !process.stdin.isTTY) process.stdin.destroy();
  };
  const stop = (code) => () => finish(code);
  process.on('SIGTERM', stop(143));
  process.on('SIGINT', stop(130));
  // The reader went away (log stream | head): disconnect so the daemon ends that stream.
  process.stdout.on('error', stop(141));

  sock.on('connect', () => {
    sock.write(JSON.stringify({ tool: TOOL, argv: process.argv.slice(2), cwd: process.cwd(), raw: RAW }) + '\n');
    if (!process.stdin || process.stdin.isTTY) { if (RAW) sock.end(); return; }
    if (RAW) {
      process.stdin.on('data', (chunk) => { if (!exited && !sock.write(chunk)) { process.stdin.pause(); sock.once('drain', () => process.stdin.resume()); } });
      process.stdin.on('end', () => { if (!exited) sock.end(); });
    } else {
      process.stdin.on('data', (chunk) => { if (!exited) sock.write(JSON.stringify({ stdin: chunk.toString('base64') }) + '\n'); });
      process.stdin.on('end', () => { if (!exited) sock.write('{"stdinEnd":true}\n'); });
    }
    process.stdin.on('error', () => {});
  });

  let pending = Buffer.alloc(0);
  const onRecords = (data) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    let pos = 0;
    while (!exited && pending.length - pos >= 5) {
      const type = pending[pos];
      const len = pending.readUInt32LE(pos + 1);
      if (pending.length - pos - 5 < len) break;
      const body = pending.subarray(pos + 5, pos + 5 + len);
      pos += 5 + len;
      if (type === 1) {
        if (!process.stdout.write(body)) { sock.pause(); process.stdout.once('drain', () => sock.resume()); }
      } else if (type === 2) process.stderr.write(body);
      else if (type === 3) finish(body.readInt32LE(0));
    }
    pending = pending.subarray(pos);
  };
  let buf = '';
  const onLines = (data) => {
    buf += data.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if (typeof msg.out === 'string') process.stdout.write(msg.out);
      else if (typeof msg.err === 'string') process.stderr.write(msg.err);
      else if (typeof msg.exit === 'number') finish(msg.exit);
    }
  };
  sock.on('data', RAW ? onRecords : onLines);
  sock.on('error', (e) => {
    if (exited) return;
    process.stderr.write(`${TOOL}: the simulated Mac is not reachable at ${SOCKET}: ${e.message}\n`);
    finish(69);
  });
  sock.on('close', () => {
    if (exited) return;
    process.stderr.write(`${TOOL}: the simulated Mac closed the connection\n`);
    finish(69);
  });
});
