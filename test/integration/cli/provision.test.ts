// `dextbench provision` on fresh simulated Macs, through the real command: a dry run prints argv and
// changes nothing, the first run acts, the second changes nothing, and a failing step stops the run
// with one line naming it. doctor then agrees that the Mac is ready.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { LocalExec } from '../../../harness/host/exec.ts';
import { attachSimulatedMac, simStateDirFor } from '../../../harness/rig/sim-launcher.ts';
import { loadRig } from '../../../harness/scenario/index.ts';
import { bin, dextbench, repoRoot, scratchDir } from '../../support/cli.ts';
import { lane } from '../../support/lane.ts';
import { FRESH_MAC as FRESH_SIM, simRigFile as rigFile } from '../../support/sim-rig-file.ts';

const PASSWORD = { DEXTBENCH_SUDO_PASSWORD: 'dextbench-sim' };
const NO_PASSWORD = { DEXTBENCH_SUDO_PASSWORD: '' };


describe('dextbench provision on a fresh simulated Mac', () => {
  const cwd = scratchDir('dextbench-provision-');
  const rig = rigFile(cwd, 'fresh', { sim: FRESH_SIM, top: 'privileged: { sudo: true }' });
  const provision = (args: string[], env: NodeJS.ProcessEnv) => dextbench(['provision', '--rig', rig, ...args], { cwd, env });

  test('--dry-run prints every action as argv and changes nothing', async () => {
    const dry = await provision(['--dry-run'], PASSWORD);
    assert.equal(dry.code, 0, dry.stderr);
    const lines = dry.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.filter((l) => !l.startsWith('      < ')), [
      'provision (dry run: nothing is changed): rig fresh (fresh.yaml) on simulated Mac "fresh"',
      '✓ command line tools: already installed (/Library/Developer/CommandLineTools)',
      '+ uhubctl: would install with Homebrew (/opt/homebrew/bin/uhubctl)',
      '    $ brew install uhubctl',
      '+ sudoers: would write /etc/sudoers.d/dextbench for the 6 commands dextbench runs as root, checked with visudo -c',
      '    $ mktemp -d',
      "    $ tee '<temp dir>/dextbench'",
      "    $ visudo -c -f '<temp dir>/dextbench'",
      "    $ sudo install -m 0440 '<temp dir>/dextbench' /etc/sudoers.d/dextbench",
      "    $ rm -rf '<temp dir>'",
      '✓ activator: already built (dextbench-activator answers)',
      '✓ bridge: already built (dextbench-bridge answers)',
      '- esprobe: not needed (the rig declares no Endpoint Security extension and no esprobe)',
      '- content filter: no content filter declared',
      '✓ MDM profiles: already installed: com.apple.system-extension-policy',
      '+ developer mode: would turn on (SIP disabled)',
      '    $ sudo systemextensionsctl developer on',
      'dry run: 3 changes to make, nothing changed',
    ]);
    // The drop-in it would write: exactly the commands that need root, uhubctl at Homebrew's path.
    assert.deepEqual(lines.filter((l) => l.startsWith('      < %')).map((l) => l.slice(8)), [
      '%admin ALL=(root) NOPASSWD: /usr/bin/systemextensionsctl developer on',
      '%admin ALL=(root) NOPASSWD: /usr/bin/systemextensionsctl developer off',
      '%admin ALL=(root) NOPASSWD: /usr/bin/systemextensionsctl uninstall *',
      '%admin ALL=(root) NOPASSWD: /bin/kill',
      '%admin ALL=(root) NOPASSWD: /opt/homebrew/bin/uhubctl',
      '%admin ALL=(root) NOPASSWD: /sbin/shutdown -r now',
    ]);
    // Nothing changed: a second dry run sees the same Mac.
    const again = await provision(['--dry-run'], PASSWORD);
    assert.equal(again.stdout, dry.stdout);
  });

  test('without a password and no terminal, the run stops at sudoers with one line, after what came before', async () => {
    const stopped = await provision([], NO_PASSWORD);
    assert.equal(stopped.code, 1);
    assert.deepEqual(stopped.stdout.trimEnd().split('\n').slice(1), [
      '✓ command line tools: already installed (/Library/Developer/CommandLineTools)',
      '+ uhubctl: installed with Homebrew (/opt/homebrew/bin/uhubctl)',
    ]);
    assert.match(stopped.stderr, /^dextbench: provision stopped at sudoers: sudo needs the password of an admin of the Mac once, for install -m 0440 \S+\/dextbench \/etc\/sudoers\.d\/dextbench → run dextbench provision in a terminal \(it asks once\), or set DEXTBENCH_SUDO_PASSWORD\n$/);
    const wrong = await provision([], { DEXTBENCH_SUDO_PASSWORD: 'not-it' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^dextbench: provision stopped at sudoers: sudo did not accept the password for install .* → give the password of an admin of the Mac/);
    assert.ok(!wrong.stderr.includes('not-it') && !wrong.stdout.includes('not-it'), 'the password is never shown');
  });

  test('the first run acts, the second changes nothing, and doctor agrees', async () => {
    const first = await provision([], PASSWORD);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trimEnd().split('\n').slice(1), [
      '✓ command line tools: already installed (/Library/Developer/CommandLineTools)',
      '✓ uhubctl: already installed (/opt/homebrew/bin/uhubctl)',
      '+ sudoers: wrote /etc/sudoers.d/dextbench for the 6 commands dextbench runs as root (checked with visudo -c)',
      '✓ activator: already built (dextbench-activator answers)',
      '✓ bridge: already built (dextbench-bridge answers)',
      '- esprobe: not needed (the rig declares no Endpoint Security extension and no esprobe)',
      '- content filter: no content filter declared',
      '✓ MDM profiles: already installed: com.apple.system-extension-policy',
      '+ developer mode: turned on (SIP disabled)',
      'provisioned: 2 changes; the Mac is ready',
    ]);
    const second = await provision([], NO_PASSWORD);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.stdout.trimEnd().split('\n').slice(1), [
      '✓ command line tools: already installed (/Library/Developer/CommandLineTools)',
      '✓ uhubctl: already installed (/opt/homebrew/bin/uhubctl)',
      '✓ sudoers: already allows the 6 commands dextbench runs as root (/etc/sudoers.d/dextbench)',
      '✓ activator: already built (dextbench-activator answers)',
      '✓ bridge: already built (dextbench-bridge answers)',
      '- esprobe: not needed (the rig declares no Endpoint Security extension and no esprobe)',
      '- content filter: no content filter declared',
      '✓ MDM profiles: already installed: com.apple.system-extension-policy',
      '✓ developer mode: already on',
      'nothing to do: the Mac is ready',
    ]);
    const doctor = await dextbench(['doctor', '--rig', rig, '--json'], { cwd });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; status: string }[];
    const wanted = checks.filter((c) => /^(developer mode|command line tools|activator|bridge|tool uhubctl|sudo -n |hub )/.test(c.name));
    assert.equal(wanted.length, 12);
    assert.deepEqual(wanted.filter((c) => c.status !== 'ok'), []);
  });
});

/** util-linux's script(1) runs a command on a pseudo-terminal, relaying its own stdin to it. */
const onTerminal = lane('provision on a terminal', [{ what: 'script', anyOf: ['script'], debian: ['bsdutils'] }]);

test('on a terminal, sudo\'s password is asked once and not echoed', { skip: onTerminal }, async () => {
  const cwd = scratchDir('dextbench-provision-');
  const rig = rigFile(cwd, 'tty', { sim: FRESH_SIM, top: 'privileged: { sudo: true }' });
  const child = spawn('script', ['-qfec', `${process.execPath} ${bin} provision --rig ${rig}`, '/dev/null'], {
    cwd, env: { ...process.env, DEXTBENCH_SUDO_PASSWORD: '', CI: '' },
  });
  let out = '';
  let asked = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const prompts = out.split('(asked once, not echoed): ').length - 1;
    if (prompts > asked) { asked = prompts; child.stdin.write('dextbench-sim\r'); }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`provision on a terminal did not finish: ${out}`)); }, 60_000);
    child.on('close', (c) => { clearTimeout(timer); resolve(c); });
  });
  assert.equal(code, 0, out);
  assert.equal(asked, 1, out);
  assert.match(out, /sudo password of an admin on simulated Mac "tty" \(asked once, not echoed\): \r?\n\+ sudoers: wrote \/etc\/sudoers\.d\/dextbench/);
  assert.match(out, /provisioned: 3 changes; the Mac is ready/);
  assert.ok(!out.includes('dextbench-sim'), 'the password is not echoed');
});

describe('dextbench provision: the ES probe', () => {
  const cwd = scratchDir('dextbench-provision-');

  test('a rig with an Endpoint Security extension gets dextbench-esprobe copied to /Users/Shared/dextbench/esprobe: dry run, install, then ready; a changed copy is updated', async () => {
    const rig = rigFile(cwd, 'es', { sim: 'sip: disabled\ndeveloperMode: true\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver, com.example.execguard] }' });
    // The rig file ends with its extensions: ExecGuard joins the echo dext there.
    appendFileSync(rig, `  execguard: { systemExtension: ${join(repoRoot, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension')}, bundle: com.example.execguard }\n`);
    const source = join(repoRoot, 'dext-fixtures/esprobe/dextbench-esprobe');
    const dry = await dextbench(['provision', '--rig', rig, '--dry-run'], { cwd, env: NO_PASSWORD });
    assert.equal(dry.code, 0, dry.stderr);
    const lines = dry.stdout.trimEnd().split('\n');
    const at = lines.findIndex((l) => l.startsWith('+ esprobe: '));
    assert.equal(lines[at - 1], '✓ bridge: already built (dextbench-bridge answers)');
    // The simulated Mac's /Users/Shared is inside its state dir.
    const installed = /install-esprobe (\S+\/fs\/Users\/Shared\/dextbench\/esprobe\/dextbench-esprobe)$/.exec(lines[at + 1] ?? '')?.[1];
    assert.ok(installed, lines.slice(at, at + 3).join('\n'));
    assert.deepEqual(lines.slice(at, at + 3), [
      '+ esprobe: would copy dext-fixtures/esprobe/dextbench-esprobe to /Users/Shared/dextbench/esprobe/dextbench-esprobe',
      `    $ /bin/sh -c 'set -e; umask 022; mkdir -p "$(dirname "$1")"; cat > "$1.tmp"; chmod 0755 "$1.tmp"; mv -f "$1.tmp" "$1"' install-esprobe ${installed}`,
      `      < ${source} (${readFileSync(source).length} bytes)`,
    ]);
    assert.ok(!existsSync(installed), 'a dry run copies nothing');

    const first = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.stdout.includes('\n+ esprobe: installed /Users/Shared/dextbench/esprobe/dextbench-esprobe\n'), first.stdout);
    assert.deepEqual(readFileSync(installed), readFileSync(source));
    assert.equal(statSync(installed).mode & 0o777, 0o755);

    const second = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.ok(second.stdout.includes('\n✓ esprobe: already installed (/Users/Shared/dextbench/esprobe/dextbench-esprobe)\n'), second.stdout);

    writeFileSync(installed, '#!/usr/bin/perl\n# an older probe\n');
    const third = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.ok(third.stdout.includes('\n+ esprobe: updated /Users/Shared/dextbench/esprobe/dextbench-esprobe\n'), third.stdout);
    assert.deepEqual(readFileSync(installed), readFileSync(source));
  });
});

describe('dextbench provision: eslogger for an Endpoint Security rig', () => {
  const cwd = scratchDir('dextbench-provision-');

  test('a privileged rig with an Endpoint Security extension gets /usr/bin/eslogger in the drop-in, and doctor checks it; a Network Extension alone does not', async () => {
    const rig = rigFile(cwd, 'es-sudo', { sim: FRESH_SIM, top: 'privileged: { sudo: true }' });
    appendFileSync(rig, `  execguard: { systemExtension: ${join(repoRoot, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension')}, bundle: com.example.execguard }\n`);
    const dry = await dextbench(['provision', '--rig', rig, '--dry-run'], { cwd, env: PASSWORD });
    assert.equal(dry.code, 0, dry.stderr);
    const lines = dry.stdout.trimEnd().split('\n');
    assert.ok(lines.includes('+ sudoers: would write /etc/sudoers.d/dextbench for the 7 commands dextbench runs as root, checked with visudo -c'), dry.stdout);
    assert.deepEqual(lines.filter((l) => l.startsWith('      < %')).map((l) => l.slice(8)).slice(-2), [
      '%admin ALL=(root) NOPASSWD: /usr/bin/eslogger',
      '%admin ALL=(root) NOPASSWD: /sbin/shutdown -r now',
    ]);

    const first = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.ok(first.stdout.includes('\n+ sudoers: wrote /etc/sudoers.d/dextbench for the 7 commands dextbench runs as root (checked with visudo -c)\n'), first.stdout);
    const doctor = await dextbench(['doctor', '--rig', rig, '--json'], { cwd });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; status: string; detail: string }[];
    assert.deepEqual(checks.filter((c) => c.name === 'sudo -n eslogger').map((c) => [c.status, c.detail]), [['ok', 'runs /usr/bin/eslogger exec fork exit without a password']]);

    const ne = rigFile(cwd, 'ne-sudo', { sim: FRESH_SIM, top: 'privileged: { sudo: true }' });
    appendFileSync(ne, `  flowgate: { systemExtension: ${join(repoRoot, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension')}, bundle: com.example.flowgate }\n`);
    const neDry = await dextbench(['provision', '--rig', ne, '--dry-run'], { cwd, env: PASSWORD });
    assert.ok(neDry.stdout.includes('+ sudoers: would write /etc/sudoers.d/dextbench for the 6 commands dextbench runs as root, checked with visudo -c'), neDry.stdout);
    assert.ok(!neDry.stdout.includes('eslogger'), neDry.stdout);
  });

  test('privileged: { sudo: false } with an Endpoint Security extension: the drop-in holds eslogger alone (the ES steps run sudo -n eslogger), and doctor agrees', async () => {
    const rig = rigFile(cwd, 'es-nosudo', { sim: FRESH_SIM, top: 'privileged: { sudo: false }' });
    appendFileSync(rig, `  execguard: { systemExtension: ${join(repoRoot, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension')}, bundle: com.example.execguard }\n`);
    const first = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.ok(first.stdout.includes('\n+ sudoers: wrote /etc/sudoers.d/dextbench for the 1 command dextbench runs as root (checked with visudo -c)\n'), first.stdout);
    const doctor = await dextbench(['doctor', '--rig', rig, '--json'], { cwd });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; status: string; detail: string }[];
    assert.deepEqual(checks.filter((c) => c.name.startsWith('sudo')).map((c) => [c.name, c.status, c.detail]), [['sudo -n eslogger', 'ok', 'runs /usr/bin/eslogger exec fork exit without a password']]);
  });
});

describe('dextbench provision and doctor: the payloads an ES client and a content filter need', () => {
  const cwd = scratchDir('dextbench-provision-');
  const EXECGUARD = join(repoRoot, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension');
  const FLOWGATE = join(repoRoot, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension');
  const MDM_COMMAND = 'dextbench profile --team DXTBNCH001 --dext com.example.echo.driver --es com.example.execguard --ne-filter com.example.flowgate --removable -o rig.mobileconfig';
  const FILTER_COMMAND = 'dextbench profile --team DXTBNCH001 --ne-filter com.example.flowgate --manual-only -o content-filter.mobileconfig';

  test('nothing granted by the sim config: the TCC and content filter payloads are missing, each with its command; installed, they read as installed; doctor names ES/NE by their kind', async () => {
    // The simulated MDM approves the echo dext only and grants no Full Disk Access and no filter;
    // profiles install stands in for the MDM push (profilesInstallAsMdm).
    const rig = rigFile(cwd, 'es-ne', { sim: 'sip: disabled\ndeveloperMode: true\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }\n' +
      'tcc: { fullDiskAccess: [] }\nwebContentFilter: []\nprofilesInstallAsMdm: true' });
    appendFileSync(rig, `  execguard: { systemExtension: ${EXECGUARD}, bundle: com.example.execguard }\n  flowgate: { systemExtension: ${FLOWGATE}, bundle: com.example.flowgate }\n`);
    const profileLines = async () => {
      const run = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      return run.stdout.split('\n').filter((l) => /^. (content filter|MDM profiles): /.test(l));
    };
    assert.deepEqual(await profileLines(), [
      '! content filter: no com.apple.webcontent-filter profile: enabling the filter com.example.flowgate waits for a person to allow its configuration → ' +
        `${FILTER_COMMAND}, copy it to the Mac, then sudo profiles install -type configuration -path content-filter.mobileconfig (or double-click it and approve it in System Settings)`,
      '! MDM profiles: no com.apple.TCC.configuration-profile-policy profile: the ES client com.example.execguard gets ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED from es_new_client (no Full Disk Access) → ' +
        `deliver a com.apple.TCC.configuration-profile-policy payload through MDM (it cannot be installed by hand); ${MDM_COMMAND} writes one`,
    ]);

    const sim = await attachSimulatedMac(loadRig(rig), { stateDir: simStateDirFor(cwd, 'es-ne'), repoRoot, who: 'provision test' });
    try {
      const mac = new LocalExec({ pathPrefix: [sim.binDir] });
      const onMac = async (argv: string[]) => {
        const r = await mac.run(argv, { nothrow: true, timeoutMs: 20_000 });
        assert.equal(r.exitCode, 0, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
      };
      // The fixes' own commands, run as given: the content filter's profile first (installable by hand).
      const written = await dextbench(FILTER_COMMAND.split(' ').slice(1), { cwd });
      assert.equal(written.code, 0, written.stderr);
      await onMac(['profiles', 'install', '-type', 'configuration', '-path', join(cwd, 'content-filter.mobileconfig')]);
      assert.deepEqual(await profileLines(), [
        '✓ content filter: already installed: com.apple.webcontent-filter',
        '! MDM profiles: no com.apple.TCC.configuration-profile-policy profile: the ES client com.example.execguard gets ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED from es_new_client (no Full Disk Access) → ' +
          `deliver a com.apple.TCC.configuration-profile-policy payload through MDM (it cannot be installed by hand); ${MDM_COMMAND} writes one`,
      ]);
      const full = await dextbench(MDM_COMMAND.split(' ').slice(1), { cwd });
      assert.equal(full.code, 0, full.stderr);
      await onMac(['profiles', 'install', '-type', 'configuration', '-path', join(cwd, 'rig.mobileconfig')]);
      const ready = ['✓ content filter: already installed: com.apple.webcontent-filter', '✓ MDM profiles: already installed: com.apple.system-extension-policy, com.apple.TCC.configuration-profile-policy'];
      assert.deepEqual(await profileLines(), ready);
      assert.deepEqual(await profileLines(), ready, 'a second run reads the same');

      // An ES client and a filter no policy allowed yet (a rig with only the config's grants):
      // doctor's approval fix writes a profile for each by its kind.
      await onMac(['profiles', 'remove', '-identifier', 'dextbench.rig.DXTBNCH001']);
      for (const [path, bundle] of [[EXECGUARD, 'com.example.execguard'], [FLOWGATE, 'com.example.flowgate']] as const) {
        const activated = await mac.run(['dextbench-activator', 'activate', '--sysext', path, '--bundle', bundle], { nothrow: true, timeoutMs: 20_000 });
        assert.match(activated.stdout, /"event":"needsUserApproval"/, activated.stdout + activated.stderr);
      }
      const doctor = await dextbench(['doctor', '--rig', rig, '--json'], { cwd });
      const checks = JSON.parse(doctor.stdout).checks as { name: string; status: string; fix: string | null }[];
      assert.deepEqual(checks.filter((c) => c.name === 'extension execguard' || c.name === 'extension flowgate').map((c) => [c.name, c.status, c.fix]), [
        ['extension execguard', 'warn', 'dextbench profile --team DXTBNCH001 --es com.example.execguard --removable -o com.example.execguard.mobileconfig (then deliver it through MDM)'],
        ['extension flowgate', 'warn', 'dextbench profile --team DXTBNCH001 --ne-filter com.example.flowgate --removable -o com.example.flowgate.mobileconfig (then deliver it through MDM)'],
      ]);
    } finally {
      await sim.detach();
    }
  });
});

describe('dextbench provision: what it cannot do', () => {
  const cwd = scratchDir('dextbench-provision-');

  test('no command line tools: the run stops at the first step, with the command a person runs', async () => {
    const rig = rigFile(cwd, 'no-clt', { sim: `${FRESH_SIM}\ncommandLineTools: false` });
    const stopped = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stdout, 'provision: rig no-clt (no-clt.yaml) on simulated Mac "no-clt"\n');
    assert.match(stopped.stderr, /^dextbench: provision stopped at command line tools: not installed \(xcode-select -p: .+\) → run xcode-select --install on the Mac and click Install/);
    assert.equal(stopped.stderr.trim().split('\n').length, 1);
  });

  test('an activator that does not answer is built from sources copied to the Mac; a failing build stops the run there', async () => {
    const rig = rigFile(cwd, 'no-activator', { sim: 'sip: disabled', top: `activator: { command: [${join(cwd, 'no-such-dir', 'dextbench-activator')}] }` });
    const stopped = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stdout, /\n- sudoers: not needed \(privileged: \{ sudo: false \}.*\n$/);
    // The sources reached the Mac (build.sh ran there) and the build's own words are the line.
    assert.match(stopped.stderr, /^dextbench: provision stopped at activator: \/bin\/bash \S+\/activator\/build\.sh --out \S+\/no-such-dir --identity - exited with 1: build\.sh: DextbenchActivator builds on macOS only .* → the activator builds with the Xcode command line tools/);
  });

  test('a bridge that does not answer, at an absolute path: a dry run prints Homebrew\'s formulae, the copy, the build and the install, in order, and changes nothing; the run stops at the first that fails', async () => {
    const target = join(cwd, 'no-such-dir', 'dextbench-bridge');
    const rig = rigFile(cwd, 'no-bridge', { sim: 'sip: disabled\ndeveloperMode: true\napprovedExtensions: { DXTBNCH001: [com.example.echo.driver] }', top: `bridge: { command: [${target}] }` });
    const dry = await dextbench(['provision', '--rig', rig, '--dry-run'], { cwd });
    assert.equal(dry.code, 0, dry.stderr);
    const lines = dry.stdout.trimEnd().split('\n');
    const at = lines.findIndex((l) => l.startsWith('+ bridge: '));
    assert.equal(lines[at - 1], '✓ activator: already built (dextbench-activator answers)');
    assert.deepEqual(lines.slice(at, at + 10), [
      `+ bridge: would install nanopb and protobuf with Homebrew, copy dext-fixtures/{bridge,libdextbench,proto} to the Mac, build the bridge there and install it at ${target}`,
      '    $ brew install nanopb protobuf',
      '    $ mktemp -d',
      "    $ tar -xf - -C '<temp dir>'",
      `      < a tar archive of ${join(repoRoot, 'dext-fixtures')}/{bridge,libdextbench,proto}`,
      "    $ make -C '<temp dir>/bridge' '<temp dir>/bridge/build/dextbench-bridge'",
      `    $ mkdir -p ${join(cwd, 'no-such-dir')}`,
      `    $ install -m 0755 '<temp dir>/bridge/build/dextbench-bridge' ${target}`,
      "    $ rm -rf '<temp dir>'",
      '- esprobe: not needed (the rig declares no Endpoint Security extension and no esprobe)',
    ]);
    assert.equal(lines.at(-1), 'dry run: 1 change to make, nothing changed');
    assert.ok(!existsSync(join(cwd, 'no-such-dir')), 'a dry run creates nothing');
    // The simulated Mac's Homebrew has no nanopb: the run stops there, with brew's own words.
    const stopped = await dextbench(['provision', '--rig', rig], { cwd });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stdout, /\n✓ activator: already built \(dextbench-activator answers\)\n$/);
    assert.equal(stopped.stderr, 'dextbench: provision stopped at bridge: brew install nanopb protobuf exited with 1: Error: No available formula with the name "nanopb" ' +
      '(the simulated Mac\'s Homebrew has one formula, uhubctl). → run brew install nanopb protobuf on the Mac to see why\n');
  });

  test('a bridge named by a bare command that does not answer: refused, with the fix to give it an absolute path', async () => {
    const rig = rigFile(cwd, 'bare-bridge', { sim: 'sip: disabled', top: 'bridge: { command: [no-such-bridge] }' });
    const stopped = await dextbench(['provision', '--rig', rig, '--dry-run'], { cwd });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stdout, /\n✓ activator: already built \(dextbench-activator answers\)\n$/);
    assert.equal(stopped.stderr, 'dextbench: provision stopped at bridge: no-such-bridge does not answer on the Mac, and no-such-bridge is a name looked up on PATH, ' +
      `so provision does not know where to build it → set bridge.command in ${rig} to an absolute path on the Mac (e.g. [/Users/Shared/dextbench/bridge/dextbench-bridge]); provision builds it there\n`);
  });

  test('what only MDM or Recovery can do is a warning that says how, and the run still completes', async () => {
    const rig = rigFile(cwd, 'locked', { sim: 'sip: enabled\ndeveloperMode: false' });
    const run = await dextbench(['provision', '--rig', rig], { cwd, env: PASSWORD });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trimEnd().split('\n').slice(1), [
      '✓ command line tools: already installed (/Library/Developer/CommandLineTools)',
      '✓ uhubctl: already installed (/opt/homebrew/bin/uhubctl)',
      '- sudoers: not needed (privileged: { sudo: false }: dextbench runs nothing as root on this rig)',
      '✓ activator: already built (dextbench-activator answers)',
      '✓ bridge: already built (dextbench-bridge answers)',
      '- esprobe: not needed (the rig declares no Endpoint Security extension and no esprobe)',
      '- content filter: no content filter declared',
      '! MDM profiles: no com.apple.system-extension-policy profile: activating com.example.echo.driver waits for a click in System Settings, and deactivating for an admin → ' +
        'deliver a com.apple.system-extension-policy payload through MDM (it cannot be installed by hand); dextbench profile --team DXTBNCH001 --dext com.example.echo.driver --removable -o rig.mobileconfig writes one',
      '! developer mode: off, and SIP is enabled: extensions load only from an app in /Applications → in macOS Recovery\'s Terminal: csrutil disable (or csrutil enable --without kext), restart, then run provision again',
      'nothing to do: the Mac is ready (2 warnings above)',
    ]);
  });
});
