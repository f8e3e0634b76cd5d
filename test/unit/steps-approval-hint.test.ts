// The approval hint names the `dextbench profile` command for the rig's team and the waiting
// bundle, and that command, run as written, writes the profile that pre-approves it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSystemExtensionsList, parsePlist } from '../../harness/host/parsers/index.ts';
import { approvalHint } from '../../harness/steps/support/approval.ts';
import { dextbench, scratchDir } from '../support/cli.ts';

const LIST = [
  '2 extension(s)',
  '--- com.apple.system_extension.driver_extension',
  'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]',
  '\t*\tDXTBNCH001\tcom.example.echo.driver.beta (1.0.0/1)\tEchoDriverBeta\t[activated waiting for user]',
  '--- com.apple.system_extension.endpoint_security',
  'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]',
  '\t*\t-\tcom.example.esguard.extension (2.0/7)\tESGuard\t[activated waiting for user]',
  '',
].join('\n');
const [driverRow, esRow] = parseSystemExtensionsList(LIST).extensions;

/** The command between backticks, run through the real CLI in a scratch folder; the profile's system-extension-policy. */
async function runNamedCommand(hint: string): Promise<Record<string, unknown>> {
  const command = /`(dextbench profile [^`]+)`/.exec(hint)?.[1];
  assert.ok(command, `the hint names a dextbench profile command: ${hint}`);
  const cwd = scratchDir();
  const r = await dextbench(command.split(' ').slice(1), { cwd });
  assert.equal(r.code, 0, r.stderr);
  const profile = parsePlist(readFileSync(join(cwd, 'rig.mobileconfig'), 'utf8')) as { PayloadContent: Record<string, unknown>[] };
  return profile.PayloadContent[0]!;
}

test('a dext waiting for approval: the hint names dextbench profile with the row\'s team and the bundle, and that command pre-approves it, removable', async () => {
  const hint = approvalHint('com.example.echo.driver.beta', driverRow, 'ZZZZZZZZZZ');
  assert.equal(hint, 'com.example.echo.driver.beta 1.0.0/1 is waiting for user approval [activated waiting for user]: ' +
    'approve it in System Settings > General > Login Items & Extensions > Driver Extensions, or pre-approve it on unattended rigs with the profile that ' +
    '`dextbench profile --team DXTBNCH001 --dext com.example.echo.driver.beta --removable -o rig.mobileconfig` writes, delivered through MDM ' +
    '(its system-extension-policy payload has AllowedSystemExtensions: {DXTBNCH001: [com.example.echo.driver.beta]}, and RemovableSystemExtensions ' +
    'so that cleanup can deactivate it without an admin prompt)');
  const policy = await runNamedCommand(hint);
  assert.deepEqual(policy['AllowedSystemExtensions'], { DXTBNCH001: ['com.example.echo.driver.beta'] });
  assert.deepEqual(policy['RemovableSystemExtensions'], { DXTBNCH001: ['com.example.echo.driver.beta'] });
  assert.deepEqual(policy['AllowedSystemExtensionTypes'], { DXTBNCH001: ['DriverExtension'] });
});

test('an ad hoc signed ES client: the rig\'s team and --es', async () => {
  const hint = approvalHint('com.example.esguard.extension', esRow, 'ABCDE12345');
  assert.match(hint, /> Endpoint Security Extensions, /);
  const policy = await runNamedCommand(hint);
  assert.deepEqual(policy['AllowedSystemExtensions'], { ABCDE12345: ['com.example.esguard.extension'] });
  assert.deepEqual(policy['AllowedSystemExtensionTypes'], { ABCDE12345: ['EndpointSecurityExtension'] });
});
