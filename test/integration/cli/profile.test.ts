// `dextbench profile` as a user runs it: the file it writes, the one line it prints, and one line
// with exit 2 for arguments that cannot make a profile.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePlist } from '../../../harness/host/parsers/index.ts';
import { dextbench, scratchDir } from '../../support/cli.ts';
import { lane, NEEDS } from '../../support/lane.ts';

const python = { skip: lane('profile read back by plistlib', [NEEDS.python3]) };

test('a rig profile: the summary line names the payloads and which need MDM; the file is a plist plistlib reads', python, async () => {
  const cwd = scratchDir();
  const r = await dextbench(['profile', '--team', 'ABCDE12345', '--dext', 'com.example.echo.driver', '--es', 'com.example.esguard.extension',
    '--ne-filter', 'com.example.flowfilter.ne', '--removable', '--name', 'nightly <mini-3> & co', '-o', 'rig.mobileconfig'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'wrote rig.mobileconfig (team ABCDE12345, 3 extensions, removable): com.apple.system-extension-policy, ' +
    'com.apple.TCC.configuration-profile-policy, com.apple.webcontent-filter; needs MDM: com.apple.system-extension-policy and ' +
    'com.apple.TCC.configuration-profile-policy cannot be installed by hand, so deliver the profile through MDM (user-approved, device channel); ' +
    'com.apple.webcontent-filter alone can be: write it with --manual-only for profiles install or a double-click\n');
  const py = spawnSync('python3', ['-c', [
    'import json, plistlib, sys',
    'p = plistlib.load(open(sys.argv[1], "rb"))',
    'print(json.dumps([p["PayloadDisplayName"], [c["PayloadType"] for c in p["PayloadContent"]], p["PayloadContent"][0]["RemovableSystemExtensions"]]))',
  ].join('\n'), join(cwd, 'rig.mobileconfig')], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.deepEqual(JSON.parse(py.stdout), ['nightly <mini-3> & co',
    ['com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy', 'com.apple.webcontent-filter'],
    { ABCDE12345: ['com.example.echo.driver', 'com.example.esguard.extension', 'com.example.flowfilter.ne'] }]);
});

test('a team-wide profile and a hand-installable filter profile say so', async () => {
  const cwd = scratchDir();
  const team = await dextbench(['profile', '--team', 'ABCDE12345', '-o', 'team.mobileconfig'], { cwd });
  assert.equal(team.code, 0, team.stderr);
  assert.equal(team.stdout, 'wrote team.mobileconfig (team ABCDE12345, every extension of the team): com.apple.system-extension-policy; ' +
    'needs MDM: com.apple.system-extension-policy cannot be installed by hand, so deliver the profile through MDM (user-approved, device channel)\n');
  assert.deepEqual((parsePlist(readFileSync(join(cwd, 'team.mobileconfig'), 'utf8')) as { PayloadContent: Record<string, unknown>[] }).PayloadContent[0]!['AllowedTeamIdentifiers'], ['ABCDE12345']);

  const filter = await dextbench(['profile', '--team', 'ABCDE12345', '--ne-filter', 'com.example.flowfilter.ne', '--filter-app=com.example.flowfilter.ne=com.example.Flow', '--manual-only', '--output', 'filter.mobileconfig'], { cwd });
  assert.equal(filter.code, 0, filter.stderr);
  assert.equal(filter.stdout, 'wrote filter.mobileconfig (team ABCDE12345, 1 extension): com.apple.webcontent-filter; ' +
    'no payload needs MDM: install it with a double-click (then approve it in System Settings) or profiles install\n');
  const payload = (parsePlist(readFileSync(join(cwd, 'filter.mobileconfig'), 'utf8')) as { PayloadContent: Record<string, unknown>[] }).PayloadContent[0]!;
  assert.equal(payload['PluginBundleID'], 'com.example.Flow');
});

test('bad arguments: one line, exit 2, and no file written', async () => {
  const cwd = scratchDir();
  const cases: [string[], string][] = [
    [['--team', 'abc', '--dext', 'com.example.echo.driver'], 'dextbench: --team: "abc" is not a team id: 10 upper-case letters and digits, like ABCDE12345'],
    [['--team', 'ABCDE12345', '--dext', 'echo'], 'dextbench: --dext: "echo" is not a bundle id: reverse-DNS letters, digits and hyphens, like com.example.echo.driver'],
    [['--team', 'ABCDE12345', '--code-requirement', 'com.example.es'], 'dextbench: --code-requirement expects BUNDLE=REQUIREMENT, got "com.example.es"'],
    [['--team', 'ABCDE12345', '--dext', 'com.example.a', 'com.example.b'], 'dextbench: unexpected argument "com.example.b"; usage: dextbench profile'],
    [['--team', 'ABCDE12345', '--team', 'ABCDE12346'], 'dextbench: --team is given 2 times; give it once'],
    [['--dext', 'com.example.a'], 'dextbench: --team is required; usage: dextbench profile'],
    [['--team', 'ABCDE12345', '--remvable'], 'dextbench: unknown option --remvable (options: --team'],
  ];
  for (const [args, line] of cases) {
    const r = await dextbench(['profile', ...args, '-o', 'out.mobileconfig'], { cwd });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(line), `${r.stderr} should start with ${line}`);
  }
  const noOutput = await dextbench(['profile', '--team', 'ABCDE12345'], { cwd });
  assert.equal(noOutput.code, 2);
  assert.match(noOutput.stderr, /^dextbench: -o FILE is required; usage: dextbench profile .*\n$/);
  assert.equal(existsSync(join(cwd, 'out.mobileconfig')), false);

  const unwritable = await dextbench(['profile', '--team', 'ABCDE12345', '-o', 'no/such/folder/rig.mobileconfig'], { cwd });
  assert.equal(unwritable.code, 1);
  assert.match(unwritable.stderr, /^dextbench: cannot write the profile: ENOENT: no such file or directory, open 'no\/such\/folder\/rig\.mobileconfig'\n$/);
});
