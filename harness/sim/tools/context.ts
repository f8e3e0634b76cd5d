// What a tool implementation gets: the Mac, its argv, and the shim's output streams.
import type { Readable } from 'node:stream';
import type { Mac } from '../mac.ts';

export interface ToolContext {
  mac: Mac;
  argv: string[];
  cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** Aborted when the shim disconnects (SIGTERM/SIGINT, or its stdout closed). */
  signal: AbortSignal;
  /** Runs as root: only when the simulated sudo runs it (the simulated user is an admin, not root). */
  asRoot?: boolean;
}

/** Returns the exit code. */
export type Tool = (ctx: ToolContext) => number | Promise<number>;

/** A tool whose stdio is binary (dextbench-bridge): stdin and stdout pass through byte-exact. */
export interface RawToolContext {
  mac: Mac;
  argv: string[];
  cwd: string;
  /** The shim's stdin; ends when the shim's stdin does. */
  stdin: Readable;
  out(bytes: Uint8Array): void;
  err(text: string): void;
  /** Aborted when the shim goes away. */
  signal: AbortSignal;
  /** Runs as root: only when the simulated sudo runs it. */
  asRoot?: boolean;
}

export type RawTool = (ctx: RawToolContext) => Promise<number>;

/** Resolves after `ms` or as soon as the shim goes away. */
export function sleepOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = (): void => { clearTimeout(timer); resolve(); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
