// The profile steps against a fake Mac's `profiles show`: which payloads each kind of extension
// needs, and the one line with its fix when one is missing — the MDM command names each bundle by
// its kind (--dext/--es/--ne-filter), the content filter's is the hand-installable --manual-only one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostShell } from '../../../harness/host/zx.ts';
import { provisionContext, type ProvisionStep } from '../../../harness/provision/context.ts';
import { contentFilter, mdmProfiles } from '../../../harness/provision/profiles.ts';
import type { ExtensionDecl } from '../../../harness/rig/types.ts';
import { FakeExec, lines } from '../host/fake-exec.ts';
import { simRig } from '../rig/rig-fixtures.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ECHO: ExtensionDecl = { bundle: 'com.example.echo.driver' };
const EXECGUARD: ExtensionDecl = { bundle: 'com.example.execguard', systemExtension: join(ROOT, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension') };
const FLOWGATE: ExtensionDecl = { bundle: 'com.example.flowgate', systemExtension: join(ROOT, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension') };

/** `profiles show` listing payloads of these types (the layout the sim prints; only the types are read). */
function shown(...types: string[]): string {
  return lines(
    '_computerlevel[1] attribute: name: rig',
    `_computerlevel[1] payload count = ${types.length}`,
    ...types.map((type, i) => `_computerlevel[1]      payload[${i + 1}] type        = ${type}`),
    'There are 1 configuration profiles installed',
  );
}

async function outcome(step: ProvisionStep, extensions: Record<string, ExtensionDecl>, show: { stdout?: string; stderr?: string; exitCode?: number }) {
  // zx spawns its commands: the fake process answers as `profiles show` would.
  const exec = new FakeExec(() => ({ stderr: 'unexpected\n', exitCode: 127 }), (p) => {
    const reply = p.argv.join(' ').includes('profiles show -type configuration') ? show : { stderr: `unexpected: ${p.argv.join(' ')}\n`, exitCode: 127 };
    setImmediate(() => {
      p.stdout.write(reply.stdout ?? '');
      p.stderr.write(reply.stderr ?? '');
      p.exit(reply.exitCode ?? 0);
    });
  });
  const ctx = provisionContext({
    rig: simRig({ extensions }), exec, $: hostShell(exec), dryRun: false, rigArg: '--rig rigs/test.yaml',
    password: async () => undefined, passwordHint: '', print: () => undefined,
  });
  const result = await step.run(ctx);
  return { result, calls: exec.calls.length };
}

const ALL = { echo: ECHO, execguard: EXECGUARD, flowgate: FLOWGATE };
const MDM_COMMAND = 'dextbench profile --team DXTBNCH001 --dext com.example.echo.driver --es com.example.execguard --ne-filter com.example.flowgate --removable -o rig.mobileconfig';
const FILTER_COMMAND = 'dextbench profile --team DXTBNCH001 --ne-filter com.example.flowgate --manual-only -o content-filter.mobileconfig';

test('MDM profiles: the policy and, for an ES client, the TCC payload; each bundle by its kind in the command', async () => {
  assert.deepEqual((await outcome(mdmProfiles, ALL, { stdout: shown('com.apple.system-extension-policy') })).result, {
    status: 'warning',
    detail: 'no com.apple.TCC.configuration-profile-policy profile: the ES client com.example.execguard gets ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED from es_new_client (no Full Disk Access)',
    fix: `deliver a com.apple.TCC.configuration-profile-policy payload through MDM (it cannot be installed by hand); ${MDM_COMMAND} writes one`,
  });
  assert.deepEqual((await outcome(mdmProfiles, ALL, { stdout: 'There are no configuration profiles installed\n' })).result, {
    status: 'warning',
    detail: 'no com.apple.system-extension-policy profile: activating com.example.echo.driver, com.example.execguard, com.example.flowgate waits for a click in System Settings, and deactivating for an admin; ' +
      'no com.apple.TCC.configuration-profile-policy profile: the ES client com.example.execguard gets ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED from es_new_client (no Full Disk Access)',
    fix: `deliver the com.apple.system-extension-policy and com.apple.TCC.configuration-profile-policy payloads through MDM (they cannot be installed by hand); ${MDM_COMMAND} writes one`,
  });
  assert.deepEqual((await outcome(mdmProfiles, ALL, { stdout: shown('com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy') })).result,
    { status: 'ready', detail: 'already installed: com.apple.system-extension-policy, com.apple.TCC.configuration-profile-policy' });
  // No ES client: the TCC payload is not asked for.
  assert.deepEqual((await outcome(mdmProfiles, { flowgate: FLOWGATE }, { stdout: shown('com.apple.system-extension-policy') })).result,
    { status: 'ready', detail: 'already installed: com.apple.system-extension-policy' });
  assert.deepEqual((await outcome(mdmProfiles, { echo: ECHO }, { stderr: 'profiles: not permitted\n', exitCode: 1 })).result, {
    status: 'warning', detail: 'cannot list the installed profiles (profiles show: profiles: not permitted)',
    fix: 'deliver a com.apple.system-extension-policy payload through MDM (it cannot be installed by hand); dextbench profile --team DXTBNCH001 --dext com.example.echo.driver --removable -o rig.mobileconfig writes one',
  });
});

test('content filter: only for an NE filter; missing, the hand-installable profile and how to install it', async () => {
  assert.deepEqual(await outcome(contentFilter, { echo: ECHO, execguard: EXECGUARD }, { stdout: shown() }),
    { result: { status: 'not needed', detail: 'no content filter declared' }, calls: 0 });
  assert.deepEqual((await outcome(contentFilter, ALL, { stdout: shown('com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy') })).result, {
    status: 'warning',
    detail: 'no com.apple.webcontent-filter profile: enabling the filter com.example.flowgate waits for a person to allow its configuration',
    fix: `${FILTER_COMMAND}, copy it to the Mac, then sudo profiles install -type configuration -path content-filter.mobileconfig (or double-click it and approve it in System Settings)`,
  });
  assert.deepEqual((await outcome(contentFilter, ALL, { stdout: shown('com.apple.system-extension-policy', 'com.apple.webcontent-filter') })).result,
    { status: 'ready', detail: 'already installed: com.apple.webcontent-filter' });
  assert.equal((await outcome(contentFilter, ALL, { stderr: 'boom\n', exitCode: 1 })).result.status, 'warning');
});
