// Fixtures: `rig` (worker scope: connect, reserve, safe state; released after the rig's last
// scenario) and `scene` (test scope: timeline, cleanup stack, log stream, measurements; its
// teardown always runs the cleanup stack and leaves the rig safe, also on failure and timeout).
import { test as base } from '@playwright/test';
import { loadChannelCodec, type ChannelCodec } from '../channel/index.ts';
import type { RigSession } from '../rig/connect.ts';
import { openRig } from '../rig/open.ts';
import { loadRig } from '../scenario/index.ts';
import { classified, classOfTestErrors, FAILURE_CLASS_FIELD } from './failure-class.ts';
import { describeHolder } from '../rig/lease.ts';
import { runHoldOn } from './hold.ts';
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
  failureClass: void;
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
    // Failing to get the rig fails the tests that need it, each with the failure's class.
    const opened = await classifying(() => {
      const definition = loadRig(rigFile, { vars: run.vars });
      // Attached for as long as this worker runs, so a simulated Mac outlives a Ctrl-C'd runner
      // until this worker's cleanup is done.
      return openRig(definition, { projectDir: run.rootDir, who: `dextbench run worker ${workerInfo.workerIndex} (pid ${process.pid})` });
    });
    try {
      await classifying(async () => {
        // A rig this run holds after a failure (--hold) is left alone: its tests skip (scene).
        if (await runHoldOn(opened.session)) return;
        await verifyRunLease(opened.session);
        await opened.session.safeState();
      });
      await use(opened.session);
    } finally {
      // A rig this run holds after a failure (--hold) stays as the failure left it.
      if (!(await runHoldOn(opened.session))) await opened.session.safeState().catch(() => { /* reported by the next user of the rig */ });
      await opened.close();
    }
  }, { scope: 'worker', timeout: 120_000 }],

  scene: async ({ rig }, use, testInfo) => {
    const held = await runHoldOn(rig);
    testInfo.skip(held !== undefined, `not run: rig ${rig.definition.name} is held by ${held ? describeHolder(held) : ''}`);
    await classifying(() => verifyRunLease(rig));
    // The log streams start once the test has loaded its scenario (scene.followLog).
    const scene = new Scene(rig, testInfo, readRunConfig().rootDir, codecFor);
    try {
      await use(scene);
    } finally {
      await classifying(() => scene.finish());
    }
  },

  // Set up before the rig and torn down after everything else, so it sees every error the test
  // failed with (the rig's, the steps', cleanup's) and annotates the test with the first one's class.
  failureClass: [async ({}, use, testInfo) => {
    await use();
    if (testInfo.status === testInfo.expectedStatus || testInfo.status === 'skipped' || testInfo.status === 'interrupted') return;
    testInfo.annotations.push({ type: FAILURE_CLASS_FIELD, description: classOfTestErrors(testInfo.errors) });
  }, { auto: true }],
});

/** Runs `work`; what it throws is classified (`[class] …`). */
async function classifying<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw classified(error);
  }
}

export { expect } from '@playwright/test';
