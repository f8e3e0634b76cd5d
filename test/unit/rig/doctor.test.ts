// Doctor's checks against a fake Mac (the real tools' formats): reads only, every command idempotent,
// a lost host skips the rest, SIP custom configurations, and one failing check never stops the others.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { TransportError, type ExecOptions } from '../../../harness/host/exec.ts';
import { connectRig } from '../../../harness/rig/connect.ts';
import { runDoctor, unreachableChecks, type DoctorCheck } from '../../../harness/rig/doctor.ts';
import type { RigDefinition } from '../../../harness/rig/types.ts';
import { FakeExec, lines, type CannedReply } from '../host/fake-exec.ts';
import { simRig } from './rig-fixtures.ts';

const HUB_HEAD = '[2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]';
const OPTIONS = { rigArg: '--rig rigs/test.yaml' };

/** A healthy Mac, except what `overrides` answers (by the argv joined with spaces). */
function mac(overrides: Record<string, CannedReply | (() => CannedReply)> = {}) {
  const seen: { argv: string[]; options: ExecOptions }[] = [];
  const exec = new FakeExec((argv, options) => {
    seen.push({ argv, options });
    const key = argv.join(' ');
    const override = Object.entries(overrides).find(([prefix]) => key.startsWith(prefix))?.[1];
    if (override) return typeof override === 'function' ? override() : override;
    if (key === 'true') return {};
    if (key === 'sw_vers') return { stdout: lines('ProductName:\t\tmacOS', 'ProductVersion:\t\t15.5', 'BuildVersion:\t\t24F74') };
    if (key === 'csrutil status') return { stdout: lines('System Integrity Protection status: disabled.') };
    if (key === 'systemextensionsctl developer') return { stdout: lines('Developer mode is on') };
    if (key === 'systemextensionsctl list') return { stdout: lines('0 extension(s)') };
    if (key === 'xcode-select -p') return { stdout: lines('/Library/Developer/CommandLineTools') };
    if (key === 'swiftc --version') return { stdout: lines('swift-driver version: 1.120.5 Apple Swift version 6.1 (swiftlang-6.1.0.110.21 clang-1700.0.13.3)', 'Target: arm64-apple-macosx15.0') };
    if (key === 'dextbench-activator --help') return { stdout: lines('usage: dextbench-activator activate|deactivate …') };
    if (key === 'dextbench-bridge --help') return { stdout: lines('usage: dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]') };
    if (argv[0] === '/bin/sh' && argv[3] === 'sh') return { stdout: lines(`/usr/bin/${argv[4]}`) };
    if (argv[0] === 'sudo' && argv[2] === '-l') return { stdout: lines(`/usr/bin/${argv.slice(3).join(' ')}`) };
    if (argv.includes('uhubctl')) return { stdout: lines(`Current status for hub 1-1 ${HUB_HEAD}`, '  Port 1: 0100 power', '  Port 2: 0000 off', '  Port 3: 0100 power', '  Port 4: 0100 power') };
    if (argv[0] === 'ioreg') return { stdout: '' };
    if (argv[0] === 'sh' && argv[1] === '-c') return { stdout: lines('none 1700000000') };
    return { stderr: `${argv[0]}: command not found\n`, exitCode: 127 };
  });
  return { exec, seen };
}

function doctor(rig: RigDefinition, exec: FakeExec): Promise<DoctorCheck[]> {
  return runDoctor(connectRig(rig, { exec }), OPTIONS);
}

const byName = (checks: DoctorCheck[], name: string): DoctorCheck => {
  const check = checks.find((c) => c.name === name);
  assert.ok(check, `no check ${name} in ${checks.map((c) => c.name).join(', ')}`);
  return check;
};

test('one check per line, in order; a healthy privileged Mac has no failure; every command is a read marked idempotent', async () => {
  const { exec, seen } = mac();
  const rig = simRig({ privileged: { sudo: true }, extensions: { 'echo-driver': { bundle: 'com.example.echo.driver' } } });
  const checks = await doctor(rig, exec);
  assert.deepEqual(checks.map((c) => c.name), [
    'host reachable', 'macOS version', 'SIP', 'developer mode', 'command line tools', 'swiftc', 'activator', 'bridge',
    'tool systemextensionsctl', 'tool ioreg', 'tool log', 'tool eslogger', 'tool uhubctl',
    'sudo -n systemextensionsctl developer on', 'sudo -n systemextensionsctl developer off', 'sudo -n systemextensionsctl uninstall *',
    'sudo -n kill', 'sudo -n uhubctl', 'sudo -n shutdown -r now',
    'hub hub1', 'device echo', 'extension echo-driver', 'lease',
  ]);
  assert.deepEqual(checks.filter((c) => c.status !== 'ok').map((c) => [c.name, c.status, c.detail, c.fix]), [
    ['device echo', 'warn', 'port off (hub1 port 2)', 'dextbench rig plug echo --rig rigs/test.yaml'],
  ]);
  assert.ok(checks.every((c) => (c.status === 'ok') === (c.fix === null)));
  assert.equal(byName(checks, 'macOS version').detail, 'macOS 15.5 (24F74)');
  assert.equal(byName(checks, 'bridge').detail, 'dextbench-bridge is installed');
  assert.equal(byName(checks, 'hub hub1').detail, 'uhubctl 1-1: 4 ports, ports 1, 3, 4 on');
  assert.equal(byName(checks, 'sudo -n kill').detail, 'runs /usr/bin/kill -KILL 1 without a password');

  assert.ok(seen.every((s) => s.options.idempotent === true), 'every command marked idempotent');
  // Reads only: no port switched, no mode set, no lease taken.
  const argvs = seen.map((s) => s.argv.join(' '));
  const changes = / -a (on|off)\b|^(sudo -n )?(systemextensionsctl (developer (on|off)|uninstall)|kill|shutdown)|^mkdir/;
  assert.deepEqual(argvs.filter((a) => changes.test(a)), []);
  assert.ok(argvs.includes('sudo -n uhubctl -l 1-1'), 'a privileged rig reads its hub through sudo -n');
  assert.ok(argvs.includes('sudo -n -l systemextensionsctl uninstall - com.example.driver'));
  assert.ok(argvs.includes('/bin/sh -c command -v "$1" sh eslogger'));
});

test('a privileged rig with an Endpoint Security extension checks sudo -n eslogger; refused, the fix is provision; a Network Extension alone adds nothing', async () => {
  const fixtures = join(import.meta.dirname, '../../../dext-fixtures');
  const execguard = { bundle: 'com.example.execguard', systemExtension: join(fixtures, 'execguard/sim/ExecGuard-1.0.0.systemextension') };
  const flowgate = { bundle: 'com.example.flowgate', systemExtension: join(fixtures, 'flowgate/sim/FlowGate-1.0.0.systemextension') };
  const refused = { stderr: 'sudo: a password is required\n', exitCode: 1 };
  const es = await doctor(simRig({ privileged: { sudo: true }, extensions: { execguard } }), mac({ 'sudo -n -l eslogger': refused }).exec);
  const sudo = es.filter((c) => c.name.startsWith('sudo -n '));
  assert.deepEqual(sudo.map((c) => c.name).slice(-2), ['sudo -n eslogger', 'sudo -n shutdown -r now']);
  const check = byName(es, 'sudo -n eslogger');
  assert.deepEqual([check.status, check.detail, check.fix], ['fail', 'sudo: a password is required (the eslogger stream of es.expect and es.forbid needs it)', 'dextbench provision --rig rigs/test.yaml']);
  const ne = await doctor(simRig({ privileged: { sudo: true }, extensions: { flowgate } }), mac().exec);
  assert.ok(!ne.some((c) => c.name === 'sudo -n eslogger'), ne.map((c) => c.name).join(', '));
});

test('privileged: { sudo: false } with an Endpoint Security extension still checks sudo -n eslogger (the ES steps run it so), and only that', async () => {
  const fixtures = join(import.meta.dirname, '../../../dext-fixtures');
  const execguard = { bundle: 'com.example.execguard', systemExtension: join(fixtures, 'execguard/sim/ExecGuard-1.0.0.systemextension') };
  const checks = await doctor(simRig({ privileged: { sudo: false }, extensions: { execguard } }), mac({ 'sudo -n -l eslogger': { stderr: 'sudo: a password is required\n', exitCode: 1 } }).exec);
  assert.deepEqual(checks.filter((c) => c.name.startsWith('sudo')).map((c) => [c.name, c.status, c.fix]), [['sudo -n eslogger', 'fail', 'dextbench provision --rig rigs/test.yaml']]);
  const plain = await doctor(simRig({ privileged: { sudo: false } }), mac().exec);
  assert.deepEqual(plain.filter((c) => c.name.startsWith('sudo')).map((c) => [c.name, c.detail]), [['sudo', 'not used (privileged: { sudo: false })']]);
});

test('a host that cannot be reached: its check fails with the transport\'s line, every later check is skipped, not run', async () => {
  const rig = simRig({ host: { kind: 'ssh', ssh: { ssh: 'ci@mac-mini-3' } } });
  const { exec, seen } = mac({ true: () => { throw new TransportError('unreachable', 'ssh ci@mac-mini-3: host unreachable (No route to host); check that it is on and reachable'); } });
  const checks = await doctor(rig, exec);
  assert.deepEqual(checks[0], {
    name: 'host reachable', status: 'fail', detail: 'ssh ci@mac-mini-3: host unreachable (No route to host); check that it is on and reachable', fix: 'ssh ci@mac-mini-3 true',
  });
  assert.ok(checks.length > 10);
  assert.ok(checks.slice(1).every((c) => c.status === 'fail' && c.detail === 'skipped: host unreachable' && c.fix === 'ssh ci@mac-mini-3 true'));
  assert.equal(seen.length, 1);

  const refused = unreachableChecks(rig, new TransportError('auth', 'ssh ci@mac-mini-3: the key was refused'), OPTIONS);
  assert.deepEqual(refused.map((c) => c.name), checks.map((c) => c.name));
  assert.equal(refused[0]!.fix, 'ssh-copy-id ci@mac-mini-3');
  assert.equal(unreachableChecks(rig, new TransportError('host-key', 'changed'), OPTIONS)[0]!.fix, 'ssh-keygen -R mac-mini-3, then: ssh ci@mac-mini-3 true');
  // The commands the transport's own line names are the fix.
  const named = new TransportError('host-key', 'ssh ci@mac-mini-3: the host key changed; run `ssh-keygen -R \'mac-mini-3\'` then `ssh ci@mac-mini-3 true` once');
  assert.equal(unreachableChecks(rig, named, OPTIONS)[0]!.fix, 'ssh-keygen -R \'mac-mini-3\', then ssh ci@mac-mini-3 true');
});

test('a connection lost midway fails that check and skips the rest', async () => {
  const { exec, seen } = mac({ 'csrutil status': () => { throw new TransportError('dropped', 'ssh: the connection dropped'); } });
  const checks = await doctor(simRig({ host: { kind: 'ssh', ssh: { ssh: 'ci@mac' } } }), exec);
  assert.deepEqual(checks.slice(0, 4).map((c) => [c.name, c.status, c.detail]), [
    ['host reachable', 'ok', 'fake host'], ['macOS version', 'ok', 'macOS 15.5 (24F74)'],
    ['SIP', 'fail', 'ssh: the connection dropped'], ['developer mode', 'fail', 'skipped: host unreachable'],
  ]);
  assert.equal(seen.length, 3);
});

test('SIP: disabled or a custom configuration without Kext Signing is ok; enabled, or Kext Signing on, warns with the Recovery fix', async () => {
  const custom = (kextSigning: string) => ({ stdout: lines('System Integrity Protection status: unknown (Custom Configuration).', '', 'Configuration:',
    '\tApple Internal: disabled', `\tKext Signing: ${kextSigning}`, '\tFilesystem Protections: disabled', '\tDebugging Restrictions: disabled',
    '', 'This is an unsupported configuration, likely to break in the future and leave your machine in an unknown state.') });
  const sip = async (reply: CannedReply) => byName(await doctor(simRig(), mac({ 'csrutil status': reply }).exec), 'SIP');

  assert.deepEqual(await sip(custom('disabled')), { name: 'SIP', status: 'ok', detail: 'unknown (Custom Configuration): Kext Signing disabled, enough for ad hoc dexts', fix: null });
  const kext = await sip(custom('enabled'));
  assert.equal(kext.status, 'warn');
  assert.equal(kext.detail, 'unknown (Custom Configuration): Kext Signing enabled; dexts must be notarized');
  assert.equal(kext.fix, 'in macOS Recovery\'s Terminal: csrutil disable (or csrutil enable --without kext), then restart');
  const enabled = await sip({ stdout: lines('System Integrity Protection status: enabled.') });
  assert.equal(enabled.status, 'warn');
  assert.match(enabled.detail, /^enabled: dexts must be notarized/);
  assert.match(enabled.fix!, /csrutil disable/);
  assert.equal((await sip({ stdout: lines('System Integrity Protection status: disabled (Apple Internal).') })).status, 'ok');
});

test('macOS: older than 10.15 warns, a host without sw_vers is not a Mac', async () => {
  const old = byName(await doctor(simRig(), mac({ sw_vers: { stdout: lines('ProductName:\tMac OS X', 'ProductVersion:\t10.14.6', 'BuildVersion:\t18G103') } }).exec), 'macOS version');
  assert.deepEqual([old.status, old.detail], ['warn', 'Mac OS X 10.14.6 (18G103) is older than macOS 10.15, the first with DriverKit']);
  const linux = byName(await doctor(simRig(), mac({ sw_vers: { stderr: 'sw_vers: command not found\n', exitCode: 127 } }).exec), 'macOS version');
  assert.deepEqual([linux.status, linux.detail], ['fail', 'not macOS: sw_vers: command not found']);
});

test('missing pieces fail exactly their checks, with their fixes; an unexpected answer is one line and the others still run', async () => {
  const { exec } = mac({
    'xcode-select -p': { stderr: 'xcode-select: error: unable to get active developer directory\n', exitCode: 2 },
    'swiftc --version': { stderr: 'xcode-select: note: No developer tools were found, requesting install.\n', exitCode: 1 },
    'dextbench-activator --help': { stderr: 'dextbench-activator: command not found\n', exitCode: 127 },
    'dextbench-bridge --help': { stderr: 'dextbench-bridge: command not found\n', exitCode: 127 },
    '/bin/sh -c command -v "$1" sh eslogger': { exitCode: 1 },
    'sudo -n -l kill': { stderr: 'sudo: a password is required\n', exitCode: 1 },
    'systemextensionsctl developer': { stdout: 'garbage\n' },
  });
  const checks = await doctor(simRig({ privileged: { sudo: true } }), exec);
  assert.deepEqual(checks.filter((c) => c.status !== 'ok').map((c) => [c.name, c.status, c.fix]), [
    ['developer mode', 'fail', 'systemextensionsctl developer'],
    ['command line tools', 'fail', 'xcode-select --install'],
    ['swiftc', 'fail', 'xcode-select --install'],
    ['activator', 'fail', 'xcode-select --install, then: dextbench provision --rig rigs/test.yaml'],
    // A name looked up on PATH: provision builds the bridge only at an absolute path.
    ['bridge', 'fail', `set bridge.command in /repo/rigs/test.yaml to an absolute path on the Mac (e.g. [/Users/Shared/dextbench/bridge/dextbench-bridge]), then: dextbench provision --rig rigs/test.yaml`],
    ['tool eslogger', 'warn', 'add /usr/bin to the PATH of the account dextbench uses'],
    ['sudo -n kill', 'fail', 'dextbench provision --rig rigs/test.yaml'],
    ['device echo', 'warn', 'dextbench rig plug echo --rig rigs/test.yaml'],
  ]);
  assert.equal(byName(checks, 'developer mode').detail, 'systemextensionsctl developer printed no "Developer mode is on|off": garbage');
  assert.equal(byName(checks, 'sudo -n kill').detail, 'sudo: a password is required (fault: crash-dext needs it)');
  assert.ok(checks.every((c) => !c.detail.includes('\n')));

  // With swiftc, an activator that is not installed yet is buildable: a warning, for provision.
  const buildable = byName(await doctor(simRig(), mac({ 'dextbench-activator --help': { exitCode: 127 } }).exec), 'activator');
  assert.deepEqual([buildable.status, buildable.fix], ['warn', 'dextbench provision --rig rigs/test.yaml']);

  // A bridge at an absolute path that does not answer --help (one built before it had --help): provision rebuilds it.
  const old = { stderr: 'usage: dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]\n', exitCode: 64 };
  const stale = byName(await doctor(simRig({ bridge: { command: ['/Users/Shared/dextbench/bridge/dextbench-bridge'] } }),
    mac({ '/Users/Shared/dextbench/bridge/dextbench-bridge --help': old }).exec), 'bridge');
  assert.deepEqual(stale, {
    name: 'bridge', status: 'fail', fix: 'dextbench provision --rig rigs/test.yaml',
    detail: '/Users/Shared/dextbench/bridge/dextbench-bridge --help exited with 64: usage: dextbench-bridge --match KEY=VALUE... [--registry-id N] [--type N]',
  });
});

test('hubs, devices, extensions and the lease: reported as found, never changed', async () => {
  const held = lines('held 1700000100 1700000090 - 1', JSON.stringify({
    rig: 'test', owner: 'dextbench run', user: 'ci', host: 'ctl', pid: 42, token: 't', acquiredAt: '2025-01-01T00:00:00.000Z', ttlMs: 120_000,
  }));
  const waiting = lines('1 extension(s)', '--- com.apple.system_extension.driver_extension', 'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]',
    '\t*\tDXTBNCH001\tcom.example.echo.driver (1.0.0/1)\tEchoDriver\t[activated waiting for user]');
  const { exec } = mac({
    'sh -c': { stdout: held },
    'systemextensionsctl list': { stdout: waiting },
    'uhubctl -l 1-1': { stdout: lines(`Current status for hub 1-1 ${HUB_HEAD}`, '  Port 1: 0000 off', '  Port 2: 0100 power', '  Port 3: 0000 off', '  Port 4: 0000 off') },
  });
  const checks = await doctor(simRig({ extensions: { 'echo-driver': { bundle: 'com.example.echo.driver' } } }), exec);
  assert.deepEqual(byName(checks, 'lease'), {
    name: 'lease', status: 'warn', detail: 'reserved by dextbench run (ci@ctl, pid 42) since 2025-01-01T00:00:00.000Z', fix: 'dextbench rig status --rig rigs/test.yaml',
  });
  assert.deepEqual(byName(checks, 'extension echo-driver'), {
    name: 'extension echo-driver', status: 'warn',
    detail: 'com.example.echo.driver 1.0.0/1 [activated waiting for user]: approve it in System Settings, or pre-approve it with an MDM profile',
    fix: 'dextbench profile --team DXTBNCH001 --dext com.example.echo.driver --removable -o com.example.echo.driver.mobileconfig (then deliver it through MDM)',
  });
  // The port is on and the registry has no such device: that is a failure, and the fix power-cycles it.
  assert.deepEqual(byName(checks, 'device echo'), {
    name: 'device echo', status: 'fail', detail: 'not enumerated although hub1 port 2 is on', fix: 'dextbench rig cycle echo --rig rigs/test.yaml',
  });
  const hubless = await doctor(simRig(), mac({ 'uhubctl -l 1-1': { stderr: 'uhubctl: command not found\n', exitCode: 127 } }).exec);
  assert.deepEqual([byName(hubless, 'hub hub1').status, byName(hubless, 'hub hub1').fix], ['fail', 'brew install uhubctl']);
  assert.equal(byName(hubless, 'device echo').status, 'warn');
});

test('an ES client or content filter waiting for approval: the profile fix names it by its kind', async () => {
  const root = join(import.meta.dirname, '../../..');
  const extensions = {
    execguard: { bundle: 'com.example.execguard', systemExtension: join(root, 'dext-fixtures/execguard/sim/ExecGuard-1.0.0.systemextension') },
    flowgate: { bundle: 'com.example.flowgate', systemExtension: join(root, 'dext-fixtures/flowgate/sim/FlowGate-1.0.0.systemextension') },
  };
  const waiting = lines('2 extension(s)',
    '--- com.apple.system_extension.endpoint_security', 'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]',
    '\t*\tDXTBNCH001\tcom.example.execguard (1.0.0/1)\tExecGuard\t[activated waiting for user]',
    '--- com.apple.system_extension.network_extension', 'enabled\tactive\tteamID\tbundleID (version)\tname\t[state]',
    '\t*\tDXTBNCH001\tcom.example.flowgate (1.0.0/1)\tFlowGate\t[activated waiting for user]');
  const checks = await doctor(simRig({ extensions }), mac({ 'systemextensionsctl list': { stdout: waiting } }).exec);
  assert.deepEqual(['extension execguard', 'extension flowgate'].map((name) => byName(checks, name).fix), [
    'dextbench profile --team DXTBNCH001 --es com.example.execguard --removable -o com.example.execguard.mobileconfig (then deliver it through MDM)',
    'dextbench profile --team DXTBNCH001 --ne-filter com.example.flowgate --removable -o com.example.flowgate.mobileconfig (then deliver it through MDM)',
  ]);
});
