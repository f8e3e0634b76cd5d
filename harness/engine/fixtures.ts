// Fixtures: `rig` (worker scope: connect, reserve, safe state; released after the rig's last
// scenario) and `scene` (test scope: timeline, cleanup stack, log stream, measurements; its
// teardown always runs the cleanup stack and leaves the rig safe, also on failure and timeout).
import { test as base } from '@playwright/test';
import { loadChannelCodec, type ChannelClient, type ChannelCodec } from '../channel/index.ts';
import { dextPredicate, UnifiedLogStream } from '../host/tools/log.ts';
import { connectRig, type RigSession } from '../rig/connect.ts';
import { acquireLease, type Lease } from '../rig/lease.ts';
import { loadRig } from '../scenario/index.ts';
import type { Measurement } from '../steps/index.ts';
import { attachFailureArtifacts } from './artifacts.ts';
import { CleanupStackImpl } from './cleanup.ts';
import { readRunConfig, simEnvKey } from './run-config.ts';
import { TimelineRecorder } from './timeline.ts';

export interface RigOptions {
  /** Absolute path of the rig file this project runs on. */
  rigFile: string;
}

export interface Scene {
  readonly startedAt: Date;
  readonly timeline: TimelineRecorder;
  readonly cleanup: CleanupStackImpl;
  readonly results: Map<string, unknown>;
  readonly matchedProviders: Map<string, Set<bigint>>;
  readonly channels: Map<string, ChannelClient>;
  readonly log?: UnifiedLogStream;
  codecFor(deviceProto: string | undefined): ChannelCodec;
  measure(m: Measurement): void;
}

interface WorkerFixtures extends RigOptions {
  rig: RigSession;
}

interface TestFixtures {
  scene: Scene;
}

// Loading .proto files is the slow part of a codec: once per worker for each device proto.
const codecs = new Map<string, ChannelCodec>();
function codecFor(deviceProto: string | undefined): ChannelCodec {
  const key = deviceProto ?? '';
  let codec = codecs.get(key);
  if (!codec) {
    codec = loadChannelCodec({ extraProtoFiles: deviceProto ? [deviceProto] : [] });
    codecs.set(key, codec);
  }
  return codec;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  rigFile: ['', { option: true, scope: 'worker' }],

  rig: [async ({ rigFile }, use, workerInfo) => {
    const run = readRunConfig();
    const definition = loadRig(rigFile, { vars: run.vars });
    const simEnv = definition.host.kind === 'sim' ? process.env[simEnvKey(definition.name)] : undefined;
    if (definition.host.kind === 'sim' && !simEnv) throw new Error(`the simulated Mac for rig "${definition.name}" is not running`);
    const session = connectRig(definition, simEnv ? { sim: JSON.parse(simEnv) as { binDir: string } } : {});
    let lease: Lease | undefined;
    try {
      lease = await acquireLease(session.exec, definition.name, {
        ttlMs: definition.reservation.ttlMs,
        owner: `dextbench pid ${process.pid} worker ${workerInfo.workerIndex}`,
        waitMs: 60_000,
      });
      await session.safeState();
      await use(session);
    } finally {
      await session.safeState().catch(() => { /* reported by the next connect */ });
      await lease?.release().catch(() => { /* expires by ttl */ });
      await session.close();
    }
  }, { scope: 'worker', timeout: 120_000 }],

  scene: async ({ rig }, use, testInfo) => {
    const timeline = new TimelineRecorder();
    const cleanup = new CleanupStackImpl();
    const measurements: Measurement[] = [];
    const stopRecording = rig.exec.onRecord((r) => timeline.record({
      type: 'exec', argv: r.argv, exitCode: r.exitCode, signal: r.signal, durationMs: r.durationMs, timedOut: r.timedOut,
    }));
    const log = await UnifiedLogStream.start(rig.exec, { predicate: dextPredicate([]) }).catch((error: unknown) => {
      timeline.record({ type: 'warning', message: `log stream unavailable: ${(error as Error).message}` });
      return undefined;
    });
    log?.onEntry((e) => timeline.record({
      type: 'log', process: e.process, sender: e.sender, message: e.eventMessage, traceID: e.traceID,
    }));
    const scene: Scene = {
      startedAt: new Date(),
      timeline, cleanup, log,
      results: new Map(),
      matchedProviders: new Map(),
      channels: new Map(),
      codecFor,
      measure(m) {
        measurements.push(m);
        testInfo.annotations.push({ type: `measure:${m.name}`, description: `${m.value}${m.unit ? ` ${m.unit}` : ''}` });
        timeline.record({ type: 'measure', ...m });
      },
    };
    try {
      await use(scene);
    } finally {
      // The rig as the failure left it, before cleanup changes it.
      if (testInfo.status !== testInfo.expectedStatus) await attachFailureArtifacts(rig, scene, testInfo);
      const failures = await cleanup.runAll();
      await rig.safeState().then(
        () => timeline.record({ type: 'safe-state', ports: 'off' }),
        (error: unknown) => { failures.push({ title: 'safe state', error }); },
      );
      await log?.stop();
      stopRecording();
      timeline.record({ type: 'scenario-end', status: testInfo.status, cleanupFailures: failures.length });
      await testInfo.attach('timeline.jsonl', { body: timeline.toJsonLines(), contentType: 'application/x-ndjson' });
      if (measurements.length) await testInfo.attach('measurements.json', { body: JSON.stringify(measurements, null, 2), contentType: 'application/json' });
      if (failures.length > 0) {
        const lines = failures.map((f) => `${f.title}: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
        throw new Error(`cleanup failed: ${lines.join('; ')}`);
      }
    }
  },
});

export { expect } from '@playwright/test';
