import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { defineStep } from './step.ts';
import { channelFor } from './support/channel.ts';
import { finishIo, followIo, ioExpect, ioShape, IoRun, startIo } from './support/io.ts';

export default defineStep({
  kind: 'io',
  summary: 'Push pattern traffic through the dext (loopback or an endpoint); every byte is verified. Runs to completion, or with `background: true` until an `io.await` of its `as:` name.',
  schema: z.strictObject({
    ...ioShape,
    background: z.boolean().default(false),
    /** Prefix of the measurements (default: io). */
    name: z.string().regex(/^[A-Za-z][\w.-]*$/).optional(),
    expect: ioExpect.optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 10 * 60_000,
  async run(args, ctx) {
    const client = await channelFor(ctx, args.device);
    const ioId = await startIo(client, args);
    const timeoutMs = args.within ?? ctx.timeoutMs;
    const outcome = followIo(client, ioId, BigInt(args.bytes), timeoutMs);
    const name = args.name ?? 'io';
    ctx.timeline.record({ type: 'io-start', name, device: args.device, ioId, bytes: args.bytes, pattern: args.pattern, background: args.background });
    if (args.background) {
      // Nothing may outlive the scenario: the cleanup stack waits for the io to end.
      ctx.cleanup.push(`end io ${name}`, async () => { await outcome; });
      return new IoRun(args.device, args.name, outcome);
    }
    const o = await outcome;
    finishIo(ctx, name, o, args.expect);
    return o;
  },
});
