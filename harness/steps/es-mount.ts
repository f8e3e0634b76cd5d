import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { bundleOnHost } from '../rig/stage.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { esExpectation, probeStep } from './support/es.ts';

export default defineStep({
  kind: 'es.mount',
  summary: 'Attach a disk image read-only through the ES probe (hdiutil attach, then detach), allowed or denied: `es.mount: { image: /Users/Shared/x.dmg, expect: allowed }`.',
  schema: z.strictObject({ image: z.string().min(1), expect: esExpectation }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    // An image on this machine (./ and ../ from the scenario file) is sent to a Mac reached over
    // ssh first, like an extension's bundle (rig/stage.ts); a path only the Mac has is used as it is.
    const written = /^\.\.?\//.test(args.image) ? resolve(dirname(ctx.scenario.file), args.image) : args.image;
    const staged = await bundleOnHost(ctx.rig, written).catch((error: unknown) => {
      throw new StepFailure(`mount ${args.image}: ${(error as Error).message}`);
    });
    if (staged.path !== written) {
      ctx.timeline.record({ type: 'stage', from: written, to: staged.path, host: ctx.rig.exec.where, sent: staged.sent });
    }
    return probeStep(ctx, { action: 'mount', image: staged.path }, args.expect, `mount ${args.image}`);
  },
});
