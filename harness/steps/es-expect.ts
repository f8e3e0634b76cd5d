import { z } from 'zod';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { describeEvent, esStream, eventMatches, eventName, matching } from './support/es.ts';
import { expectation, show } from './support/match.ts';

export default defineStep({
  kind: 'es.expect',
  summary: 'Wait for an eslogger event (since the scenario\'s stream started) whose fields match: `es.expect: { event: exec, match: { target.path: /usr/bin/true, args: [/usr/bin/true, -x] }, within: 5s }`.',
  schema: z.strictObject({
    event: eventName,
    match: z.record(z.string(), expectation).optional(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const stream = await esStream(ctx);
    const timeoutMs = args.within ?? Math.min(ctx.timeoutMs, 10_000);
    try {
      const event = await stream.waitFor((e) => eventMatches(e, args.event, args.match), { timeoutMs, description: `${args.event} event` });
      ctx.timeline.record({ type: 'es-event', event: event.event, pid: event.pid, globalSeqNum: event.globalSeqNum?.toString() });
      return event;
    } catch {
      const { hits, lastMiss } = matching(stream.events(), args.event, args.match);
      if (hits.length) return hits[0];
      const seen = stream.events().filter((e) => e.event === args.event).length;
      const closest = lastMiss ? `; the last one differs: ${lastMiss.why.join('; ')} (${describeEvent(lastMiss.event)})` : '';
      const ended = stream.running ? '' : `; ${stream.endedBecause()}`;
      throw new StepFailure(`no ${args.event} event${args.match ? ` matching ${show(args.match)}` : ''} within ${timeoutMs} ms ` +
        `(${seen} ${args.event} event(s) seen since eslogger started${closest})${ended}`);
    }
  },
});
