import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { dextbench, readJsonReport, repoRoot } from '../../support/cli.ts';
import { C_TOOLCHAIN, lane } from '../../support/lane.ts';

const channelScenarios = ['echo-channel-ping-info', 'echo-loopback-prbs31', 'echo-unplug-during-io', 'echo-crash-during-io', 'echo-device-message']
  .map((name) => join(repoRoot, 'scenarios/driverkit', `${name}.yaml`));
const rigs = ['sim-c-dext', 'sim-ts-dext'].map((name) => join(repoRoot, 'test/fixtures/projects/rigs', `${name}.yaml`));

// The sim-c-dext rig pins the C dext server, which the simulated Mac builds with make: a lane.
const skip = lane('C dext server of the simulated Mac', C_TOOLCHAIN);

test('the channel scenarios pass with the TypeScript client against both dext servers (C libdextbench and its TS twin), two rigs in parallel',
  { skip }, async () => {
    const r = await dextbench(['run', '--reporter', 'list,json', ...rigs.flatMap((rig) => ['--rig', rig]), ...channelScenarios], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Running 10 tests using 2 workers/);
    const tests = readJsonReport(r.cwd);
    for (const project of ['sim-c-dext', 'sim-ts-dext']) {
      const own = tests.filter((t) => t.projectName === project);
      assert.equal(own.length, channelScenarios.length, project);
      for (const t of own) assert.equal(t.status, 'expected', `${project}: ${t.title}`);
      const loopback = own.find((t) => t.file.endsWith('echo-loopback-prbs31.yaml'))!;
      assert.match(loopback.annotations.find((a) => a.type === 'measure:loopback.MBps')?.description ?? '', /^\d+(\.\d+)? MB\/s$/);
    }
  });
