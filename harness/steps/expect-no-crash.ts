import { classifyDextLogMessage } from '../host/parsers/index.ts';
import { dextPredicate, logShow } from '../host/tools/log.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { extensionArgs, resolveExtension } from './support/extensions.ts';

const schema = extensionArgs({});

export default defineStep({
  kind: 'expect.no_crash',
  summary: 'Fail if the unified log shows a crash or relaunch of the extension\'s dext since the scenario began.',
  schema,
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    const { bundle } = resolveExtension(ctx, args.extension);
    const providers = new Set(ctx.matchedProviders.get(bundle) ?? []);
    for (const d of await ctx.rig.tools.ioreg.usbDevices()) {
      if (d.services.some((s) => s.bundleId === bundle || s.serverName === bundle)) providers.add(d.registryId);
    }
    const entries = await logShow(ctx.rig.exec, { start: ctx.startedAt, predicate: dextPredicate([bundle]) });
    const evidence: string[] = [];
    let lowestCount: number | undefined;
    for (const entry of entries) {
      const event = classifyDextLogMessage(entry.eventMessage);
      if (!event) continue;
      if (event.kind === 'crashed' && event.bundleId === bundle) {
        // The counter is printed on every launch and counts a 24 h window: only a rise within
        // the scenario is a crash of this scenario.
        if (lowestCount !== undefined && event.count > lowestCount) evidence.push(entry.eventMessage);
        lowestCount = Math.min(lowestCount ?? event.count, event.count);
      } else if (event.kind === 'rematch' && providers.has(event.providerId)) {
        evidence.push(entry.eventMessage);
      }
    }
    if (evidence.length > 0) {
      ctx.timeline.record({ type: 'crash-evidence', bundle, lines: evidence });
      throw new StepFailure(`${bundle} crashed during the scenario: ${evidence.slice(0, 3).join(' | ')}`);
    }
    return { bundle, linesChecked: entries.length };
  },
});
