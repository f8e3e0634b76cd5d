import { z } from 'zod';
import { ChannelError } from '../channel/index.ts';
import { sleep } from '../common/time.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { closeChannel, openChannel } from './support/channel.ts';

const RETRY_MS = 100;

export default defineStep({
  kind: 'reconnect',
  summary: 'Open a new channel session to the device (after a relaunch or replug), retrying until its service is back; returns GetInfo.',
  schema: z.union([
    z.string().min(1),
    z.strictObject({ device: z.string().min(1), within: duration.optional() }),
  ]).transform((v) => (typeof v === 'string' ? { device: v } : v)),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const old = ctx.channels.get(args.device);
    if (old) await closeChannel(ctx, args.device, old);
    const timeoutMs = args.within ?? Math.min(ctx.timeoutMs, 10_000);
    const deadline = performance.now() + timeoutMs;
    let lastError = '';
    for (let attempt = 1; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0) throw new StepFailure(`could not reconnect to ${args.device} within ${timeoutMs} ms after ${attempt - 1} attempts: ${lastError}`);
      try {
        const client = await openChannel(ctx, args.device, Math.max(500, left));
        const info = await client.call('GetInfo', {}, { timeoutMs: Math.max(500, deadline - performance.now()) });
        return { attempts: attempt, ...info };
      } catch (error) {
        // Only "not there yet" is retried: the service is rematching while the dext relaunches.
        if (!(error instanceof ChannelError)) throw error;
        lastError = error.message;
        await sleep(Math.min(RETRY_MS, Math.max(0, deadline - performance.now())));
      }
    }
  },
});
