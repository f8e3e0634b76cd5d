// Fixtures: `rig` (worker scope: connect, reserve, safe state; released after the rig's last
// scenario) and `scene` (test scope: timeline, cleanup stack, log stream, measurements; its
// teardown always runs the cleanup stack and leaves the rig safe, also on failure and timeout).
import { test as base } from '@playwright/test';
import { loadChannelCodec, type ChannelCodec } from '../channel/index.ts';
import { connectRig, type RigSession } from '../rig/connect.ts';
import { acquireLease, type Lease } from '../rig/lease.ts';
import { loadRig } from '../scenario/index.ts';
import { readRunConfig, simEnvKey } from './run-config.ts';
import { Scene } from './scene.ts';

export interface RigOptions {
  /** Absolute path of the rig file this project runs on. */
  rigFile: string;
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
    // The log streams start once the test has loaded its scenario (scene.followLog).
    const scene = new Scene(rig, testInfo, readRunConfig().rootDir, codecFor);
    try {
      await use(scene);
    } finally {
      await scene.finish();
    }
  },
});

export { expect } from '@playwright/test';
