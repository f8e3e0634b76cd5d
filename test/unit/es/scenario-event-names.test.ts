// The scenario's eslogger stream subscribes to every event its es.expect/es.forbid steps name, also
// those whose arguments wait on an earlier result (`pid: "${ran.pid}"`): eslogger only sends what it
// was started with, so a missed name would be a wait that can never pass.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadScenario } from '../../../harness/scenario/index.ts';
import { stepRegistry, type StepContext } from '../../../harness/steps/index.ts';
import { scenarioEventNames } from '../../../harness/steps/support/es.ts';
import { tempDir } from '../../support/temp.ts';

test('scenarioEventNames: exec, fork, exit and every event named by es.expect/es.forbid in any section, templated arguments included', () => {
  const file = join(tempDir('dextbench-es-names-'), 'names.yaml');
  writeFileSync(file, `name: names
setup:
  - es.forbid: { event: signal }
steps:
  - es.mount: { image: /Users/Shared/x.dmg, expect: allowed }
    as: mounted
  - es.expect: { event: mount, match: { pid: "\${mounted.pid}" }, within: 5s }
  - es.expect: { event: open, match: { path: /tmp/x } }
  - es.expect: { event: exec }
cleanup:
  - es.forbid: { event: rename, match: { pid: "\${mounted.pid}" } }
`);
  const scenario = loadScenario(file, { steps: stepRegistry, env: {} });
  assert.deepEqual(scenarioEventNames({ scenario } as StepContext), ['exec', 'fork', 'exit', 'signal', 'mount', 'open', 'rename']);
});
