// `script: { file, args, timeout }`: a zx script run in the harness process, the scenario author's
// escape hatch. Its default export (or `run`) is called with `{ $, args, vars, results, rig }`, where
// `$` runs commands on the rig's Mac (locally or over ssh); what it returns is the step's result. A
// throw fails the step at the script's own line; at its deadline the script's host commands are
// killed and the step fails.
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProcessOutput } from 'zx/core';
import { z } from 'zod';
import { DeadlineError, formatMs, withDeadline } from '../common/time.ts';
import { oneLine } from '../host/tools/tool-error.ts';
import { hostShell } from '../host/zx.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';

const SHAPE = 'export default async function ({ $, args, vars, results, rig }) { … }';

export default defineStep({
  kind: 'script',
  summary: 'Run a zx script (an ES module; its default export or `run`) with `$` bound to the rig\'s Mac; it gets { $, args, vars, results, rig } and its return value is the step\'s result.',
  schema: z.strictObject({
    file: z.string().regex(/\.mjs$/, { error: (issue) => `expected a .mjs file (an ES module), got ${JSON.stringify(issue.input)}` })
      .meta({ description: 'The script, an ES module (.mjs), relative to this scenario file.' }),
    args: z.array(z.unknown()).default([]).meta({ description: 'Passed to the script as `args`.' }),
    timeout: duration.optional().meta({ description: 'The script\'s deadline; its host commands are killed when it passes.' }),
  }),
  files: ['file'],
  defaultTimeoutMs: 120_000,
  async run(args, ctx) {
    const shown = relative(process.cwd(), args.file) || args.file;
    const script = await loadScript(args.file, shown);
    const limitMs = Math.min(args.timeout ?? ctx.timeoutMs, ctx.timeoutMs);
    const controller = new AbortController();
    const rig = ctx.rig.definition;
    const input = {
      $: hostShell(ctx.rig.exec, { signal: controller.signal, timeoutMs: limitMs }),
      args: args.args,
      vars: { ...rig.vars, ...ctx.scenario.vars },
      results: Object.fromEntries(ctx.results),
      rig,
    };
    try {
      return await withDeadline(Promise.resolve().then(() => script(input)), limitMs, shown);
    } catch (error) {
      if (error instanceof DeadlineError) throw new StepFailure(`${shown} did not finish within ${formatMs(limitMs)}; its commands on the Mac were stopped`);
      throw new StepFailure(`${atScriptLine(error, args.file, shown)}: ${describe(error)}`);
    } finally {
      // Commands the script started and did not wait for end with it.
      controller.abort(new Error(`${shown} ended`));
    }
  },
});

type Script = (input: Record<string, unknown>) => unknown;

async function loadScript(file: string, shown: string): Promise<Script> {
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(file).href) as Record<string, unknown>;
  } catch (error) {
    // A script that does not load or has no entry point is a bad scenario, not a product failure.
    throw new StepFailure(`${atScriptLine(error, file, shown)}: the script does not load: ${describe(error)}`, { failureClass: 'configuration' });
  }
  const script = module['default'] ?? module['run'];
  if (typeof script !== 'function') throw new StepFailure(`${shown} exports no default or run function (write ${SHAPE})`, { failureClass: 'configuration' });
  return script as Script;
}

/** `file:line` of the first stack frame in the script (a zx command's error names where it was called). */
function atScriptLine(error: unknown, file: string, shown: string): string {
  const text = error instanceof Error ? `${error.stack ?? ''}\n${error.message}` : '';
  for (const m of text.matchAll(/(file:\/\/[^\s)]+|\/[^\s():]+):(\d+):\d+/g)) {
    const path = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
    if (path === file) return `${shown}:${m[2]}`;
  }
  return shown;
}

/** One line: a failed command's exit and stderr (zx's ProcessOutput), else the error's message. */
function describe(error: unknown): string {
  if (error instanceof ProcessOutput) {
    // No exit at all: the command never ran, or the connection to the Mac failed.
    if (error.cause) return oneLine(error.cause.message);
    const said = oneLine(error.stderr);
    return `a command on the Mac ${error.signal ? `was killed by ${error.signal}` : `exited with ${error.exitCode}`}${said ? `: ${said}` : ''}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return oneLine(message.split('\n')[0] ?? '') || (error instanceof Error ? error.name : 'failed');
}
