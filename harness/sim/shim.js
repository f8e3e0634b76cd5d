#!/usr/bin/env node
// A macOS tool on the simulated Mac, as a Node script: the fallback for the compiled relay
// (relay/relay.c) where no C compiler is present. The daemon fills in the socket and the tool.
// It speaks the shim protocol described in server.ts, as the relay does. Plain JS that runs as
// CommonJS or ESM, dynamic imports only, so it starts fast.
// Node hands argv over as strings: bytes that are not UTF-8 do not survive here (the relay passes
// them); every caller in dextbench is JS and passes UTF-8.
'use strict';
const SOCKET = __SOCKET__;
const TOOL = __TOOL__;
const RECORD = { stdout: 1, stderr: 2, exit: 3, request: 4, stdin: 5, stdinEnd: 6 };

function record(type, body) {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32LE(body.length, 1);
  return Buffer.concat([head, body]);
}

import('node:net').then((net) => {
  let sock;
  let exited = false;
  let connected = false;
  const finish = (code) => {
    if (exited) return;
    exited = true;
    process.exitCode = code;
    if (sock) sock.destroy();
    if (process.stdin && !process.stdin.isTTY) process.stdin.destroy();
  };
  const stop = (code) => () => finish(code);
  // Before connecting: a signal that comes once the daemon runs the tool must end it through us.
  process.on('SIGTERM', stop(143));
  process.on('SIGINT', stop(130));
  // The reader went away (log stream | head): disconnect so the daemon ends that stream.
  process.stdout.on('error', stop(141));
  sock = net.connect({ path: SOCKET });

  sock.on('connect', () => {
    connected = true;
    const parts = [TOOL, process.cwd(), ...process.argv.slice(2)].map((s) => Buffer.from(`${s}\0`));
    sock.write(record(RECORD.request, Buffer.concat(parts)));
    const stdinEnd = () => { if (!exited) sock.write(record(RECORD.stdinEnd, Buffer.alloc(0))); };
    // A person at a terminal: the tools take no typed input.
    if (!process.stdin || process.stdin.isTTY) { stdinEnd(); return; }
    process.stdin.on('data', (chunk) => {
      if (!exited && !sock.write(record(RECORD.stdin, chunk))) { process.stdin.pause(); sock.once('drain', () => process.stdin.resume()); }
    });
    process.stdin.on('end', stdinEnd);
    process.stdin.on('error', stdinEnd);
  });

  let pending = Buffer.alloc(0);
  sock.on('data', (data) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    let pos = 0;
    while (!exited && pending.length - pos >= 5) {
      const type = pending[pos];
      const len = pending.readUInt32LE(pos + 1);
      if (pending.length - pos - 5 < len) break;
      const body = pending.subarray(pos + 5, pos + 5 + len);
      pos += 5 + len;
      if (type === RECORD.stdout) {
        if (!process.stdout.write(body)) { sock.pause(); process.stdout.once('drain', () => sock.resume()); }
      } else if (type === RECORD.stderr) process.stderr.write(body);
      else if (type === RECORD.exit) finish(body.readInt32LE(0));
      else {
        process.stderr.write(`${TOOL}: unknown record from the simulated Mac\n`);
        finish(70);
      }
    }
    pending = pending.subarray(pos);
  });
  sock.on('error', (e) => {
    if (exited) return;
    if (!connected) process.stderr.write(`${TOOL}: the simulated Mac is not reachable at ${SOCKET}: ${e.code || e.message}\n`);
    else process.stderr.write(`${TOOL}: the simulated Mac closed the connection\n`);
    finish(69);
  });
  sock.on('close', () => {
    if (exited) return;
    process.stderr.write(`${TOOL}: the simulated Mac closed the connection\n`);
    finish(69);
  });
});
