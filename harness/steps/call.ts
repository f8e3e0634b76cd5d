import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { channelFor } from './support/channel.ts';
import { expectation, show, subsetMismatches } from './support/match.ts';

export default defineStep({
  kind: 'call',
  summary: 'Call the matched dext through its channel: a contract method (Ping, GetInfo, GetStats…) or a message of the device\'s own .proto by its full name; `expect` matches a subset of the result.',
  schema: z.strictObject({
    device: z.string().min(1),
    /** `GetInfo`, `ping`, … or a device message type such as `dextbench.echo.v1.Echo`. */
    method: z.string().min(1),
    args: z.record(z.string(), z.unknown()).optional(),
    expect: expectation.optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const client = await channelFor(ctx, args.device);
    const timeoutMs = args.within ?? Math.min(ctx.timeoutMs, 10_000);
    const started = performance.now();
    // A dotted name is a message type of the device's own .proto, carried in Extension.
    const result = args.method.includes('.')
      ? await client.callExtension(args.method, args.args ?? {}, { timeoutMs })
      : await client.call(args.method, args.args ?? {}, { timeoutMs });
    const rttUs = Math.round((performance.now() - started) * 1000);
    ctx.timeline.record({ type: 'call', device: args.device, method: args.method, rttUs });
    if (args.expect !== undefined) {
      const mismatches = subsetMismatches(result, args.expect);
      if (mismatches.length) throw new StepFailure(`${args.method}: ${mismatches.join('; ')} (result: ${show(result)})`);
    }
    return result;
  },
});
