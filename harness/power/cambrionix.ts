// Cambrionix hubs over their serial CLI (driverkit-rigs-es-ne.md §C.2): 115200 8N1 without flow
// control, commands end with CR LF, every reply ends with the prompt `>> `, a reply starting `*E`
// is an error, and the hub must have answered one command before it gets the next (the manual:
// it "may become unresponsive" otherwise), so commands go through a queue, one at a time.
//
// on  = `mode s <port>`: sync, the mode that connects the port's data lines (the manual's modes are
//       c charge, s sync, b biased, o off). INFERRED, not said in words by the reference: that
//       sync also supplies VBUS (the products are sold as "Charge+Sync"). Charge mode (c) is not
//       used for "on": a device charging without data would never enumerate.
// off = `mode o <port>`: "off, VBUS removed".
// Every change is read back with `state`: the reference's line is `port, current_mA, flags, …` with
// flags O (off) and S (sync); it asks to check the flag letters against the official manual, so
// only those two letters are relied on, in either case. No flag the reference explains says a
// device is attached, so `connected` is left undefined.
//
// The port lives on the machine running dextbench: serialport cannot reach a tty on a Mac driven
// over ssh (connect.ts refuses that rig).
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { DeadlineError, formatMs, settlesWithin, sleep, withDeadline } from '../common/time.ts';
import type { CambrionixHubSpec } from '../rig/types.ts';
import { cycleBySwitching, HubError, type HubDriver, type HubPortStatus } from './hub-driver.ts';

export interface CambrionixOptions {
  /** The serial device (default: the rig's `serial`). */
  path?: string;
  /** Deadline of each operation: opening and resync, then its commands. Default 10 s. */
  timeoutMs?: number;
}

export interface CambrionixPortState {
  port: number;
  currentMa: number;
  /** Upper case, as the line lists them ("R D O" → R, D, O). */
  flags: string[];
}

const DEFAULT_TIMEOUT_MS = 10_000;
const BAUD_RATE = 115_200;
const ETX = '\x03';
/** After Ctrl-C, the hub has settled once nothing more arrives for this long (it may print a prompt per line it ended). */
const QUIET_MS = 150;
/** Closing a port whose device is gone gets this long; then it is let go of anyway. */
const CLOSE_GRACE_MS = 1_000;
/** The prompt at the end of the buffer, at the start of a line (`boot>> ` in boot mode). */
const PROMPT_AT_END = /(^|[\r\n])(boot)?>> $/i;
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** `12, 0000, R D O, 0, 0, x, 0.00`: port, current, flags, then more columns that are not read. */
const STATE_LINE = /^\s*(\d{1,2})\s*,\s*(\d+)\s*,\s*([A-Za-z0-9 \t]*?)\s*(?:,|$)/;

/** `state` output → one entry per port line; other lines (headers, blank ones) are skipped. */
export function parseCambrionixState(text: string): CambrionixPortState[] {
  const ports: CambrionixPortState[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    const m = STATE_LINE.exec(line);
    if (!m) continue;
    ports.push({ port: Number(m[1]), currentMa: Number(m[2]), flags: m[3]!.split(/\s+/).filter(Boolean).map((f) => f.toUpperCase()) });
  }
  return ports;
}

export function cambrionixDriver(hub: CambrionixHubSpec, options: CambrionixOptions = {}): HubDriver {
  const path = options.path ?? hub.serial;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const link = new CambrionixLink(path, `hub ${hub.id} (cambrionix on ${path})`, timeoutMs);
  const where = link.where;
  /** Ports the hub listed in its last `state`. */
  let hubPorts: number[] | undefined;

  const checkPort = (port: number) => {
    if (!Number.isInteger(port) || port < 1 || port > hub.ports) throw new HubError(`${where}: no port ${port} (ports 1-${hub.ports})`);
  };

  const readState = async (deadline: number): Promise<CambrionixPortState[]> => {
    const reply = await link.command('state', deadline);
    const ports = parseCambrionixState(reply.join('\n'));
    if (ports.length === 0) throw new HubError(`${where}: \`state\` printed no port lines: ${quote(reply.join(' '))}`);
    hubPorts = ports.map((p) => p.port);
    return ports;
  };

  const onHub = (port: number) => {
    if (hubPorts && !hubPorts.includes(port)) {
      throw new HubError(`${where}: the hub has no port ${port} (its \`state\` lists ports ${rangeOf(hubPorts)}); fix the rig's hubs[].ports or the device's port`);
    }
  };

  const setPort = (port: number, on: boolean) => link.exclusive(async (deadline) => {
    checkPort(port);
    if (!hubPorts) await readState(deadline);
    onHub(port);
    const mode = on ? 's' : 'o';
    await link.command(`mode ${mode} ${port}`, deadline);
    const state = (await readState(deadline)).find((p) => p.port === port);
    if (!state) throw new HubError(`${where}: \`state\` after \`mode ${mode} ${port}\` has no line for port ${port}`);
    const done = on ? state.flags.includes('S') && !state.flags.includes('O') : state.flags.includes('O');
    if (!done) {
      throw new HubError(`${where}: port ${port} shows flags "${state.flags.join(' ')}" after \`mode ${mode} ${port}\` ` +
        `(expected ${on ? 'S: sync, powered with data' : 'O: off, VBUS removed'})`);
    }
  });

  const driver: HubDriver = {
    id: hub.id,
    setPort,
    cyclePort: cycleBySwitching(setPort),
    status: () => link.exclusive(async (deadline) => (await readState(deadline)).map((p): HubPortStatus => ({
      port: p.port, powered: !p.flags.includes('O'),
    }))),
    close: () => link.close(),
  };
  return driver;
}

/**
 * The serial port and the prompt protocol. Opened on first use (and again after the device went
 * away), resynced with Ctrl-C after each open and after any command that ran out of time.
 */
class CambrionixLink {
  private port: SerialPort | undefined;
  private synced = false;
  private buffer = '';
  private lastDataAt = 0;
  /** Woken on data and on close. */
  private wake: (() => void) | undefined;
  private closedWhy: string | undefined;
  /** Opened before: a missing device has gone away rather than never been there. */
  private wasOpen = false;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string, readonly where: string, private readonly timeoutMs: number) {}

  /** Runs `work` after every earlier operation has finished, with its own deadline. */
  exclusive<T>(work: (deadline: number) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => work(performance.now() + this.timeoutMs));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends one command line and returns the reply's lines, without its echo and prompt. A device
   * that went away since the last command (noticed or not yet) is opened again once, within the
   * same deadline, and the command sent again: both commands this driver sends, `state` and
   * `mode m p`, are the same when sent twice.
   */
  async command(text: string, deadline: number): Promise<string[]> {
    try {
      return await this.exchange(text, deadline);
    } catch (error) {
      if (!(error instanceof PortGoneError)) throw error;
      // A failed write can come before the close event: let go of the old port either way.
      await this.drop();
      return await this.exchange(text, deadline);
    }
  }

  private async exchange(text: string, deadline: number): Promise<string[]> {
    await this.ready(deadline);
    this.buffer = '';
    try {
      await this.until(() => PROMPT_AT_END.test(this.buffer), deadline, `\`${text}\``, this.write(`${text}\r\n`));
    } catch (error) {
      // Whatever the hub was doing, the next command starts with Ctrl-C.
      this.synced = false;
      throw error;
    }
    const raw = this.buffer;
    if (/boot>> $/i.test(raw)) throw new HubError(`${this.where}: the hub is in boot mode (prompt "boot>> "); power-cycle it to leave its bootloader`);
    const lines = raw.replace(PROMPT_AT_END, '').replace(ANSI_ESCAPE, '').split(/\r\n|\r|\n/).map((l) => l.trim()).filter(Boolean);
    if (lines[0] !== undefined && squash(lines[0]) === squash(text)) lines.shift();
    if (lines[0] !== undefined && /^\*E/i.test(lines[0])) throw new HubError(`${this.where}: \`${text}\` was refused: ${lines.join(' ')}`);
    return lines;
  }

  close(): Promise<void> {
    return this.exclusive(() => this.drop());
  }

  /** Forgets the port (the next command opens it again) and closes it. */
  private async drop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.synced = false;
    if (port?.isOpen) await settlesWithin(new Promise<void>((resolve) => port.close(() => resolve())), CLOSE_GRACE_MS);
  }

  private async ready(deadline: number): Promise<void> {
    if (!this.port) await this.open(deadline);
    if (!this.synced) await this.resync(deadline);
  }

  private async open(deadline: number): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: BAUD_RATE, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, autoOpen: false });
    const opened = new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    try {
      await withDeadline(opened, left(deadline), `${this.where}: opening ${this.path}`);
    } catch (error) {
      if (port.isOpen) port.close(() => { /* it never served a command */ });
      if (error instanceof DeadlineError) throw new HubError(error.message);
      throw new HubError(`${this.where}: ${openFailure(this.path, (error as Error).message, this.wasOpen)}`);
    }
    this.port = port;
    this.wasOpen = true;
    this.closedWhy = undefined;
    this.synced = false;
    this.buffer = '';
    port.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.lastDataAt = performance.now();
      this.wake?.();
    });
    // A device that went away (unplugged, reset) ends the port, through close or, when a read
    // fails with an error serialport does not count as a disconnect (EIO from a hung-up tty), an
    // error: the next command opens it again.
    const lost = (why: string) => {
      if (this.port !== port) return;
      this.port = undefined;
      this.synced = false;
      this.closedWhy = why;
      if (port.isOpen) port.close(() => { /* already lost */ });
      this.wake?.();
    };
    port.on('close', (error?: Error & { disconnected?: boolean }) => {
      lost(error?.disconnected ? 'the serial device went away (unplugged or reset?)' : 'the serial port closed');
    });
    port.on('error', (error: Error) => lost(`the serial port failed (${error.message})`));
  }

  /** Ctrl-C ends partial input and live modes; then wait for a prompt and for the hub to fall quiet. */
  private async resync(deadline: number): Promise<void> {
    this.buffer = '';
    await this.until(() => PROMPT_AT_END.test(this.buffer), deadline, 'Ctrl-C (resync)', this.write(`${ETX}\r\n`));
    while (performance.now() - this.lastDataAt < QUIET_MS) {
      if (performance.now() >= deadline) {
        throw new HubError(`${this.where}: the hub does not fall silent after Ctrl-C within ${formatMs(this.timeoutMs)}; last received: ${quote(this.buffer)}`);
      }
      if (!this.port) throw new PortGoneError(`${this.where}: ${this.closedWhy ?? 'the serial port closed'} during resync`);
      await sleep(Math.min(QUIET_MS, Math.max(1, deadline - performance.now())));
    }
    this.buffer = '';
    this.synced = true;
  }

  private write(data: string): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new PortGoneError(`${this.where}: ${this.closedWhy ?? 'the serial port is not open'}`));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(data, 'latin1'), (error) => {
        if (error) reject(new PortGoneError(`${this.where}: writing to ${this.path} failed: ${error.message}`));
        else resolve();
      });
    });
  }

  /**
   * Resolves once `done()` holds; a HubError at the deadline, when the port closes meanwhile, or
   * when `writing` fails (a write to a device that went away may never call back: the deadline
   * still holds).
   */
  private async until(done: () => boolean, deadline: number, what: string, writing: Promise<void>): Promise<void> {
    const port = this.port;
    const waited = new Promise<void>((resolve, reject) => {
      writing.catch(reject);
      const check = () => {
        if (done()) resolve();
        else if (this.port !== port) reject(new PortGoneError(`${this.where}: ${this.closedWhy ?? 'the serial port closed'} while waiting for the reply to ${what}`));
      };
      this.wake = check;
      check();
    });
    try {
      await withDeadline(waited, left(deadline), what);
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      // A tty whose device vanished may end neither in close nor in an error (a hung-up PTY reads
      // as end of file, which serialport reads again forever): the missing node tells.
      if (!existsSync(this.path)) throw new HubError(`${this.where}: ${openFailure(this.path, 'ENOENT', true)}`);
      throw new HubError(`${this.where}: no ">> " prompt after ${what} within ${formatMs(this.timeoutMs)}; ` +
        `received ${this.buffer ? quote(this.buffer) : 'nothing'} (is it a Cambrionix at 115200 baud, and is no other program using the port?)`);
    } finally {
      this.wake = undefined;
    }
  }
}

/** The port closed or stopped taking writes under a command: the device went away. */
class PortGoneError extends HubError {}

/** One line for a failed open: a missing device, a permission problem, or what the OS said. */
function openFailure(path: string, message: string, wasOpen: boolean): string {
  const said = message.replace(/^Error: /, '');
  if (/No such file or directory|ENOENT/i.test(said)) {
    if (wasOpen) return `the serial device at ${path} went away (unplugged, reset or powered off?) and is not back`;
    const list = process.platform === 'darwin' ? 'ls /dev/cu.usbserial*' : 'ls /dev/serial/by-id/ /dev/ttyUSB*';
    return `no serial device at ${path} (is the hub plugged in and powered? \`${list}\` lists the candidates; fix the rig's hubs[].serial)`;
  }
  if (/Permission denied|EACCES/i.test(said)) {
    // The cu.* advice is from npm-packages.md §2, marked "not verified" there; the Cambrionix
    // manual names the node /dev/tty.usbserial<serial>, which serialport (O_NONBLOCK) opens too.
    return process.platform === 'darwin'
      ? `permission denied opening ${path}: use the callout device /dev/cu.* (not /dev/tty.*), and check its owner and mode with \`ls -l ${path}\``
      : `permission denied opening ${path}: add your user to the dialout group (\`sudo usermod -aG dialout $USER\`, then log in again)`;
  }
  return `cannot open ${path}: ${said}`;
}

function left(deadline: number): number {
  return Math.max(1, Math.round(deadline - performance.now()));
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** What the hub sent, quoted with its control characters visible, cut to a readable length. */
function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `…${text.slice(-120)}` : text);
}

function rangeOf(ports: number[]): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const contiguous = sorted.every((p, i) => p === sorted[0]! + i);
  return contiguous && sorted.length > 1 ? `${sorted[0]}-${sorted.at(-1)}` : sorted.join(', ');
}
