// What the ES steps share: the scenario's eslogger stream (started by its first es.* step, stopped
// in cleanup), the probe run with its `expect: allowed | denied`, and event matching.
import { z } from 'zod';
import { nestMatch, type EsEvent } from '../../es/events.ts';
import { DEFAULT_ESPROBE_COMMAND, describeProbe, EPERM, runProbe, type ProbeAction, type ProbeResult } from '../../es/probe.ts';
import { EsloggerStream, esloggerArgv } from '../../es/stream.ts';
import { DeferredStepArgs } from '../../scenario/index.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';
import { show, subsetMismatches } from './match.ts';

/** Always observed, whatever the scenario's es.expect/es.forbid name: exec, fork, exit. */
const BASE_EVENTS = ['exec', 'fork', 'exit'];
const OBSERVING_KINDS = new Set(['es.expect', 'es.forbid']);

export const esExpectation = z.enum(['allowed', 'denied']);
export const eventName = z.string().regex(/^[a-z][a-z0-9_]*$/, { error: (issue) => `expected an eslogger event name such as exec, fork, open (eslogger --list-events lists them), got ${JSON.stringify(issue.input)}` });

// One stream per scenario. The scene's results map lives exactly as long as the scenario, so it
// keys the stream without the engine knowing about ES.
const streams = new WeakMap<object, Promise<EsloggerStream>>();

/** Every event name the scenario's es.expect/es.forbid steps name, with exec, fork and exit. */
export function scenarioEventNames(ctx: StepContext): string[] {
  const names = new Set(BASE_EVENTS);
  const { setup, steps, cleanup } = ctx.scenario;
  for (const step of [...setup, ...steps, ...cleanup]) {
    if (!OBSERVING_KINDS.has(step.kind)) continue;
    // A step with a result reference (`pid: "${ran.pid}"`) keeps its arguments as written until it runs.
    const args = step.args instanceof DeferredStepArgs ? step.args.template : step.args;
    const event = (args as { event?: unknown } | undefined)?.event;
    if (typeof event === 'string' && !event.includes('${')) names.add(event);
  }
  return [...names];
}

/** The scenario's eslogger stream, started on first use. */
export function esStream(ctx: StepContext): Promise<EsloggerStream> {
  const key = ctx.results;
  let stream = streams.get(key);
  if (!stream) {
    stream = startStream(ctx);
    streams.set(key, stream);
  }
  return stream;
}

async function startStream(ctx: StepContext): Promise<EsloggerStream> {
  const events = scenarioEventNames(ctx);
  let stream: EsloggerStream;
  try {
    stream = await EsloggerStream.start(ctx.rig.exec, { events });
  } catch (error) {
    throw new StepFailure((error as Error).message);
  }
  ctx.timeline.record({ type: 'eslogger', phase: 'started', argv: esloggerArgv(events) });
  stream.onGap((gap) => ctx.timeline.record({
    type: 'warning', message: `eslogger dropped ${gap.missing} event(s): global_seq_num went from ${gap.after} to ${gap.before}`,
  }));
  ctx.cleanup.release('stop eslogger', async () => {
    await stream.stop();
    const dropped = stream.dropped();
    ctx.measure({ name: 'es_dropped_events', value: Number(dropped) });
    ctx.timeline.record({ type: 'eslogger', phase: 'stopped', received: stream.received, dropped: dropped.toString(), malformed: stream.malformed });
  });
  return stream;
}

/** How long a denied exec that did not say EPERM waits for an exec event that would prove it ran. */
const NO_EXEC_SETTLE_MS = 500;

/**
 * Runs the probe (after the stream is up, so that its events are seen) and checks `expect`:
 * allowed = the operation succeeded; denied = it failed with EPERM. For exec, EPERM is an inference
 * (reference §D.3), so a failure with another errno also counts as denied when eslogger saw no
 * exec of the path by the child; the result says which.
 */
export async function probeStep(ctx: StepContext, action: ProbeAction, expect: 'allowed' | 'denied', what: string): Promise<ProbeResult & { verdict: string }> {
  const stream = await esStream(ctx);
  const command = ctx.rig.definition.esprobe?.command ?? DEFAULT_ESPROBE_COMMAND;
  const result = await runProbe(ctx.rig.exec, command, action, { timeoutMs: Math.min(ctx.timeoutMs, 30_000) }).catch((error: unknown) => {
    throw new StepFailure((error as Error).message);
  });
  ctx.timeline.record({ type: 'es-probe', ...result });
  const saw = describeProbe(result);
  if (expect === 'allowed') {
    if (result.ok) return { ...result, verdict: 'allowed' };
    throw new StepFailure(`${what}: expected allowed, but it failed with ${saw}`);
  }
  if (result.ok) throw new StepFailure(`${what}: expected denied, but it succeeded (${saw})`);
  if (result.errno === EPERM) return { ...result, verdict: 'denied: EPERM' };
  if (action.action === 'exec') {
    const ran = await stream.waitFor((e) => isExecOf(e, action.path, result.pid), { timeoutMs: NO_EXEC_SETTLE_MS, description: 'exec' }).then(() => true, () => false);
    if (!ran) {
      ctx.timeline.record({ type: 'es-denied', how: 'no exec event', errno: result.errno });
      return { ...result, verdict: `denied: ${saw}, and eslogger saw no exec of ${action.path}` };
    }
    throw new StepFailure(`${what}: expected denied (EPERM), but it failed with ${saw} after eslogger saw it exec`);
  }
  throw new StepFailure(`${what}: expected denied (EPERM), but it failed with ${saw}`);
}

function isExecOf(e: EsEvent, path: string, pid: number): boolean {
  return e.event === 'exec' && e.pid === pid && (e.target?.path === path || e.target?.path === `/private${path}`);
}

/** The events of `name` that the match accepts, and the mismatches of the last one that does not. */
export function matching(events: readonly EsEvent[], name: string, match: Record<string, unknown> | undefined): { hits: EsEvent[]; lastMiss?: { event: EsEvent; why: string[] } } {
  const nested = match ? nestMatch(match) : undefined;
  const hits: EsEvent[] = [];
  let lastMiss: { event: EsEvent; why: string[] } | undefined;
  for (const e of events) {
    if (e.event !== name) continue;
    const why = nested ? subsetMismatches(e, nested) : [];
    if (why.length === 0) hits.push(e);
    else lastMiss = { event: e, why };
  }
  return lastMiss ? { hits, lastMiss } : { hits };
}

export function eventMatches(e: EsEvent, name: string, match: Record<string, unknown> | undefined): boolean {
  return e.event === name && (!match || subsetMismatches(e, nestMatch(match)).length === 0);
}

/** An event in one line: its name, the process and what it acted on. */
export function describeEvent(e: EsEvent): string {
  const parts = [`${e.event} by pid ${e.pid} (${e.process.path})`];
  if (e.target) parts.push(`target ${e.target.path}${e.target.signingId ? ` [${e.target.signingId}]` : ''}`);
  if (e.args) parts.push(`args ${show(e.args)}`);
  if (e.child) parts.push(`child ${e.child.pid}`);
  if (e.path !== undefined) parts.push(`path ${e.path}${e.to !== undefined ? ` → ${e.to}` : ''}`);
  if (e.signal) parts.push(e.signal);
  if (e.globalSeqNum !== undefined) parts.push(`global_seq_num ${e.globalSeqNum}`);
  return parts.join(', ');
}

