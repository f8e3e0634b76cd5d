import { z } from 'zod';
import { pollUntil, DeadlineError } from '../common/time.ts';
import { describeClient, esClientState, lastNewClientFailure, type EsClientState } from '../es/client.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';
import { resolveExtension } from './support/extensions.ts';

export default defineStep({
  kind: 'es.client',
  summary: 'Check an ES extension\'s client is running (its endpoint_security row activated enabled, its process, es_new_client not failed) or not, waiting up to `within`: `es.client: { extension: execguard, running: true, within: 5s }`.',
  schema: z.strictObject({
    extension: z.string().min(1),
    running: z.boolean(),
    within: duration.optional(),
  }),
  defaultTimeoutMs: 60_000,
  async run(args, ctx) {
    const decl = resolveExtension(ctx, args.extension);
    const { exec, tools } = ctx.rig;
    const observe = async (): Promise<EsClientState & { failure?: Awaited<ReturnType<typeof lastNewClientFailure>> }> => {
      const state = await esClientState(exec, tools.sysext, decl.bundle);
      if (!state.running) return state;
      // A process that runs but whose es_new_client failed is no client (ExecGuard exits after it).
      const failure = await lastNewClientFailure(exec, decl.bundle, ctx.startedAt);
      return failure ? { ...state, running: false, failure } : state;
    };
    let last: Awaited<ReturnType<typeof observe>> | undefined;
    try {
      const state = await pollUntil(async () => {
        last = await observe();
        return { value: last.running === args.running ? last : undefined, seen: last };
      }, { timeoutMs: args.within ?? 0, intervalMs: 200, describe: () => '' });
      ctx.timeline.record({ type: 'es-client', bundle: decl.bundle, running: state.running, pids: state.pids });
      return { running: state.running, pids: state.pids, pid: state.pids[0] ?? null, rows: state.rows.map((r) => `${r.shortVersion}/${r.bundleVersion} [${r.state}]`) };
    } catch (error) {
      if (!(error instanceof DeadlineError) || !last) throw error;
      const seen = describeClient(decl.bundle, last);
      const within = args.within ? ` within ${args.within} ms` : '';
      if (args.running) {
        const failure = last.failure ?? (last.enabled ? await lastNewClientFailure(exec, decl.bundle, ctx.startedAt) : undefined);
        const why = failure ? `; it logged "${failure.line}": ${failure.fix}` : '';
        throw new StepFailure(`ES client ${decl.bundle} is not running${within} (${seen})${why}`);
      }
      throw new StepFailure(`ES client ${decl.bundle} is still running${within} (${seen})`);
    }
  },
});
