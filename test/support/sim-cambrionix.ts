// A simulated Cambrionix on a real pseudo-terminal pair: socat links two PTYs, this end speaks the
// hub's serial CLI (driverkit-rigs-es-ne.md §C.2) on one, and the driver opens the other through
// serialport, exactly as it opens /dev/cu.usbserial-… on a Mac. What the sim prints:
// - input is echoed (gazoo-device waits for each echoed character), CR ends a line (a CR LF pair
//   is one end), and every reply ends with the prompt `>> `;
// - Ctrl-C (ETX) drops partial input and ends a live mode, then prints a prompt;
// - `state [port]`: `port, current_mA, flags, profile, time_charging, time_charged, energy`, as in
//   the reference's sample `12, 0000, R D O, 0, 0, x, 0.00`; flags end with O (off), S (sync), or
//   I for charge (the letter of the reference's `loge` sample, its meaning not confirmed);
// - `mode o|s|c|b [port]`; errors are `*E…` lines (the reference gives only the `*E` prefix; the
//   words after it are this sim's).
// Knobs for tests: a silent hub, a hub that ignores `mode`, refusals, slow replies, a live mode,
// partial input left by an earlier client, and unplug/replug (socat killed, started again at the
// same links).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { withDeadline } from '../../harness/common/time.ts';
import { tempDir } from './temp.ts';

export type CambrionixMode = 'o' | 's' | 'c' | 'b';

export interface SimCambrionixOptions {
  ports?: number;
  /** Mode of every port at start (default o, all off). */
  mode?: CambrionixMode;
  /** Delay before each reply, in ms (default 0). */
  replyDelayMs?: number;
}

const ETX = '\x03';
const START_TIMEOUT_MS = 5_000;
const FLAG_OF: Record<CambrionixMode, string> = { o: 'O', s: 'S', c: 'I', b: 'B' };

const running = new Set<ChildProcess>();
// socat outlives a crashed test otherwise, keeping its /dev/pts pair (npm-packages.md §2).
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

export class SimCambrionix {
  /** The end the driver opens. */
  readonly path: string;
  readonly modes: CambrionixMode[];
  /** Every command line received, in order (empty lines left out). */
  readonly commands: string[] = [];
  /** Bytes that arrived while a reply was still pending: a client that did not wait for the prompt. */
  overlaps = 0;
  /** Answers nothing at all, not even an echo. */
  silent = false;
  /** Accepts `mode` and changes nothing. */
  ignoreMode = false;
  replyDelayMs: number;

  private readonly hubEnd: string;
  private socat: ChildProcess | undefined;
  private port: SerialPort | undefined;
  private line = '';
  private afterCr = false;
  private pending = 0;
  private busyUntil = 0;
  private live: NodeJS.Timeout | undefined;
  private refusals: Array<{ pattern: RegExp; reply: string }> = [];

  private constructor(dir: string, options: SimCambrionixOptions) {
    this.path = join(dir, 'cu.usbserial-SIM0001');
    this.hubEnd = join(dir, 'hub');
    this.modes = Array.from({ length: options.ports ?? 8 }, () => options.mode ?? 'o');
    this.replyDelayMs = options.replyDelayMs ?? 0;
  }

  static async start(options: SimCambrionixOptions = {}): Promise<SimCambrionix> {
    const sim = new SimCambrionix(tempDir('dextbench-cambrionix-'), options);
    await sim.replug();
    return sim;
  }

  /** Replies `reply` to every command matching `pattern`. */
  refuse(pattern: RegExp, reply: string): void {
    this.refusals.push({ pattern, reply });
  }

  /** Streams state lines until Ctrl-C, like a live mode. */
  enterLiveMode(): void {
    this.live = setInterval(() => this.send(this.stateLines().join('\r\n') + '\r\n'), 20);
  }

  /** The hub holds this unfinished input, as an earlier client left it. */
  typePartial(text: string): void {
    this.line += text;
  }

  /**
   * The device vanishes at once, with a command of the driver's perhaps in flight: socat is killed
   * (SIGKILL, so its links stay behind, dangling) without waiting for anything.
   */
  crash(): void {
    this.stopLive();
    this.socat?.kill('SIGKILL');
    this.socat = undefined;
    // Closed, or its reads of the hung-up PTY would spin on end of file.
    this.port?.close(() => { /* gone anyway */ });
    this.port = undefined;
  }

  /** The device goes away: socat ends, its links disappear. */
  async unplug(): Promise<void> {
    this.stopLive();
    const socat = this.socat;
    this.socat = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    if (socat && socat.exitCode === null && socat.signalCode === null) {
      const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
      socat.kill('SIGTERM');
      await withDeadline(exited, START_TIMEOUT_MS, 'socat exiting');
    }
  }

  /** The device comes back at the same path: socat started again, this end opened. */
  async replug(): Promise<void> {
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.hubEnd}`, `pty,raw,echo=0,link=${this.path}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(socat);
    socat.once('exit', () => running.delete(socat));
    this.socat = socat;
    let said = '';
    await withDeadline(new Promise<void>((resolve, reject) => {
      socat.stderr!.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes('starting data transfer loop')) resolve();
      });
      socat.once('exit', (code) => reject(new Error(`socat exited with ${code}: ${said.trim()}`)));
    }), START_TIMEOUT_MS, `socat linking ${this.path}`);
    const port = new SerialPort({ path: this.hubEnd, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    port.on('data', (chunk: Buffer) => this.receive(chunk.toString('latin1')));
    port.on('error', () => { /* the link went away (crash, unplug) */ });
    this.port = port;
    this.line = '';
    this.afterCr = false;
  }

  async stop(): Promise<void> {
    await this.unplug();
  }

  private receive(text: string): void {
    if (this.silent) return;
    for (const char of text) {
      const crLf = this.afterCr && char === '\n';
      this.afterCr = char === '\r';
      if (this.pending > 0 && !crLf) this.overlaps++;
      if (this.live) {
        if (char === ETX) { this.stopLive(); this.send('\r\n>> '); }
        continue;
      }
      if (char === ETX) {
        this.line = '';
        this.send('^C\r\n>> ');
      } else if (char === '\r' || char === '\n') {
        if (crLf) continue;
        const line = this.line;
        this.line = '';
        this.reply(line.trim());
      } else {
        this.line += char;
        this.send(char);
      }
    }
  }

  private reply(command: string): void {
    if (command) this.commands.push(command);
    const lines = command ? this.run(command) : [];
    // The line end's echo comes with the reply: a slow hub is slow to both.
    const out = `\r\n${lines.map((l) => `${l}\r\n`).join('')}>> `;
    if (this.replyDelayMs === 0) { this.send(out); return; }
    // One line at a time: each reply takes the delay after the one before it went out.
    const at = Math.max(performance.now(), this.busyUntil) + this.replyDelayMs;
    this.busyUntil = at;
    this.pending++;
    setTimeout(() => { this.pending--; this.send(out); }, at - performance.now());
  }

  private run(command: string): string[] {
    const refusal = this.refusals.find((r) => r.pattern.test(command));
    if (refusal) return [refusal.reply];
    const [name, ...args] = command.split(/\s+/);
    const port = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= this.modes.length ? Number(text) : undefined);
    switch (name!.toLowerCase()) {
      case 'state': {
        if (args.length === 0) return this.stateLines();
        const p = port(args[0]);
        return p === undefined ? [`*E Invalid port ${args[0]}`] : [this.stateLines()[p - 1]!];
      }
      case 'mode': {
        const mode = args[0]?.toLowerCase();
        if (mode !== 'o' && mode !== 's' && mode !== 'c' && mode !== 'b') return [`*E Invalid mode ${args[0] ?? ''}`.trim()];
        const targets = args.length > 1 ? [port(args[1])] : this.modes.map((_, i) => i + 1);
        if (targets.includes(undefined)) return [`*E Invalid port ${args[1]}`];
        if (!this.ignoreMode) for (const p of targets) this.modes[p! - 1] = mode;
        return [];
      }
      default:
        return [`*E Unknown command ${name}`];
    }
  }

  private stateLines(): string[] {
    return this.modes.map((mode, i) => `${i + 1}, ${mode === 's' ? '0120' : '0000'}, R D ${FLAG_OF[mode]}, 0, 0, x, 0.00`);
  }

  private send(text: string): void {
    this.port?.write(Buffer.from(text, 'latin1'));
  }

  private stopLive(): void {
    if (this.live) clearInterval(this.live);
    this.live = undefined;
  }
}
