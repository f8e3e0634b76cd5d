import { z } from 'zod';
import { defineStep } from './step.ts';
import { esExpectation, probeStep } from './support/es.ts';

export default defineStep({
  kind: 'es.signal',
  summary: 'Send a signal to a child of the ES probe and check it was allowed or denied: `es.signal: { signal: KILL, expect: allowed }`.',
  schema: z.strictObject({
    signal: z.string().regex(/^(SIG)?[A-Z][A-Z0-9]*$/i, { error: (issue) => `expected a signal name such as KILL or SIGTERM, got ${JSON.stringify(issue.input)}` }),
    expect: esExpectation,
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    return probeStep(ctx, { action: 'signal', signal: args.signal }, args.expect, `signal ${args.signal.toUpperCase()}`);
  },
});
