import { z } from 'zod';
import { defineStep } from './step.ts';
import { esExpectation, probeStep } from './support/es.ts';

export default defineStep({
  kind: 'es.mount',
  summary: 'Attach a disk image read-only through the ES probe (hdiutil attach, then detach), allowed or denied: `es.mount: { image: /Users/Shared/x.dmg, expect: allowed }`.',
  schema: z.strictObject({ image: z.string().min(1), expect: esExpectation }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    return probeStep(ctx, { action: 'mount', image: args.image }, args.expect, `mount ${args.image}`);
  },
});
