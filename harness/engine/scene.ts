// One scenario's run on a rig: its timeline, cleanup stack, step results, measurements and the
// unified log. `finish` always runs (fixture teardown): failure artifacts, cleanup, safe state,
// then the timeline and the log into the test's folder and the report, and on failure the repro
// bundle. Under --hold a failure skips cleanup and safe state and holds the rig (hold.ts).
import { relative } from 'node:path';
import type { TestInfo } from '@playwright/test';
import type { ChannelClient, ChannelCodec } from '../channel/index.ts';
import { EXTENSION_ANNOTATION, formatExtensionBuild } from '../common/extension-build.ts';
import { dextPredicate, extensionLogPredicate, UnifiedLogStream, type LogScope } from '../host/tools/log.ts';
import type { RigSession } from '../rig/connect.ts';
import { describeExtensions } from '../rig/manifest.ts';
import type { SourceLocation } from '../scenario/index.ts';
import type { Measurement, ServingDext } from '../steps/index.ts';
import { saveArtifact, saveFailureArtifacts, whereIs } from './artifacts.ts';
import { CleanupStackImpl, type CleanupFailure } from './cleanup.ts';
import { holdRunLease, writeHoldNote } from './hold.ts';
import { BUNDLE_DIR, saveReproBundle, type BundleSource } from './repro-bundle.ts';
import { readRunConfig } from './run-config.ts';
import { classifyFailure, classOfTestErrors, withFailureClass } from './failure-class.ts';
import { TimelineRecorder } from './timeline.ts';

export class Scene {
  readonly startedAt = new Date();
  readonly timeline = new TimelineRecorder();
  readonly cleanup = new CleanupStackImpl();
  readonly results = new Map<string, unknown>();
  readonly matchedProviders = new Map<string, Set<bigint>>();
  readonly servingDexts = new Map<bigint, ServingDext>();
  readonly channels = new Map<string, ChannelClient>();
  /**
   * The full stream: every kernel, sysextd and kernelmanagerd line and the dexts' own lines
   * (saved as unified-log.ndjson). Undefined before followLog, or when `log stream` failed.
   */
  log?: UnifiedLogStream;
  /** Only the lines about the scenario's extensions: these go on the timeline. */
  private timelineLog?: UnifiedLogStream;
  /** Why there is no full stream, for the failure artifact. */
  private noLogBecause = 'the scenario failed before its log was followed (see the error)';
  private readonly measurements: Measurement[] = [];
  private readonly stopRecording: () => void;
  /** What the repro bundle needs; set once the test has loaded its scenario. */
  private bundleSource?: BundleSource;

  constructor(
    private readonly rig: RigSession,
    private readonly testInfo: TestInfo,
    /** Where report paths are shown relative to (the run's directory). */
    private readonly rootDir: string,
    readonly codecFor: (deviceProto: string | undefined) => ChannelCodec,
  ) {
    this.stopRecording = rig.exec.onRecord((r) => this.timeline.record({
      type: 'exec', argv: r.argv, exitCode: r.exitCode, signal: r.signal, durationMs: r.durationMs, timedOut: r.timedOut,
    }));
  }

  /** Callable unbound: steps get it as `ctx.measure`. */
  readonly measure = (m: Measurement): void => {
    this.measurements.push(m);
    this.testInfo.annotations.push({ type: `measure:${m.name}`, description: `${m.value}${m.unit ? ` ${m.unit}` : ''}` });
    this.timeline.record({ type: 'measure', ...m });
  };

  /**
   * Starts the unified log streams for the scenario's extensions: the full stream, and the lines
   * that name them or come from their dexts, which go on the timeline. A rig without `log`
   * still runs its scenarios; the timeline says why it has no log lines.
   */
  async followLog(scope: LogScope): Promise<void> {
    const start = (predicate: string) => UnifiedLogStream.start(this.rig.exec, { predicate }).catch((error: unknown) => {
      this.noLogBecause = `log stream unavailable: ${(error as Error).message}`;
      this.timeline.record({ type: 'warning', message: this.noLogBecause });
      return undefined;
    });
    const matching = extensionLogPredicate(scope);
    [this.log, this.timelineLog] = await Promise.all([start(dextPredicate(scope.targets.map((t) => t.bundle))), matching ? start(matching) : undefined]);
    // A reboot (or a dropped connection) ends `log stream` over ssh; it resumes once the Mac answers.
    this.log?.onGap((gap) => this.timeline.record({
      type: 'warning',
      message: `the unified log stream was lost (exit ${gap.ended.exitCode ?? gap.ended.signal}) and resumed ${gap.downMs} ms later: lines logged in between are missing`,
    }));
    this.timelineLog?.onEntry((e) => this.timeline.record({
      type: 'log', process: e.process, sender: e.sender, message: e.eventMessage, traceID: e.traceID,
    }));
  }

  /** The scenario as loaded for this rig, and the extensions it activates: a failure's repro bundle records them. */
  ranScenario(source: Omit<BundleSource, 'runVars' | 'rootDir'>): void {
    this.bundleSource = { ...source, runVars: readRunConfig().vars, rootDir: this.rootDir };
    // Which builds ran, in every report (the history records them as the run's dext versions).
    for (const e of describeExtensions(source.extensions)) {
      this.testInfo.annotations.push({ type: EXTENSION_ANNOTATION, description: formatExtensionBuild(e) });
    }
  }

  /** The teardown: throws when cleanup failed, located at the YAML step whose cleanup it was. */
  async finish(): Promise<void> {
    const { testInfo, rig } = this;
    // The rig as the failure left it, before cleanup changes it.
    let artifactsSaved = testInfo.status !== testInfo.expectedStatus;
    if (artifactsSaved) await saveFailureArtifacts(rig, this.log ?? this.noLogBecause, testInfo);
    const hold = readRunConfig().hold;
    if (artifactsSaved && hold && await this.hold(hold.forMs)) return;
    const failures = await this.cleanup.runAll();
    // A test that passed but whose cleanup failed: the rig as the failing cleanup left it.
    if (failures.length && !artifactsSaved) {
      await saveFailureArtifacts(rig, this.log ?? this.noLogBecause, testInfo);
      artifactsSaved = true;
    }
    await rig.safeState().then(
      () => this.timeline.record({ type: 'safe-state', ports: 'off' }),
      (error: unknown) => { failures.push({ title: 'safe state', error }); },
    );
    await Promise.all([this.log?.stop(), this.timelineLog?.stop()]);
    this.stopRecording();
    const status = failures.length && testInfo.status === 'passed' ? 'failed' : testInfo.status;
    const failureClass = status === testInfo.expectedStatus ? undefined
      : testInfo.errors.length ? classOfTestErrors(testInfo.errors) : failures[0] && classifyFailure(failures[0].error);
    this.timeline.record({ type: 'scenario-end', status, cleanupFailures: failures.length, ...(failureClass ? { class: failureClass } : {}) });
    await saveArtifact(testInfo, 'timeline.jsonl', this.timeline.toJsonLines(), 'application/x-ndjson');
    if (this.log) await saveArtifact(testInfo, 'unified-log.ndjson', joinLines(this.log.lines()), 'application/x-ndjson');
    if (this.measurements.length) await saveArtifact(testInfo, 'measurements.json', JSON.stringify(this.measurements, null, 2), 'application/json');
    if (artifactsSaved) await this.saveBundle();
    if (failures.length > 0) throw cleanupError(failures, this.rootDir);
  }

  /**
   * --hold after a failure: no cleanup, no safe state; the run's lease becomes a hold. Only the
   * harness's own ends are let go: the releases on the cleanup stack (eslogger and verdict
   * streams, channels, USB handles), the log streams, channels. False when the hold could not be
   * taken (the lease was lost): then cleanup runs as usual.
   */
  private async hold(forMs: number): Promise<boolean> {
    const { testInfo, rig } = this;
    const scenario = this.bundleSource?.scenario.name ?? testInfo.title;
    const bundle = relative(this.rootDir, testInfo.outputPath(BUNDLE_DIR));
    let until: string;
    try {
      until = (await holdRunLease(rig, { forMs, scenario, bundle })).hold!.until;
    } catch (error) {
      this.timeline.record({ type: 'warning', message: `--hold: the rig could not be held (${(error as Error).message}); cleanup runs` });
      return false;
    }
    this.timeline.record({ type: 'hold', until, cleanup: 'skipped' });
    testInfo.annotations.push({ type: 'dextbench.hold', description: `rig ${rig.definition.name} held as this failure left it until ${until} (cleanup did not run)` });
    // Nothing the run opened may outlive it while the rig waits (the worker may exit, its children not).
    for (const f of await this.cleanup.runReleases()) {
      this.timeline.record({ type: 'warning', message: `--hold: ${f.title} failed: ${f.error instanceof Error ? f.error.message : String(f.error)}` });
    }
    await Promise.all([...this.channels.values()].map((c) => c.close().catch(() => undefined)));
    await Promise.all([this.log?.stop(), this.timelineLog?.stop()]);
    this.stopRecording();
    this.timeline.record({ type: 'scenario-end', status: testInfo.status, held: true, class: classOfTestErrors(testInfo.errors) });
    await saveArtifact(testInfo, 'timeline.jsonl', this.timeline.toJsonLines(), 'application/x-ndjson');
    if (this.log) await saveArtifact(testInfo, 'unified-log.ndjson', joinLines(this.log.lines()), 'application/x-ndjson');
    if (this.measurements.length) await saveArtifact(testInfo, 'measurements.json', JSON.stringify(this.measurements, null, 2), 'application/json');
    await this.saveBundle({ until });
    writeHoldNote(readRunConfig().outputDir, {
      rig: rig.definition.name, rigFile: rig.definition.file, until, scenario, bundle,
      devices: this.bundleSource?.scenario.uses.devices ?? [...rig.devices.keys()],
    });
    return true;
  }

  private async saveBundle(held?: { until: string }): Promise<void> {
    if (!this.bundleSource) return;
    await saveReproBundle(this.rig, this.bundleSource, this.testInfo, held).catch((error: unknown) => {
      this.timeline.record({ type: 'warning', message: `the repro bundle could not be written: ${(error as Error).message}` });
    });
  }
}

/**
 * One error for all cleanup failures; its only stack frame is the first one's YAML step, and its
 * class the first one's.
 */
function cleanupError(failures: CleanupFailure[], rootDir: string): Error {
  const lines = failures.map((f) => {
    const message = f.error instanceof Error ? f.error.message : String(f.error);
    return `${f.title}${f.location ? ` (${whereIs(f.location, rootDir)})` : ''}: ${message}`;
  });
  const error = new Error(`cleanup failed: ${lines.join('; ')}`);
  const at: SourceLocation | undefined = failures.find((f) => f.location)?.location;
  error.stack = at ? `Error: ${error.message}\n    at ${at.file}:${at.line}:${at.column}` : `Error: ${error.message}`;
  return withFailureClass(error, classifyFailure(failures[0]!.error));
}

function joinLines(lines: string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : '';
}
