import { z } from 'zod';
import { ToolError } from '../host/tools/tool-error.ts';
import { describeVerdict } from '../ne/index.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { verdictStream, withinMs } from './support/ne.ts';

export default defineStep({
  kind: 'ne.expect',
  summary: 'Wait for a content filter\'s verdict (allow or drop) in its unified log lines (FlowGate\'s format, under the filter\'s bundle id) whose flow matches (protocol, remote, hostname, port; name for a DNS verdict).',
  schema: z.strictObject({
    verdict: z.enum(['allow', 'drop']),
    match: z.strictObject({
      protocol: z.enum(['tcp', 'udp']).optional(),
      remote: z.string().min(1).optional(),
      hostname: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).optional(),
      name: z.string().min(1).optional(),
    }).optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const timeoutMs = withinMs(ctx, args.within);
    const wanted = `${args.verdict}${args.match ? ` ${JSON.stringify(args.match)}` : ''}`;
    let stream;
    try {
      stream = await verdictStream(ctx);
    } catch (error) {
      throw new StepFailure(`ne.expect ${wanted}: cannot follow the filter's log lines: ${(error as Error).message}`);
    }
    try {
      const line = await stream.waitFor(args.verdict, args.match ?? {}, { timeoutMs });
      ctx.timeline.record({ type: 'ne-verdict', verdict: describeVerdict(line) });
      const { at: _at, ...fields } = line;
      return fields;
    } catch (error) {
      if (error instanceof ToolError) throw new StepFailure(`ne.expect: no FlowGate verdict ${wanted} within ${timeoutMs} ms; ${error.message}`);
      throw error;
    }
  },
});
