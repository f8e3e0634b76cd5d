// The simulated Mac's sudo (its sudoers policy read from the Mac's own disk), visudo -c, install
// through sudo, and the developer tools (xcode-select, swiftc), as real processes through the shims.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalExec } from '../../harness/host/exec.ts';
import { sudoersDropIn } from '../../harness/host/tools/sudo.ts';
import { tempDir } from '../support/temp.ts';
import { simConfig, startSim, type Sim } from './support.ts';

interface Ran { code: number | null; stdout: string; stderr: string }

/** A tool of the simulated Mac with the given stdin (ended), as the rig's Exec runs it. */
async function run(sim: Sim, argv: string[], stdin = ''): Promise<Ran> {
  const r = await new LocalExec({ pathPrefix: [sim.binDir] }).run(argv, { stdin, cwd: sim.stateDir, nothrow: true, timeoutMs: 10_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const PASSWORD = 'dextbench-sim';
const RULES = sudoersDropIn([
  { path: '/usr/bin/systemextensionsctl', args: ['developer', 'on'] },
  { path: '/usr/bin/systemextensionsctl', args: ['uninstall', '*'] },
  { path: '/bin/kill' },
]);

describe('sudo on the simulated Mac', () => {
  let sim: Sim;
  let scratch: string;
  before(async () => {
    sim = await startSim();
    scratch = tempDir('sim-sudo-');
  });
  after(async () => { await sim.stop(); });

  test('without a drop-in: -n refuses (also -l), and without -n or -S there is no terminal to ask on', async () => {
    const refused = await run(sim, ['sudo', '-n', 'kill', '-0', '1']);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '', 'sudo: a password is required\n']);
    const listed = await run(sim, ['sudo', '-n', '-l', 'systemextensionsctl', 'developer', 'on']);
    assert.deepEqual([listed.code, listed.stdout, listed.stderr], [1, '', 'sudo: a password is required\n']);
    const noTty = await run(sim, ['sudo', 'systemextensionsctl', 'developer', 'on']);
    assert.equal(noTty.code, 1);
    assert.match(noTty.stderr, /^sudo: a terminal is required to read the password; either use the -S option/);
    const developer = await run(sim, ['systemextensionsctl', 'developer']);
    assert.match(developer.stdout + developer.stderr, /Developer mode is off/);
    const unknown = await run(sim, ['sudo', '-n', 'frobnicate']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'sudo: frobnicate: command not found\n']);
    const bad = await run(sim, ['sudo', '-x', 'kill']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^sudo: invalid option -- 'x'\nusage: sudo/);
  });

  test('-S reads the admin password from stdin: a wrong one is refused, the right one installs the drop-in on the Mac\'s disk', async () => {
    const src = join(scratch, 'dextbench');
    writeFileSync(src, RULES);
    const checked = await run(sim, ['visudo', '-c', '-f', src]);
    assert.deepEqual([checked.code, checked.stdout], [0, `${src}: parsed OK\n`]);

    const installed = join(sim.stateDir, 'fs', 'etc', 'sudoers.d', 'dextbench');
    const wrong = await run(sim, ['sudo', '-S', '-p', '', 'install', '-m', '0440', src, '/etc/sudoers.d/dextbench'], 'guess\n');
    assert.deepEqual([wrong.code, wrong.stderr], [1, 'Sorry, try again.\nsudo: 1 incorrect password attempt\n']);
    assert.equal(existsSync(installed), false);

    const right = await run(sim, ['sudo', '-S', '-p', '', 'install', '-m', '0440', src, '/etc/sudoers.d/dextbench'], `${PASSWORD}\n`);
    assert.deepEqual([right.code, right.stderr], [0, '']);
    assert.equal(readFileSync(installed, 'utf8'), RULES);
    assert.equal(statSync(installed).mode & 0o777, 0o440);

    const all = await run(sim, ['visudo', '-c']);
    assert.deepEqual([all.code, all.stdout], [0, '/etc/sudoers: parsed OK\n/etc/sudoers.d/dextbench: parsed OK\n']);
  });

  test('with the drop-in: -n -l prints the full path of exactly the allowed command lines, and -n runs them', async () => {
    const allowed = await run(sim, ['sudo', '-n', '-l', 'systemextensionsctl', 'developer', 'on']);
    assert.deepEqual([allowed.code, allowed.stdout, allowed.stderr], [0, '/usr/bin/systemextensionsctl developer on\n', '']);
    const anyArgs = await run(sim, ['sudo', '-n', '-l', '/bin/kill', '-KILL', '123']);
    assert.deepEqual([anyArgs.code, anyArgs.stdout], [0, '/bin/kill -KILL 123\n']);
    const glob = await run(sim, ['sudo', '-n', '-l', 'systemextensionsctl', 'uninstall', '-', 'com.example.echo.driver']);
    assert.deepEqual([glob.code, glob.stdout], [0, '/usr/bin/systemextensionsctl uninstall - com.example.echo.driver\n']);
    // Other arguments of an allowed tool, and other tools, still need the password.
    const off = await run(sim, ['sudo', '-n', '-l', 'systemextensionsctl', 'developer', 'off']);
    assert.deepEqual([off.code, off.stdout, off.stderr], [1, '', 'sudo: a password is required\n']);
    const hub = await run(sim, ['sudo', '-n', '-l', 'uhubctl']);
    assert.deepEqual([hub.code, hub.stderr], [1, 'sudo: a password is required\n']);

    const on = await run(sim, ['sudo', '-n', 'systemextensionsctl', 'developer', 'on']);
    assert.equal(on.code, 0, on.stderr);
    const developer = await run(sim, ['systemextensionsctl', 'developer']);
    assert.match(developer.stdout + developer.stderr, /Developer mode is on/);
    const listing = await run(sim, ['sudo', '-n', '-l']);
    assert.equal(listing.code, 0, listing.stderr);
    assert.match(listing.stdout, /\(root\) NOPASSWD: \/usr\/bin\/systemextensionsctl developer on\n/);
  });

  test('install writes only the Mac\'s own disk: a target on this machine outside it is refused', async () => {
    const src = join(scratch, 'rules');
    writeFileSync(src, RULES);
    const outside = join(scratch, 'outside');
    const refused = await run(sim, ['sudo', '-S', '-p', '', 'install', '-m', '0440', src, outside], `${PASSWORD}\n`);
    assert.equal(refused.code, 71);
    assert.match(refused.stderr, /^install: .*outside: the simulated Mac writes only its own disk \(\/etc\/sudoers\.d and .*\); refusing to write this machine's file\n$/);
    assert.equal(existsSync(outside), false);
  });

  test('visudo -c names the line of a syntax error; such a drop-in stops every sudo until it is fixed', async () => {
    const bad = join(scratch, 'bad');
    writeFileSync(bad, '# dextbench\n%admin ALL=(root) NOPASSWD: systemextensionsctl developer on\n');
    const checked = await run(sim, ['visudo', '-c', '-f', bad]);
    assert.deepEqual([checked.code, checked.stdout, checked.stderr], [1, '', `>>> ${bad}: syntax error near line 2 <<<\nparse error in ${bad} near line 2\n`]);
    const quiet = await run(sim, ['visudo', '-cq', '-f', bad]);
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [1, '', '']);
    for (const line of ['%admin ALL=(root) NOPASSWD: /bin/kill,', 'admin ALL (root) /bin/kill', '%admin ALL=(root) NOPASSWD: /bin/kill, ALL, bogus']) {
      writeFileSync(bad, `${line}\n`);
      assert.equal((await run(sim, ['visudo', '-c', '-f', bad])).code, 1, line);
    }

    writeFileSync(bad, '%admin ALL=(root) NOPASSWD: /bin/kill\nbroken line\n');
    const spoiled = join(sim.stateDir, 'fs', 'etc', 'sudoers.d', 'zz-broken');
    writeFileSync(spoiled, readFileSync(bad));
    try {
      const stopped = await run(sim, ['sudo', '-n', 'kill', '-0', '1']);
      assert.equal(stopped.code, 1);
      assert.equal(stopped.stderr.split('\n')[0], '>>> /etc/sudoers.d/zz-broken: syntax error near line 2 <<<');
      assert.match(stopped.stderr, /sudo: no valid sudoers sources found, quitting/);
    } finally {
      writeFileSync(spoiled, '');
    }
    // A name with a dot is skipped, as sudo's #includedir does.
    writeFileSync(join(sim.stateDir, 'fs', 'etc', 'sudoers.d', 'old.bak'), 'broken line\n');
    const skipped = await run(sim, ['sudo', '-n', '-l', 'kill', '-0', '1']);
    assert.deepEqual([skipped.code, skipped.stdout], [0, '/bin/kill -0 1\n']);
  });
});

describe('xcode-select and swiftc on the simulated Mac', () => {
  test('with the command line tools: -p prints their folder, swiftc --version its version', async () => {
    const sim = await startSim();
    try {
      const path = await run(sim, ['xcode-select', '-p']);
      assert.deepEqual([path.code, path.stdout], [0, '/Library/Developer/CommandLineTools\n']);
      const swift = await run(sim, ['swiftc', '--version']);
      assert.equal(swift.code, 0, swift.stderr);
      assert.match(swift.stdout, /^swift-driver version: \S+ Apple Swift version 6\.\d+ .*\nTarget: arm64-apple-macosx15\.0\n$/);
    } finally {
      await sim.stop();
    }
  });

  test('without them (commandLineTools: false): both fail as on a fresh Mac', async () => {
    const sim = await startSim(simConfig({ commandLineTools: false }));
    try {
      const path = await run(sim, ['xcode-select', '-p']);
      assert.equal(path.code, 2);
      assert.match(path.stderr, /^xcode-select: error: unable to get active developer directory/);
      const swift = await run(sim, ['swiftc', '--version']);
      assert.deepEqual([swift.code, swift.stdout], [1, '']);
      assert.match(swift.stderr, /^xcode-select: note: No developer tools were found, requesting install\./);
    } finally {
      await sim.stop();
    }
  });
});
