// A macOS tool refused or failed: one line a person can act on, carrying the tool's own words.
import { formatArgv, type ExecResult } from '../exec.ts';

export class ToolError extends Error {
  constructor(message: string, readonly result?: ExecResult) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Multi-line tool output as one line: trimmed non-empty lines joined by a space. */
export function oneLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

/** What the tool said (stderr, else stdout), or how it ended. */
export function toolSaid(result: ExecResult): string {
  const said = oneLine(result.stderr) || oneLine(result.stdout);
  const how = result.timedOut
    ? `timed out after ${result.durationMs} ms`
    : result.signal ? `killed by ${result.signal}` : `exited with ${result.exitCode}`;
  return said ? `${how}: ${said}` : how;
}

/** `<argv> exited with 1: <what it said>` */
export function failure(result: ExecResult, prefix?: string): ToolError {
  return new ToolError(`${prefix ? `${prefix}: ` : ''}${formatArgv(result.argv)} ${toolSaid(result)}`, result);
}

