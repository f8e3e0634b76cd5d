import { z } from 'zod';
import { sleep } from '../common/time.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { describeEvent, esStream, eventName, matching } from './support/es.ts';
import { expectation, show } from './support/match.ts';

export default defineStep({
  kind: 'es.forbid',
  summary: 'Fail if eslogger saw an event whose fields match, since the scenario\'s stream started or within `during`: `es.forbid: { event: exec, match: { target.path: /usr/bin/nc } }`.',
  schema: z.strictObject({
    event: eventName,
    match: z.record(z.string(), expectation).optional(),
    during: duration.optional(),
  }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const stream = await esStream(ctx);
    if (args.during) await sleep(args.during);
    if (!stream.running && !stream.wasStopped) {
      throw new StepFailure(`cannot tell that no ${args.event} event happened: ${stream.endedBecause()}`);
    }
    const { hits } = matching(stream.events(), args.event, args.match);
    if (hits.length) {
      throw new StepFailure(`a forbidden ${args.event} event${args.match ? ` matching ${show(args.match)}` : ''} was seen` +
        `${hits.length > 1 ? ` (${hits.length} times; the first)` : ''}: ${describeEvent(hits[0]!)}`);
    }
    return { seen: 0, events: stream.events().filter((e) => e.event === args.event).length };
  },
});
