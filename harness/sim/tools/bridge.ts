// dextbench-bridge: opens the user client of a simulated dext service and relays channel frames.
// The service is resolved here among the registry's live dext services (as IOServiceGetMatchingServices
// + IOPropertyMatch would); the connection is served by the C inproc bridge (libdextbench's
// loopback model) or by the TypeScript model (harness/sim/dext), per SimConfig.dextServer.
import { spawn } from 'node:child_process';
import { ensureCBridge } from '../dext/c-bridge.ts';
import { LoopbackModel } from '../dext/model.ts';
import { BridgeSession, EXIT, reportOpenFailed } from '../dext/session.ts';
import type { Mac } from '../mac.ts';
import { crashDext } from '../matching.ts';
import type { PValue } from '../plist.ts';
import type { RegNode } from '../registry.ts';
import type { DextProcess } from '../state.ts';
import type { RawTool, RawToolContext } from './context.ts';

const USAGE = 'usage: dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]\n';
const MAX_MATCH = 8;
/** The loopback device's endpoints (bulk OUT 0x01, bulk IN 0x81), as the inproc bridge has them. */
const ENDPOINTS = [0x01, 0x81];
/** How long a bridge child may take to exit after its stdin closed or it was told to terminate. */
const EXIT_DEADLINE_MS = 3000;

interface BridgeArgs { matches: { key: string; value: string }[]; registryId?: bigint; connectType: number }

function parseU64(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^(0[xX][0-9a-fA-F]+|\d+)$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < 1n << 64n ? v : undefined;
}

function parseArgs(argv: string[]): BridgeArgs | undefined {
  const args: BridgeArgs = { matches: [], connectType: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--match' && v !== undefined && v.indexOf('=') > 0 && v.indexOf('=') < 64 && args.matches.length < MAX_MATCH) {
      args.matches.push({ key: v.slice(0, v.indexOf('=')), value: v.slice(v.indexOf('=') + 1) });
    } else if (a === '--registry-id' && parseU64(v) !== undefined) {
      args.registryId = parseU64(v);
    } else if (a === '--type' && parseU64(v) !== undefined && parseU64(v)! <= 0xffffffffn) {
      args.connectType = Number(parseU64(v));
    } else return undefined;
    i++;
  }
  return args.matches.length || args.registryId !== undefined ? args : undefined;
}

/** A value of digits (or 0x…) matches a number property, anything else a string (transport_iokit.c). */
function propertyMatches(prop: PValue | undefined, value: string): boolean {
  const n = parseU64(value);
  if (n !== undefined) return typeof prop === 'bigint' ? prop === n : typeof prop === 'number' && BigInt(prop) === n;
  return prop === value;
}

interface Candidate { proc: DextProcess; service: RegNode; id: bigint }

function candidates(mac: Mac, args: BridgeArgs): Candidate[] {
  const out: Candidate[] = [];
  for (const proc of mac.state.dexts) {
    for (const sid of proc.serviceIds) {
      const service = mac.registry.get(sid);
      if (!service) continue;
      const id = BigInt(sid);
      if (args.registryId !== undefined && id !== args.registryId) continue;
      if (args.matches.every((m) => propertyMatches(service.props[m.key], m.value))) out.push({ proc, service, id });
    }
  }
  return out;
}

function describeMatch(args: BridgeArgs): string {
  const parts = args.matches.map((m) => `${m.key}=${m.value}`);
  if (args.registryId !== undefined) parts.push(`registry id ${args.registryId}`);
  return parts.join(' ');
}

/** The dext process crashed in a call (InjectFault CRASH): the same as `kill -KILL <pid>`. */
function crashFromChannel(mac: Mac, pid: number): void {
  const proc = mac.state.dexts.find((d) => d.pid === pid);
  if (!proc) return;
  crashDext(mac, proc, 'KILL');
  mac.settle();
}

function identity(c: Candidate): { userClass: string; instanceId: bigint; startTimeNs: bigint; version: string } {
  const userClass = typeof c.service.props['IOUserClass'] === 'string' ? c.service.props['IOUserClass'] : c.service.name;
  return { userClass, instanceId: BigInt(c.proc.pid), startTimeNs: c.proc.startTimeNs ?? 0n, version: c.proc.shortVersion };
}

async function serveTs(ctx: RawToolContext, c: Candidate): Promise<number> {
  const { mac } = ctx;
  const id = identity(c);
  const clock0 = process.hrtime.bigint();
  const model = new LoopbackModel({
    driverName: id.userClass, driverVersion: id.version, instanceId: id.instanceId, processStartTimeNs: id.startTimeNs,
    endpoints: ENDPOINTS, now: () => process.hrtime.bigint() - clock0 + 1n,
  });
  const session = new BridgeSession(model, ctx, {
    registryId: c.id.toString(), userClass: id.userClass, rate: mac.config.ioBytesPerSecond,
    onCrash: () => crashFromChannel(mac, c.proc.pid),
  });
  const unwatch = mac.watchDext(c.proc.pid, () => session.terminate());
  const onAbort = (): void => session.abandon();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  ctx.stdin.on('data', (chunk: Buffer) => session.feed(chunk));
  ctx.stdin.on('end', () => session.end());
  session.start();
  try {
    return await session.exited;
  } finally {
    unwatch();
    ctx.signal.removeEventListener('abort', onAbort);
    ctx.stdin.removeAllListeners('data');
  }
}

async function serveC(ctx: RawToolContext, c: Candidate, bin: string, args: BridgeArgs): Promise<number> {
  const { mac } = ctx;
  const id = identity(c);
  const argv = args.matches.flatMap((m) => ['--match', `${m.key}=${m.value}`]);
  // The inproc bridge names the user class (and the driver) after an IOUserClass match.
  if (!args.matches.some((m) => m.key === 'IOUserClass') && args.matches.length < MAX_MATCH) argv.push('--match', `IOUserClass=${id.userClass}`);
  argv.push('--registry-id', c.id.toString(), '--type', String(args.connectType), '--instance-id', id.instanceId.toString(),
    '--start-time-ns', id.startTimeNs.toString(), '--driver-version', id.version,
    '--rate', String(mac.config.ioBytesPerSecond));
  const child = spawn(bin, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let weTerminated = false;
  let stderrLine = '';
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => { ctx.err(`dextbench-bridge: cannot start the C server: ${e.message}\n`); resolve(70); });
    child.on('close', (code) => resolve(code ?? 70));
  });
  child.stdout.on('data', (d: Buffer) => ctx.out(d));
  child.stderr.on('data', (d: Buffer) => {
    ctx.err(d.toString('utf8'));
    stderrLine += d.toString('utf8');
    let nl;
    while ((nl = stderrLine.indexOf('\n')) >= 0) {
      const line = stderrLine.slice(0, nl);
      stderrLine = stderrLine.slice(nl + 1);
      // TERMINATED that we did not cause: the model crashed in a call (InjectFault CRASH).
      if (!weTerminated && line.startsWith('{"event":"terminated"')) {
        weTerminated = true;
        crashFromChannel(mac, c.proc.pid);
      }
    }
  });
  child.stdin.on('error', () => { /* the child exited first; its exit code tells */ });
  ctx.stdin.pipe(child.stdin);
  const unwatch = mac.watchDext(c.proc.pid, () => {
    if (weTerminated) return;
    weTerminated = true;
    child.kill('SIGUSR1'); // the inproc bridge's "service terminated"
  });
  const onAbort = (): void => {
    child.stdin.end();
    setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS).unref();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await exited;
  } finally {
    unwatch();
    ctx.signal.removeEventListener('abort', onAbort);
    ctx.stdin.unpipe(child.stdin);
  }
}

export const bridge: RawTool = async (ctx) => {
  const args = parseArgs(ctx.argv);
  if (!args) { ctx.err(USAGE); return EXIT.USAGE; }
  const found = candidates(ctx.mac, args);
  if (found.length === 0) return reportOpenFailed(ctx, 'inproc', `no service matches ${describeMatch(args)}`);
  if (found.length > 1) {
    return reportOpenFailed(ctx, 'inproc', `${found.length} services match; pass --registry-id (one of ${found.map((c) => c.id.toString()).join(',')})`);
  }
  const target = found[0]!;
  const mode = ctx.mac.config.dextServer;
  if (mode !== 'ts') {
    const build = await ensureCBridge();
    if (build.ok) {
      // The dext may have gone while the build ran.
      if (!ctx.mac.state.dexts.includes(target.proc)) return reportOpenFailed(ctx, 'inproc', `no service matches ${describeMatch(args)}`);
      return serveC(ctx, target, build.bin, args);
    }
    // auto: the daemon said once on its stderr why the C server is missing; serve with TypeScript.
    if (mode === 'c') return reportOpenFailed(ctx, 'inproc', `the C dext server is unavailable: ${build.reason}`);
  }
  return serveTs(ctx, target);
};
