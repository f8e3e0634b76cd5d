import { z } from 'zod';
import { ToolError } from '../host/tools/tool-error.ts';
import { curlUrl, ncConnect, type AttemptResult } from '../ne/index.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { verdictStreamIfAny, withinMs } from './support/ne.ts';

export default defineStep({
  kind: 'ne.connect',
  summary: 'A connection attempt from the Mac: curl for a url, nc -z for host/port/protocol; expect allowed, or dropped (killed, refused, timed out or DNS failed, and says which).',
  schema: z.strictObject({
    url: z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL').optional(),
    host: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'expected a host name or an address').optional(),
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(['tcp', 'udp']).optional(),
    expect: z.enum(['allowed', 'dropped']),
    within: duration.optional(),
  }).superRefine((v, ctx) => {
    if (v.url !== undefined && (v.host !== undefined || v.port !== undefined || v.protocol !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either url, or host and port (with protocol), not both' });
    } else if (v.url === undefined && (v.host === undefined || v.port === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.host === undefined ? 'host' : 'port'], message: 'give a url, or a host and a port' });
    }
  }),
  defaultTimeoutMs: 30_000,
  async run(args, ctx) {
    // FlowGate's lines from here on are seen by a later ne.expect.
    await verdictStreamIfAny(ctx);
    const timeoutMs = withinMs(ctx, args.within);
    const target = args.url ?? `${args.host}:${args.port}/${args.protocol ?? 'tcp'}`;
    let result: AttemptResult;
    try {
      result = args.url !== undefined
        ? await curlUrl(ctx.rig.exec, args.url, { timeoutMs })
        : await ncConnect(ctx.rig.exec, args.host!, args.port!, args.protocol ?? 'tcp', { timeoutMs });
    } catch (error) {
      if (error instanceof ToolError) throw new StepFailure(`ne.connect ${target}: ${error.message}`);
      throw error;
    }
    ctx.timeline.record({ type: 'ne-connect', target, outcome: result.outcome, exitCode: result.exitCode, reason: result.reason, durationMs: result.durationMs });
    const allowed = result.outcome === 'allowed';
    if (args.expect === 'allowed' && !allowed) {
      throw new StepFailure(`ne.connect ${target}: expected allowed, but it was ${result.outcome} (${result.argv[0]} exit ${result.exitCode}: ${result.reason})`);
    }
    if (args.expect === 'dropped' && allowed) {
      throw new StepFailure(`ne.connect ${target}: expected dropped, but the connection was allowed (${result.argv[0]} exit 0: ${result.reason})`);
    }
    return { outcome: result.outcome, exitCode: result.exitCode, stderr: result.stderr, reason: result.reason };
  },
});
