// One simulated dext process on the C model: dextbench-sim-dext (dext-fixtures/bridge/sim_dext.c)
// hosting libdextbench's loopback model for as long as the simulated dext process lives, serving
// every dextbench-bridge-simdext connection on a unix socket of its own.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_DEADLINE_MS = 5000;
const STOP_DEADLINE_MS = 3000;
/** sim_dext.c: the model crashed in a call (InjectFault CRASH). */
const EXIT_CRASHED = 3;

let socketDir: string | undefined;
/** Unix socket paths are short (~104 bytes): one directory in the temp dir per daemon. */
function socketPath(pid: number): string {
  if (!socketDir) {
    socketDir = mkdtempSync(join(tmpdir(), 'dxb-dext-'));
    const dir = socketDir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(socketDir, `${pid}.sock`);
}

export interface CDextIdentity {
  pid: number;
  driverName: string;
  driverVersion: string;
  instanceId: bigint;
  startTimeNs: bigint;
  /** io bytes per second. */
  rate: number;
}

export class CDextProcess {
  readonly socket: string;
  /** Resolves once it listens; rejects with why it could not start. */
  readonly ready: Promise<void>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private stopping = false;

  /** onCrash: the model crashed in a call, so the simulated process must die (and relaunch). */
  constructor(bin: string, identity: CDextIdentity, onCrash: () => void, onStderr: (text: string) => void) {
    this.socket = socketPath(identity.pid);
    this.child = spawn(bin, [
      '--socket', this.socket, '--instance-id', identity.instanceId.toString(), '--start-time-ns', identity.startTimeNs.toString(),
      '--driver-name', identity.driverName, '--driver-version', identity.driverVersion, '--rate', String(identity.rate),
    ], { stdio: ['pipe', 'pipe', 'pipe'] }); // stdin stays open: it ends the process if the daemon dies
    this.child.stdin.on('error', () => { /* gone; exit reports it */ });
    this.child.stderr.on('data', (d: Buffer) => onStderr(d.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    void this.exited.then((code) => { if (code === EXIT_CRASHED && !this.stopping) onCrash(); });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dextbench-sim-dext printed no ready line within ${READY_DEADLINE_MS} ms`)), READY_DEADLINE_MS);
      this.child.stdout.once('data', () => { clearTimeout(timer); resolve(); });
      this.child.on('error', (e) => { clearTimeout(timer); reject(e); });
      void this.exited.then((code) => { clearTimeout(timer); reject(new Error(`dextbench-sim-dext exited ${code} before it was ready`)); });
    });
    this.ready.catch(() => { /* the first connection reports it */ });
  }

  get alive(): boolean { return !this.stopping && this.child.exitCode === null && this.child.signalCode === null; }

  /** The dext's Stop (unplug, deactivation, reboot): its connections see the service terminate. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_DEADLINE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
