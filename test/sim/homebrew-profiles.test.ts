// The simulated Mac's Homebrew (uhubctl: not installed until `brew install uhubctl`, which the Mac
// remembers) and its `profiles` (the MDM system-extension policy its config models is listed; a
// content filter installs by hand; MDM-only payloads are refused), as real processes through the shims.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildMobileconfig } from '../../harness/profile/mobileconfig.ts';
import { tempDir } from '../support/temp.ts';
import { simConfig, startSim, type Sim } from './support.ts';

const TEAM = 'ABCDE12345';

describe('Homebrew on the simulated Mac', () => {
  let sim: Sim;
  let stateDir: string;
  before(async () => {
    stateDir = tempDir('sim-brew-');
    sim = await startSim(simConfig({ homebrew: { uhubctl: false } }), stateDir);
  });
  after(async () => { await sim.stop(); });

  test('uhubctl is missing until brew installs it, and stays installed when the Mac restarts', async () => {
    assert.deepEqual(await sim.run('brew', ['--prefix']), { stdout: '/opt/homebrew\n', stderr: '', code: 0 });
    const missing = await sim.run('uhubctl', ['-l', '1-1']);
    assert.deepEqual([missing.code, missing.stderr], [127, 'uhubctl: command not found\n']);
    const notListed = await sim.run('brew', ['list', 'uhubctl']);
    assert.deepEqual([notListed.code, notListed.stdout, notListed.stderr], [1, '', 'Error: No such keg: /opt/homebrew/Cellar/uhubctl\n']);
    assert.deepEqual(await sim.run('brew', ['list']), { stdout: '', stderr: '', code: 0 });

    const installed = await sim.run('brew', ['install', 'uhubctl']);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /\/opt\/homebrew\/Cellar\/uhubctl\/2\.6\.0: /);
    assert.equal((await sim.run('brew', ['list', 'uhubctl'])).stdout.split('\n')[0], '/opt/homebrew/Cellar/uhubctl/2.6.0/bin/uhubctl');
    const works = await sim.run('uhubctl', ['-l', '1-1']);
    assert.equal(works.code, 0, works.stderr);
    assert.match(works.stdout, /^Current status for hub 1-1 /);
    const again = await sim.run('brew', ['install', 'uhubctl']);
    assert.deepEqual([again.code, again.stderr.split('\n')[0]], [0, 'Warning: uhubctl 2.6.0 is already installed and up-to-date.']);

    const other = await sim.run('brew', ['install', 'socat']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^Error: No available formula with the name "socat"/);

    // The same Mac, restarted: its state says uhubctl is installed, over the config's false.
    await sim.stop();
    sim = await startSim(simConfig({ homebrew: { uhubctl: false } }), stateDir);
    assert.equal((await sim.run('uhubctl', ['-l', '1-1'])).code, 0);
  });
});

describe('profiles on the simulated Mac', () => {
  let sim: Sim;
  let scratch: string;
  before(async () => {
    sim = await startSim();
    scratch = tempDir('sim-profiles-');
  });
  after(async () => { await sim.stop(); });

  const write = (name: string, request: Parameters<typeof buildMobileconfig>[0]): string => {
    const path = join(scratch, name);
    writeFileSync(path, buildMobileconfig(request).xml);
    return path;
  };
  const request = { team: TEAM, dexts: [], es: [], neFilters: [], removable: false };
  const payloadTypes = (stdout: string) => [...stdout.matchAll(/payload\[\d+\] type += (\S+)/g)].map((m) => m[1]);

  test('show lists the grants the config models (system-extension policy, Full Disk Access for eslogger), as MDM installed them', async () => {
    const shown = await sim.run('profiles', ['show', '-type', 'configuration']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(payloadTypes(shown.stdout), ['com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy']);
    assert.match(shown.stdout, /attribute: removalDisallowed: TRUE\n/);
    assert.match(shown.stdout, /\nThere are 1 configuration profiles installed\n$/);
  });

  test('a content filter installs by hand; a profile with an MDM-only payload is refused and changes nothing', async () => {
    const mdm = write('mdm.mobileconfig', { ...request, dexts: ['com.example.echo.driver'] });
    const refused = await sim.run('profiles', ['install', '-type', 'configuration', '-path', mdm]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `profiles: ${mdm}: com.apple.system-extension-policy can only be installed through MDM (a device enrolled in user-approved MDM), not by hand\n`);
    const tcc = write('tcc.mobileconfig', { ...request, es: ['com.example.es.client'] });
    assert.match((await sim.run('profiles', ['install', '-type', 'configuration', '-path', tcc])).stderr, /com\.apple\.system-extension-policy, com\.apple\.TCC\.configuration-profile-policy can only be installed through MDM/);

    const filter = write('filter.mobileconfig', { ...request, neFilters: ['com.example.filter.provider'], manualOnly: true });
    const installed = await sim.run('profiles', ['install', '-type', 'configuration', `-path=${filter}`]);
    assert.deepEqual(installed, { stdout: '', stderr: '', code: 0 });
    // Installed twice, it replaces itself (same PayloadIdentifier).
    assert.equal((await sim.run('profiles', ['install', '-type', 'configuration', '-path', filter])).code, 0);
    const shown = await sim.run('profiles', ['show', '-type', 'configuration']);
    assert.deepEqual(payloadTypes(shown.stdout), ['com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy', 'com.apple.webcontent-filter']);
    assert.match(shown.stdout, /_computerlevel\[2\] attribute: profileIdentifier: dextbench\.rig\.ABCDE12345\n/);
    assert.match(shown.stdout, /\nThere are 2 configuration profiles installed\n$/);
  });

  test('bad input: one line each', async () => {
    const notPlist = join(scratch, 'x.mobileconfig');
    writeFileSync(notPlist, 'hello');
    assert.match((await sim.run('profiles', ['install', '-type', 'configuration', '-path', notPlist])).stderr, /^profiles: \S+: not a property list|^profiles: \S+: not a configuration profile/);
    assert.equal((await sim.run('profiles', ['install', '-type', 'configuration', '-path', join(scratch, 'missing')])).code, 1);
    const usage = await sim.run('profiles', ['frob']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^profiles: unknown verb frob\nusage: profiles show/);
  });
});
