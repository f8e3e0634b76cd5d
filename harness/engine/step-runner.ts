// Runs one YAML step as a Playwright test.step titled with its file:line, under its deadline, and
// records it on the timeline. A failure carries the YAML location as its only stack frame, so
// reports point at the scenario line, not at harness internals.
import { relative } from 'node:path';
import { test } from '@playwright/test';
import type { RigSession } from '../rig/connect.ts';
import type { ExtensionDecl } from '../rig/types.ts';
import { interpolateResults, type Scenario, type ScenarioStep } from '../scenario/index.ts';
import { stepRegistry, type StepContext } from '../steps/index.ts';
import type { Scene } from './fixtures.ts';

const DEFAULT_STEP_TIMEOUT_MS = 60_000;
const TITLE_ARGS_MAX = 70;

export interface ScenarioRun {
  scenario: Scenario;
  rig: RigSession;
  scene: Scene;
  extensions: Record<string, ExtensionDecl>;
  rootDir: string;
}

export async function runStep(step: ScenarioStep, phase: string, run: ScenarioRun): Promise<void> {
  const definition = stepRegistry.get(step.kind);
  if (!definition) throw new Error(`unknown step kind ${step.kind}`);
  const where = `${relative(run.rootDir, step.location.file)}:${step.location.line}`;
  const title = `${step.title ?? `${step.kind} ${summarizeArgs(step.args)}`.trim()} — ${where}`;
  const timeoutMs = step.timeoutMs ?? definition.defaultTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const { scene } = run;
  await test.step(title, async () => {
    const started = performance.now();
    scene.timeline.record({ type: 'step', phase, kind: step.kind, at: where, status: 'started' });
    const ctx: StepContext = {
      rig: run.rig, scenario: run.scenario, extensions: run.extensions,
      timeline: scene.timeline, cleanup: scene.cleanup, results: scene.results,
      startedAt: scene.startedAt, timeoutMs, measure: scene.measure, matchedProviders: scene.matchedProviders,
      channels: scene.channels, codecFor: scene.codecFor,
    };
    try {
      const args = interpolateResults(step.args, scene.results);
      const result = await definition.run(args, ctx);
      if (step.as) scene.results.set(step.as, result);
      scene.timeline.record({ type: 'step', phase, kind: step.kind, at: where, status: 'passed', durationMs: Math.round(performance.now() - started) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      scene.timeline.record({ type: 'step', phase, kind: step.kind, at: where, status: 'failed', durationMs: Math.round(performance.now() - started), error: message });
      throw atScenarioLine(message, step);
    }
  }, { timeout: timeoutMs });
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
