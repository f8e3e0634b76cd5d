// dextbench-bridge: opens the user client of a simulated dext service and relays channel frames.
// The service is resolved here among the registry's live dext services (as IOServiceGetMatchingServices
// + IOPropertyMatch would). As on a Mac, the dext process (its model: stats, io, events) lives as
// long as the simulated process and is shared by every connection to it; each connection is a
// bridge on it. The model is libdextbench's, in a dextbench-sim-dext process, or the TypeScript
// twin (harness/sim/dext), per SimConfig.dextServer.
import { spawn } from 'node:child_process';
import { ensureCBridge } from '../dext/c-bridge.ts';
import { CDextProcess } from '../dext/c-process.ts';
import { LoopbackModel } from '../dext/model.ts';
import { TsDextProcess } from '../dext/process.ts';
import { BridgeSession, EXIT, reportOpenFailed } from '../dext/session.ts';
import type { Mac } from '../mac.ts';
import { crashDext } from '../matching.ts';
import type { PValue } from '../plist.ts';
import type { RegNode } from '../registry.ts';
import type { DextProcess } from '../state.ts';
import type { RawTool, RawToolContext } from './context.ts';

const USAGE = 'usage: dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]\n';
const MAX_MATCH = 8;
/** `--match KEY:int=N`: a number property; without it every value is a string. */
const INT_SUFFIX = ':int';
/** The loopback device's endpoints (bulk OUT 0x01, bulk IN 0x81), as dextbench-sim-dext has them. */
const ENDPOINTS = [0x01, 0x81];
/** How long a bridge child may take to exit after its stdin closed. */
const EXIT_DEADLINE_MS = 3000;

/** One IOPropertyMatch entry: a string, or a number when written KEY:int=N (as in bridge_core.c). */
interface MatchEntry { key: string; value: string; number?: bigint }
interface BridgeArgs { matches: MatchEntry[]; registryId?: bigint; connectType: number }

function parseU64(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^(0[xX][0-9a-fA-F]+|\d+)$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < 1n << 64n ? v : undefined;
}

/** 'help' for `--help` (as in bridge_core.c: usage on stdout, exit 0); undefined on a usage error. */
function parseArgs(argv: string[]): BridgeArgs | 'help' | undefined {
  const args: BridgeArgs = { matches: [], connectType: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--help') return 'help';
    const entry = a === '--match' && v !== undefined && args.matches.length < MAX_MATCH ? parseMatch(v) : undefined;
    if (entry) {
      args.matches.push(entry);
    } else if (a === '--registry-id' && parseU64(v) !== undefined) {
      args.registryId = parseU64(v);
    } else if (a === '--type' && parseU64(v) !== undefined && parseU64(v)! <= 0xffffffffn) {
      args.connectType = Number(parseU64(v));
    } else return undefined;
    i++;
  }
  return args.matches.length || args.registryId !== undefined ? args : undefined;
}

/** `KEY=VALUE` (always a string, digits too) or `KEY:int=N`; undefined when malformed. */
function parseMatch(text: string): MatchEntry | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq >= 64) return undefined;
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (!key.endsWith(INT_SUFFIX)) return { key, value };
  const number = parseU64(value);
  return number !== undefined && key.length > INT_SUFFIX.length ? { key: key.slice(0, -INT_SUFFIX.length), value, number } : undefined;
}

/** The entry as it is written on the command line. */
function matchText(m: MatchEntry): string {
  return `${m.key}${m.number === undefined ? '' : INT_SUFFIX}=${m.value}`;
}

/** As IOKit's isEqualTo: a string matches only a string property, a number only a number property. */
function propertyMatches(prop: PValue | undefined, m: MatchEntry): boolean {
  if (m.number === undefined) return prop === m.value;
  return typeof prop === 'bigint' ? prop === m.number : typeof prop === 'number' && BigInt(prop) === m.number;
}

interface Candidate { proc: DextProcess; service: RegNode; id: bigint }

/** The service's locationID, searched up its providers (IORegistryEntrySearchCFProperty with kIORegistryIterateParents). */
function locationOf(mac: Mac, service: RegNode): bigint | undefined {
  for (let node: RegNode | undefined = service; node; node = node.parent ? mac.registry.get(node.parent) : undefined) {
    const loc = node.props['locationID'];
    if (typeof loc === 'bigint') return loc;
  }
  return undefined;
}

/** `4294969123 (locationID 0x01120000)`: what a user passes, and where that service's device sits. */
function describeCandidate(mac: Mac, c: Candidate): string {
  const loc = locationOf(mac, c.service);
  return loc === undefined ? c.id.toString() : `${c.id} (locationID 0x${loc.toString(16).padStart(8, '0')})`;
}

function candidates(mac: Mac, args: BridgeArgs): Candidate[] {
  const out: Candidate[] = [];
  for (const proc of mac.state.dexts) {
    for (const sid of proc.serviceIds) {
      const service = mac.registry.get(sid);
      if (!service) continue;
      const id = BigInt(sid);
      if (args.registryId !== undefined && id !== args.registryId) continue;
      if (args.matches.every((m) => propertyMatches(service.props[m.key], m))) out.push({ proc, service, id });
    }
  }
  return out;
}

function describeMatch(args: BridgeArgs): string {
  const parts = args.matches.map(matchText);
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

/** The running dext processes of each simulated Mac, by simulated pid; gone when the process stops. */
const processes = new WeakMap<Mac, Map<number, TsDextProcess | CDextProcess>>();

function dextProcess<T extends TsDextProcess | CDextProcess>(mac: Mac, c: Candidate, create: () => T): T {
  let byPid = processes.get(mac);
  if (!byPid) processes.set(mac, byPid = new Map());
  const running = byPid.get(c.proc.pid);
  if (running?.alive) return running as T;
  const created = create();
  byPid.set(c.proc.pid, created);
  const unwatch = mac.watchDext(c.proc.pid, () => {
    unwatch();
    if (byPid.get(c.proc.pid) === created) byPid.delete(c.proc.pid);
    void created.stop();
  });
  return created;
}

async function serveTs(ctx: RawToolContext, c: Candidate): Promise<number> {
  const { mac } = ctx;
  const id = identity(c);
  const dext = dextProcess(mac, c, () => {
    const clock0 = process.hrtime.bigint();
    return new TsDextProcess(new LoopbackModel({
      driverName: id.userClass, driverVersion: id.version, instanceId: id.instanceId, processStartTimeNs: id.startTimeNs,
      endpoints: ENDPOINTS, now: () => process.hrtime.bigint() - clock0 + 1n,
    }), mac.config.ioBytesPerSecond);
  });
  const session = new BridgeSession(dext, ctx, {
    registryId: c.id.toString(), userClass: id.userClass,
    onCrash: () => crashFromChannel(mac, c.proc.pid),
  });
  const onAbort = (): void => session.abandon();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  ctx.stdin.on('data', (chunk: Buffer) => session.feed(chunk));
  ctx.stdin.on('end', () => session.end());
  session.start();
  try {
    return await session.exited;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    ctx.stdin.removeAllListeners('data');
  }
}

async function serveC(ctx: RawToolContext, c: Candidate, bins: { dext: string; bridge: string }, args: BridgeArgs): Promise<number> {
  const { mac } = ctx;
  const id = identity(c);
  const dext = dextProcess(mac, c, () => new CDextProcess(bins.dext, {
    pid: c.proc.pid, driverName: id.userClass, driverVersion: id.version, instanceId: id.instanceId,
    startTimeNs: id.startTimeNs, rate: mac.config.ioBytesPerSecond,
  }, () => crashFromChannel(mac, c.proc.pid), (text) => process.stderr.write(`sim dext ${c.proc.pid}: ${text}`)));
  try {
    await dext.ready;
  } catch (error) {
    return reportOpenFailed(ctx, 'inproc', `the dext process is not serving: ${(error as Error).message}`);
  }
  const argv = ['--socket', dext.socket, ...args.matches.flatMap((m) => ['--match', matchText(m)])];
  // The bridge names the user class after a string IOUserClass match.
  if (!args.matches.some((m) => m.key === 'IOUserClass' && m.number === undefined) && args.matches.length < MAX_MATCH) {
    argv.push('--match', `IOUserClass=${id.userClass}`);
  }
  argv.push('--registry-id', c.id.toString(), '--type', String(args.connectType));
  const child = spawn(bins.bridge, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => { ctx.err(`dextbench-bridge: cannot start the C bridge: ${e.message}\n`); resolve(70); });
    child.on('close', (code) => resolve(code ?? 70));
  });
  child.stdout.on('data', (d: Buffer) => ctx.out(d));
  child.stderr.on('data', (d: Buffer) => ctx.err(d.toString('utf8')));
  child.stdin.on('error', () => { /* the child exited first; its exit code tells */ });
  ctx.stdin.pipe(child.stdin);
  const onAbort = (): void => {
    child.stdin.end();
    setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS).unref();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await exited;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    ctx.stdin.unpipe(child.stdin);
  }
}

export const bridge: RawTool = async (ctx) => {
  const args = parseArgs(ctx.argv);
  if (args === 'help') { ctx.out(Buffer.from(USAGE)); return 0; }
  if (!args) { ctx.err(USAGE); return EXIT.USAGE; }
  const found = candidates(ctx.mac, args);
  if (found.length === 0) return reportOpenFailed(ctx, 'inproc', `no service matches ${describeMatch(args)}`);
  if (found.length > 1) {
    return reportOpenFailed(ctx, 'inproc', `${found.length} services match ${describeMatch(args)}; pass --registry-id with one of: ` +
      found.map((c) => describeCandidate(ctx.mac, c)).join(', '));
  }
  const target = found[0]!;
  const mode = ctx.mac.config.dextServer;
  if (mode !== 'ts') {
    const build = await ensureCBridge();
    if (build.ok) {
      // The dext may have gone while the build ran.
      if (!ctx.mac.state.dexts.includes(target.proc)) return reportOpenFailed(ctx, 'inproc', `no service matches ${describeMatch(args)}`);
      return serveC(ctx, target, build, args);
    }
    // auto: the daemon said once on its stderr why the C server is missing; serve with TypeScript.
    if (mode === 'c') return reportOpenFailed(ctx, 'inproc', `the C dext server is unavailable: ${build.reason}`);
  }
  return serveTs(ctx, target);
};
