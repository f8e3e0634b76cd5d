// The Xcode command line tools, which build the activator: the active developer directory
// (`xcode-select -p`) and the Swift compiler (`swiftc --version`). Without the tools, /usr/bin/swiftc
// is a stub that asks for them and fails. Their words are not in the reference: only exit statuses
// decide here, and what the tools said is passed on.
import type { Exec, ExecResult } from '../exec.ts';
import { toolSaid } from './tool-error.ts';

export type ToolAnswer = { ok: true; text: string } | { ok: false; said: string };

/** `xcode-select -p`: the active developer directory, e.g. /Library/Developer/CommandLineTools. */
export async function developerDir(exec: Exec, options: { timeoutMs?: number } = {}): Promise<ToolAnswer> {
  return answer(await exec.run(['xcode-select', '-p'], { timeoutMs: options.timeoutMs ?? 10_000, nothrow: true, idempotent: true }));
}

/** `swiftc --version`: its first line (`… Apple Swift version 6.1 …`). */
export async function swiftVersion(exec: Exec, options: { timeoutMs?: number } = {}): Promise<ToolAnswer> {
  return answer(await exec.run(['swiftc', '--version'], { timeoutMs: options.timeoutMs ?? 30_000, nothrow: true, idempotent: true }));
}

function answer(result: ExecResult): ToolAnswer {
  const text = result.stdout.split('\n').map((l) => l.trim()).find(Boolean);
  if (result.ok && text) return { ok: true, text };
  return { ok: false, said: result.exitCode === 127 ? `${result.argv[0]}: command not found` : toolSaid(result) };
}
