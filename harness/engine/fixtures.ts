// Fixtures: `rig` (worker scope: connect, reserve, safe state; released after the rig's last
// scenario) and `scene` (test scope: timeline, cleanup stack, log stream, measurements; its
// teardown always runs the cleanup stack and leaves the rig safe, also on failure and timeout).
import { test as base } from '@playwright/test';
import { loadChannelCodec, type ChannelCodec } from '../channel/index.ts';
import type { RigSession } from '../rig/connect.ts';
import { openRig } from '../rig/open.ts';
import { loadRig } from '../scenario/index.ts';
import { readRunConfig, verifyRunLease } from './run-config.ts';
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
    // Attached for as long as this worker runs, so a simulated Mac outlives a Ctrl-C'd runner
    // until this worker's cleanup is done.
    const opened = await openRig(definition, { projectDir: run.rootDir, who: `dextbench run worker ${workerInfo.workerIndex} (pid ${process.pid})` });
    try {
      await verifyRunLease(opened.session);
      await opened.session.safeState();
      await use(opened.session);
    } finally {
      await opened.session.safeState().catch(() => { /* reported by the next user of the rig */ });
      await opened.close();
    }
  }, { scope: 'worker', timeout: 120_000 }],

  scene: async ({ rig }, use, testInfo) => {
    await verifyRunLease(rig);
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
