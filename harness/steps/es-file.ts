import { z } from 'zod';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { esExpectation, probeStep } from './support/es.ts';

export default defineStep({
  kind: 'es.file',
  summary: 'A file operation through the ES probe (open, create, unlink, rename to `to`), allowed or denied: `es.file: { op: create, path: /tmp/x, expect: allowed }`.',
  schema: z.strictObject({
    op: z.enum(['open', 'create', 'unlink', 'rename']),
    path: z.string().min(1),
    to: z.string().min(1).optional(),
    expect: esExpectation,
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    if (args.op === 'rename') {
      if (args.to === undefined) throw new StepFailure('es.file: op rename needs to: (where the file goes)');
      return probeStep(ctx, { action: 'rename', path: args.path, to: args.to }, args.expect, `rename ${args.path} to ${args.to}`);
    }
    if (args.to !== undefined) throw new StepFailure(`es.file: to: is for op rename, not ${args.op}`);
    return probeStep(ctx, { action: args.op, path: args.path }, args.expect, `${args.op} ${args.path}`);
  },
});
