import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { finishIo, ioExpect, IoRun, type IoOutcome } from './support/io.ts';

export default defineStep({
  kind: 'io.await',
  summary: 'Wait for a background io (by its `as:` name) to end and check it: `io.await: { name: traffic, expect: { status: aborted } }`.',
  schema: z.union([
    z.string().min(1),
    z.strictObject({ name: z.string().min(1), expect: ioExpect.optional(), within: duration.optional() }),
  ]).transform((v) => (typeof v === 'string' ? { name: v } : v)),
  defaultTimeoutMs: 10 * 60_000,
  async run(args, ctx) {
    const run = ctx.results.get(args.name);
    if (!(run instanceof IoRun)) {
      throw new StepFailure(`io.await: "${args.name}" is not a background io (start one with io: { …, background: true } and as: ${args.name})`, { failureClass: 'configuration' });
    }
    const timeoutMs = args.within ?? ctx.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const o = await Promise.race([
      run.outcome,
      new Promise<IoOutcome>((_, reject) => { timer = setTimeout(() => reject(new StepFailure(`io ${args.name} did not end within ${timeoutMs} ms`)), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    finishIo(ctx, run.name ?? args.name, o, args.expect);
    return o;
  },
});
