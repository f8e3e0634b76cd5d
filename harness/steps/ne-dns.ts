import { z } from 'zod';
import { ToolError } from '../host/tools/tool-error.ts';
import { digLookup } from '../ne/index.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { verdictStreamIfAny, withinMs } from './support/ne.ts';

export default defineStep({
  kind: 'ne.dns',
  summary: 'A DNS lookup from the Mac (dig +short): expect allowed (the server answered) or dropped (no reply came).',
  schema: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a DNS name'),
    expect: z.enum(['allowed', 'dropped']),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    await verdictStreamIfAny(ctx);
    let result;
    try {
      result = await digLookup(ctx.rig.exec, args.name, { timeoutMs: withinMs(ctx, args.within) });
    } catch (error) {
      if (error instanceof ToolError) throw new StepFailure(`ne.dns ${args.name}: ${error.message}`);
      throw error;
    }
    ctx.timeline.record({ type: 'ne-dns', name: args.name, outcome: result.outcome, exitCode: result.exitCode, addresses: result.addresses, durationMs: result.durationMs });
    const allowed = result.outcome === 'allowed';
    if (args.expect === 'allowed' && !allowed) {
      throw new StepFailure(`ne.dns ${args.name}: expected allowed, but the lookup was ${result.outcome} (dig exit ${result.exitCode}: ${result.reason})`);
    }
    if (args.expect === 'dropped' && allowed) {
      throw new StepFailure(`ne.dns ${args.name}: expected dropped, but the server answered (${result.reason})`);
    }
    return { outcome: result.outcome, exitCode: result.exitCode, addresses: result.addresses, reason: result.reason };
  },
});
