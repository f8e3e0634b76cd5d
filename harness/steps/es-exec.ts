import { z } from 'zod';
import { defineStep } from './step.ts';
import { esExpectation, probeStep } from './support/es.ts';

export default defineStep({
  kind: 'es.exec',
  summary: 'Exec a path (with args) through the ES probe on the Mac and check it was allowed or denied (denied: EPERM, or no exec event seen): `es.exec: { path: /usr/bin/nc, expect: denied }`.',
  schema: z.strictObject({
    path: z.string().min(1),
    args: z.array(z.string()).optional(),
    expect: esExpectation,
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    return probeStep(ctx, { action: 'exec', path: args.path, ...(args.args ? { args: args.args } : {}) }, args.expect, `exec ${args.path}`);
  },
});
