// sysext.deactivate on an unattended rig: without RemovableSystemExtensions macOS asks an admin, so
// a refused or unanswered deactivation says which MDM key lets cleanup run unattended.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRig } from '../../harness/rig/connect.ts';
import { StepFailure, stepRegistry, type StepContext } from '../../harness/steps/index.ts';
import type { Scenario } from '../../harness/scenario/index.ts';
import { FakeExec, type CannedReply } from './host/fake-exec.ts';
import { simRig } from './rig/rig-fixtures.ts';

const extensions = { 'echo-driver': { dext: '/builds/EchoDriver.dext', bundle: 'com.example.echo.driver' } };

async function deactivateWith(activator: CannedReply): Promise<StepFailure> {
  const exec = new FakeExec((argv) => (argv[0] === 'dextbench-activator' ? activator : {}));
  const rig = connectRig(simRig({ host: { kind: 'local' }, signing: { identity: '-', team: 'ABCDE12345' } }), { exec });
  const ctx = {
    rig, extensions, timeoutMs: 5_000, startedAt: new Date(),
    scenario: { uses: { devices: [], extensions } } as unknown as Scenario,
    timeline: { record: () => undefined },
  } as unknown as StepContext;
  const step = stepRegistry.get('sysext.deactivate')!;
  const error = await step.run(step.schema.parse('echo-driver'), ctx).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StepFailure, String(error));
  return error;
}

test('authorizationRequired: the failure names the RemovableSystemExtensions key for the rig\'s team', async () => {
  const e = await deactivateWith({ exitCode: 1, stdout: '{"event":"failed","code":13,"name":"authorizationRequired","message":"The operation couldn’t be completed."}\n' });
  assert.equal(e.message, 'deactivation of com.example.echo.driver failed: OSSystemExtensionErrorDomain code 13 (authorizationRequired): The operation couldn’t be completed.; ' +
    'unattended deactivation needs the MDM system-extension-policy key RemovableSystemExtensions: {ABCDE12345: [com.example.echo.driver]} (macOS 12+); without it macOS asks for an administrator\'s authorization');
});

test('a deactivation that never answers (an admin prompt nobody sees): the same hint', async () => {
  const e = await deactivateWith({ timedOut: true });
  assert.match(e.message, /dextbench-activator deactivate .*; unattended deactivation needs the MDM system-extension-policy key RemovableSystemExtensions: \{ABCDE12345: \[com\.example\.echo\.driver\]\}/);
});

test('other failures carry no removal hint', async () => {
  const e = await deactivateWith({ exitCode: 1, stdout: '{"event":"failed","code":4,"name":"extensionNotFound","message":"not found"}\n' });
  assert.doesNotMatch(e.message, /RemovableSystemExtensions/);
});
