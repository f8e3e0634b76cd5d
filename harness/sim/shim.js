#!/usr/bin/env node
// Shim for a macOS tool on the simulated Mac (template: the daemon fills in the socket and tool).
// Plain JS that runs as CommonJS or ESM, dynamic imports only, so it starts fast.
// Protocol: one JSON request line {tool, argv, cwd}; stdin follows as {stdin: base64} / {stdinEnd}
// lines; the daemon answers with {out}/{err} lines as output streams and one {exit} line.
'use strict';
const SOCKET = __SOCKET__;
const TOOL = __TOOL__;

import('node:net').then((net) => {
  const sock = net.connect(SOCKET);
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
    sock.write(JSON.stringify({ tool: TOOL, argv: process.argv.slice(2), cwd: process.cwd() }) + '\n');
    if (process.stdin && !process.stdin.isTTY) {
      process.stdin.on('data', (chunk) => { if (!exited) sock.write(JSON.stringify({ stdin: chunk.toString('base64') }) + '\n'); });
      process.stdin.on('end', () => { if (!exited) sock.write('{"stdinEnd":true}\n'); });
      process.stdin.on('error', () => {});
    }
  });
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (data) => {
    buf += data;
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
  });
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
