import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { formatArgv } from '../host/exec.ts';

/** "text" matches as a substring; "/re/flags" as a regular expression. */
type TextMatch = { text: string } | { regex: RegExp };

const textMatch = z.string().transform((s, ctx): TextMatch => {
  const m = /^\/(.*)\/([dgimsuy]*)$/s.exec(s);
  if (!m) return { text: s };
  try {
    return { regex: new RegExp(m[1]!, m[2]) };
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression ${s}: ${(error as Error).message}` });
    return z.NEVER;
  }
});

function matches(m: TextMatch, value: string): boolean {
  return 'regex' in m ? m.regex.test(value) : value.includes(m.text);
}

function show(m: TextMatch): string {
  return 'regex' in m ? String(m.regex) : JSON.stringify(m.text);
}

export default defineStep({
  kind: 'run',
  summary: 'Run an explicit argv on the host; check its exit code (default 0) and output.',
  schema: z.strictObject({
    argv: z.array(z.string()).min(1),
    exit: z.number().int().min(0).max(255).default(0),
    stdout: textMatch.optional(),
    stderr: textMatch.optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const result = await ctx.rig.exec.run(args.argv, { timeoutMs: args.within ?? ctx.timeoutMs, nothrow: true });
    const cmd = formatArgv(args.argv);
    const tail = (s: string) => s.trim().split('\n').slice(-3).join(' | ');
    if (result.timedOut) throw new StepFailure(`${cmd} timed out after ${result.durationMs} ms`);
    if (result.exitCode !== args.exit) {
      throw new StepFailure(`${cmd} exited ${result.exitCode ?? result.signal}, expected ${args.exit}${result.stderr.trim() ? `: ${tail(result.stderr)}` : ''}`);
    }
    if (args.stdout && !matches(args.stdout, result.stdout)) {
      throw new StepFailure(`${cmd}: stdout does not match ${show(args.stdout)}; it was: ${tail(result.stdout) || '(empty)'}`);
    }
    if (args.stderr && !matches(args.stderr, result.stderr)) {
      throw new StepFailure(`${cmd}: stderr does not match ${show(args.stderr)}; it was: ${tail(result.stderr) || '(empty)'}`);
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs };
  },
});
