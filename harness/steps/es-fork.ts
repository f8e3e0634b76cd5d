import { z } from 'zod';
import { defineStep } from './step.ts';
import { esExpectation, probeStep } from './support/es.ts';

export default defineStep({
  kind: 'es.fork',
  summary: 'Fork a child through the ES probe and check it was allowed or denied: `es.fork: { expect: allowed }`.',
  schema: z.strictObject({ expect: esExpectation }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    return probeStep(ctx, { action: 'fork' }, args.expect, 'fork');
  },
});
