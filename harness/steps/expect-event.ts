import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { channelFor } from './support/channel.ts';
import { expectation, show, subsetMismatches } from './support/match.ts';

export default defineStep({
  kind: 'expect.event',
  summary: 'Wait for an event the dext raised on its channel (started, ioProgress, ioDone, log, extension…) whose fields match.',
  schema: z.strictObject({
    device: z.string().min(1),
    kind: z.string().min(1),
    match: z.record(z.string(), expectation).optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const client = await channelFor(ctx, args.device);
    const timeoutMs = args.within ?? Math.min(ctx.timeoutMs, 10_000);
    const kind = args.kind.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    let lastOfKind: unknown;
    try {
      const event = await client.waitForEvent((e) => {
        if (e.kind !== kind) return false;
        lastOfKind = e[kind];
        return !args.match || subsetMismatches(e[kind], args.match).length === 0;
      }, { timeoutMs });
      ctx.timeline.record({ type: 'channel-event', device: args.device, kind, seq: event.seq });
      return { seq: event.seq, timeNs: event.timeNs, ...(event[kind] as object) };
    } catch (error) {
      const differs = lastOfKind !== undefined && args.match ? `; it differs: ${subsetMismatches(lastOfKind, args.match).join('; ')}` : '';
      const seen = lastOfKind === undefined ? `no ${kind} event at all` : `last ${kind}: ${show(lastOfKind)}${differs}`;
      throw new StepFailure(`no ${kind} event${args.match ? ` matching ${show(args.match)}` : ''} from ${args.device} within ${timeoutMs} ms (${seen}): ${(error as Error).message}`);
    }
  },
});
