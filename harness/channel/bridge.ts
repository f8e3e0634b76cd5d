// The channel over dextbench-bridge's stdio, started through an Exec: the same code path runs the
// bridge locally (tests with dextbench-bridge-inproc, the simulated Mac's dextbench-bridge shim) and on
// a Mac over ssh.
import type { Exec, ExecProcess } from '../host/exec.ts';
import { ChannelClient, type ChannelTransport, type ConnectOptions } from './client.ts';
import { ChannelError } from './errors.ts';

const STDERR_KEEP_BYTES = 4096;
const KILL_AFTER_CLOSE_MS = 2000;
const WRITE_BATCH_FRAMES = 16;
const WRITE_BATCH_BYTES = 64 * 1024;

export interface OpenBridgeOptions extends Omit<ConnectOptions, 'match'> {
  /** IOPropertyMatch entries, all must hold: { IOUserClass: 'EchoDriver' }. */
  match: Record<string, string>;
  /** Pick this service among the matches (IORegistryEntryID, exact). */
  registryId?: bigint;
  /** The bridge command and any fixed arguments of its own. Default ['dextbench-bridge']. */
  command?: string[];
}

/** The bridge argv: command, then --match KEY=VALUE per entry, then --registry-id. */
export function bridgeArgv(options: Pick<OpenBridgeOptions, 'match' | 'registryId' | 'command'>): string[] {
  const entries = Object.entries(options.match);
  if (entries.length === 0) throw new ChannelError('openBridge: match needs at least one KEY=VALUE (e.g. { IOUserClass: "EchoDriver" })');
  return [
    ...(options.command ?? ['dextbench-bridge']),
    ...entries.flatMap(([key, value]) => ['--match', `${key}=${value}`]),
    ...(options.registryId !== undefined ? ['--registry-id', options.registryId.toString()] : []),
  ];
}

/** Spawns the bridge through `exec` and returns a connected client (OPENED and Hello done). */
export async function openBridge(exec: Exec, options: OpenBridgeOptions): Promise<ChannelClient> {
  const argv = bridgeArgv(options);
  const { match, registryId, command, ...connect } = options;
  const child = exec.spawn(argv);
  const matchText = Object.entries(match).map(([k, v]) => `${k}=${v}`).join(' ')
    + (registryId !== undefined ? ` (registry id ${registryId})` : '');
  return ChannelClient.connect(bridgeTransport(child), { ...connect, match: matchText });
}

/**
 * An ExecProcess's stdio as a channel transport; output that arrives before a listener is kept.
 * Frames written in the same tick go to the pipe together (a microtask later; one syscall per frame
 * was most of the cost of pipelined calls), but at most WRITE_BATCH_FRAMES / WRITE_BATCH_BYTES per
 * write, so the bridge starts on the first frames while later ones are still being encoded (that
 * overlap is worth more than the syscalls it costs on two cores). Order and bytes are unchanged.
 */
export function bridgeTransport(process: ExecProcess): ChannelTransport {
  let dataListener: ((chunk: Uint8Array) => void) | undefined;
  const early: Uint8Array[] = [];
  let stderr = '';
  let exited = false;
  let queued: Uint8Array[] = [];
  let queuedBytes = 0;
  const flush = (): void => {
    if (queued.length === 0) return;
    const bytes = queued.length === 1 ? queued[0]! : Buffer.concat(queued, queuedBytes);
    queued = [];
    queuedBytes = 0;
    if (!exited) process.stdin.write(bytes);
  };
  process.stdout.on('data', (chunk: Buffer) => {
    if (dataListener) dataListener(chunk);
    else early.push(chunk);
  });
  process.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
  });
  void process.exited.then(() => { exited = true; });
  return {
    description: process.argv.join(' '),
    write(bytes) {
      if (exited) return;
      if (queued.length === 0) queueMicrotask(flush);
      queued.push(bytes);
      queuedBytes += bytes.length;
      if (queued.length >= WRITE_BATCH_FRAMES || queuedBytes >= WRITE_BATCH_BYTES) flush();
    },
    onData(listener) {
      dataListener = listener;
      for (const chunk of early.splice(0)) listener(chunk);
    },
    onClose(listener) {
      void process.exited.then((record) => listener(record.exitCode, record.signal));
    },
    close() {
      if (exited) return;
      flush();
      process.stdin.end();
      setTimeout(() => { if (!exited) process.kill('SIGKILL'); }, KILL_AFTER_CLOSE_MS).unref();
    },
    stderrTail: () => stderr,
  };
}
