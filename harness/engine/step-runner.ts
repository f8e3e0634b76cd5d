// Runs one YAML step as a Playwright test.step titled and located at its file:line, under its
// deadline, and records it on the timeline. A failure carries the YAML location as its only stack
// frame, so reports point at the scenario line, not at harness internals. Deadlines are kept here,
// not by Playwright, so a step that runs out of time (its own, or the scenario's) is named with its
// line and closed on the timeline.
import { relative } from 'node:path';
import { test } from '@playwright/test';
import { formatMs, settlesWithin } from '../common/time.ts';
import type { RigSession } from '../rig/connect.ts';
import type { ExtensionDecl } from '../rig/types.ts';
import { interpolateResults, type Scenario, type ScenarioStep } from '../scenario/index.ts';
import { stepRegistry, type StepContext } from '../steps/index.ts';
import { classifyFailure, failureMessage, ownFrames, withFailureClass } from './failure-class.ts';
import { verifyRunLease } from './run-config.ts';
import type { Scene } from './scene.ts';

const DEFAULT_STEP_TIMEOUT_MS = 60_000;
const TITLE_ARGS_MAX = 70;

export interface ScenarioRun {
  scenario: Scenario;
  rig: RigSession;
  scene: Scene;
  extensions: Record<string, ExtensionDecl>;
  rootDir: string;
  /** performance.now() at which the scenario's timeout runs out (setup and steps; not cleanup). */
  deadline?: number;
}

export async function runStep(step: ScenarioStep, phase: string, run: ScenarioRun): Promise<void> {
  const definition = stepRegistry.get(step.kind);
  if (!definition) throw withFailureClass(atScenarioLine(`unknown step kind ${step.kind}`, step), 'configuration');
  const where = `${relative(run.rootDir, step.location.file)}:${step.location.line}`;
  const name = step.title ?? `${step.kind} ${summarizeArgs(step.args)}`.trim();
  const stepTimeoutMs = step.timeoutMs ?? definition.defaultTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const scenarioLeftMs = run.deadline === undefined ? Infinity : run.deadline - performance.now();
  const scenarioTimeout = `scenario timeout of ${formatMs(run.scenario.timeoutMs)}`;
  const named = `step ${step.title ? JSON.stringify(step.title) : step.kind} at ${where}`;
  // What a scenario waits for not happening within its time is the product's failure.
  if (scenarioLeftMs <= 0) throw withFailureClass(atScenarioLine(`${scenarioTimeout} exceeded before ${named} began`, step), 'product');
  const limitMs = Math.min(stepTimeoutMs, scenarioLeftMs);
  const { scene } = run;
  // The step's location is its YAML line: reports show it beside the step (the HTML report with
  // its snippet), instead of this call. Not `box`: that would replace a failure's YAML frame with
  // this file's frames.
  await test.step(`${name} — ${where}`, async () => {
    const started = performance.now();
    // After a timeout the step's work is abandoned; whatever it does later is not its outcome.
    let closed = false;
    const close = (status: string, extra: Record<string, unknown> = {}) => {
      closed = true;
      scene.timeline.record({ type: 'step', phase, kind: step.kind, at: where, status, durationMs: Math.round(performance.now() - started), ...extra });
    };
    scene.timeline.record({ type: 'step', phase, kind: step.kind, at: where, status: 'started' });
    const ctx: StepContext = {
      rig: run.rig, scenario: run.scenario, extensions: run.extensions,
      timeline: scene.timeline, results: scene.results,
      // What a step registers is reported, if it fails, at the step that registered it.
      cleanup: {
        push: (title, action) => scene.cleanup.push(title, action, step.location),
        release: (title, action) => scene.cleanup.release(title, action, step.location),
      },
      startedAt: scene.startedAt, timeoutMs: stepTimeoutMs, measure: scene.measure, matchedProviders: scene.matchedProviders, servingDexts: scene.servingDexts,
      channels: scene.channels, codecFor: scene.codecFor,
      verifyLease: () => verifyRunLease(run.rig),
    };
    const work = (async () => {
      const args = interpolateResults(step.args, scene.results);
      const result = await definition.run(args, ctx);
      if (!closed && step.as) scene.results.set(step.as, result);
    })();
    if (!(await settlesWithin(work, limitMs))) {
      const byScenario = scenarioLeftMs < stepTimeoutMs;
      close('timedOut', { timeoutMs: Math.round(limitMs), by: byScenario ? 'scenario' : 'step' });
      throw withFailureClass(atScenarioLine(byScenario
        ? `${scenarioTimeout} exceeded while ${named} was running`
        : `${named} did not finish within its timeout of ${formatMs(stepTimeoutMs)}`, step), 'product');
    }
    try {
      await work;
      close('passed');
    } catch (error) {
      const failureClass = classifyFailure(error);
      const message = failureMessage(error, failureClass);
      close('failed', { error: message, class: failureClass });
      // Our own bug keeps, below the YAML line, where it happened.
      const located = atScenarioLine(message, step);
      located.stack += ownFrames(error, failureClass).map((l) => `\n${l}`).join('');
      throw withFailureClass(located, failureClass);
    }
  }, { location: step.location });
}

/** An Error whose only stack frame is the YAML step, so reporters show the scenario's own line. */
export function atScenarioLine(message: string, step: ScenarioStep): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}\n    at ${step.location.file}:${step.location.line}:${step.location.column}`;
  return error;
}

function summarizeArgs(args: unknown): string {
  const text = typeof args === 'string' || typeof args === 'number' || typeof args === 'boolean'
    ? String(args)
    : JSON.stringify(args, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  return text.length > TITLE_ARGS_MAX ? `${text.slice(0, TITLE_ARGS_MAX - 1)}…` : text;
}
