// The reboot step against the real simulated Mac: its shutdown restarts it (the old version's
// `terminated waiting to uninstall on reboot` row is gone, the boot time changes); and, through an
// Exec that wraps the sim's, what a real Mac does that the sim does not: a connection that drops
// under shutdown, a host that stays unreachable or never reboots, developer mode or the lease lost.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadChannelCodec } from '../../../harness/channel/index.ts';
import { LocalExec, TransportError, type Exec, type ExecOptions, type ExecResult } from '../../../harness/host/exec.ts';
import { parseBootTime } from '../../../harness/host/parsers/index.ts';
import { connectRig, type RigSession } from '../../../harness/rig/connect.ts';
import { acquireLease, checkLeaseHeld } from '../../../harness/rig/lease.ts';
import type { RigDefinition } from '../../../harness/rig/types.ts';
import type { Scenario } from '../../../harness/scenario/index.ts';
import type { StepContext, TimelineEvent } from '../../../harness/steps/index.ts';
import { failure, step } from '../../support/run-step.ts';
import { tempDir } from '../../support/temp.ts';
import { simRig } from '../../unit/rig/rig-fixtures.ts';
import { DEXTS, simConfig, startSim, type Sim } from '../../sim/support.ts';

const BUNDLE = 'com.example.echo.driver';
const extensions = {
  'echo-v1': { dext: join(DEXTS, 'EchoDriver-1.0.0.dext'), bundle: BUNDLE },
  'echo-v2': { dext: join(DEXTS, 'EchoDriver-1.1.0.dext'), bundle: BUNDLE },
};
const leaseBase = tempDir('dextbench-reboot-leases-');

let sim: Sim;

before(async () => {
  sim = await startSim(simConfig({ developerMode: true }));
  // This machine's own shutdown and sudo must never be reached (tests may run as root).
  for (const tool of ['shutdown', 'sudo', 'sysctl']) assert.ok(existsSync(join(sim.binDir, tool)), `the simulated Mac has no ${tool}`);
  // What `dextbench provision` writes for a privileged rig: the commands that need root, without a password.
  const dropIns = join(sim.stateDir, 'fs', 'etc', 'sudoers.d');
  mkdirSync(dropIns, { recursive: true });
  writeFileSync(join(dropIns, 'dextbench'), '%admin ALL = (root) NOPASSWD: /opt/homebrew/bin/uhubctl, /usr/bin/systemextensionsctl, /sbin/shutdown -r now\n');
});

after(async () => {
  await sim?.stop();
});

type Hook = (argv: string[], options: ExecOptions, next: () => Promise<ExecResult>) => Promise<ExecResult>;

/** The sim's Exec, with `hook` between the caller and every command (it may run the command, or not). */
function simExec(hook: Hook = (_a, _o, next) => next()): Exec & { argvs: string[][] } {
  const inner = new LocalExec({ pathPrefix: [sim.binDir], where: 'simulated Mac "test"' });
  const argvs: string[][] = [];
  return {
    where: inner.where,
    argvs,
    run: (argv, options = {}) => { argvs.push(argv); return hook(argv, options, () => inner.run(argv, options)); },
    spawn: (argv, options) => inner.spawn(argv, options),
    onRecord: (listener) => inner.onRecord(listener),
    close: () => inner.close(),
  };
}

const isShutdown = (argv: string[]) => argv.includes('shutdown');
const isSysctl = (argv: string[]) => argv[0] === 'sysctl';

interface Run { rig: RigSession; ctx: StepContext; events: TimelineEvent[]; leaseToken: string }

async function scenario(exec: Exec, rigOverrides: Partial<RigDefinition> = {}): Promise<Run> {
  const rig = connectRig(simRig({ privileged: { sudo: true }, reservation: { ttlMs: 60_000, waitMs: 0, dir: leaseBase }, ...rigOverrides }), { exec });
  const lease = await acquireLease(exec, rig.definition.name, { baseDir: leaseBase, ttlMs: 60_000, owner: 'reboot test', waitMs: 10_000 });
  const events: TimelineEvent[] = [];
  const ctx: StepContext = {
    rig,
    scenario: { file: '/x/s.yaml', name: 's', tags: [], timeoutMs: 60_000, vars: {}, uses: { devices: ['echo'], extensions }, setup: [], steps: [], cleanup: [] } as Scenario,
    extensions,
    timeline: { record: (e) => { events.push(e); } },
    cleanup: { push: () => undefined, release: () => undefined },
    results: new Map(),
    startedAt: new Date(),
    timeoutMs: 60_000,
    measure: () => undefined,
    matchedProviders: new Map(),
    servingDexts: new Map(),
    channels: new Map(),
    codecFor: () => loadChannelCodec(),
    // What the engine does: the lease the run took must still be its own.
    verifyLease: () => checkLeaseHeld(exec, leaseBase, rig.definition.name, lease.holder.token, 60_000),
  };
  after(() => lease.release().catch(() => undefined));
  return { rig, ctx, events, leaseToken: lease.holder.token };
}

async function bootTimeText(): Promise<string> {
  const r = await sim.run('sysctl', ['-n', 'kern.boottime']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('after an upgrade, reboot: the boot time changes, the old version\'s terminated row is gone, the device matches again', async () => {
  const { ctx, rig, events } = await scenario(simExec());
  await step(ctx, 'sysext.activate', 'echo-v1');
  await step(ctx, 'plug', 'echo');
  await step(ctx, 'expect.matched', { device: 'echo', within: '5s' });
  await step(ctx, 'sysext.activate', 'echo-v2');
  await step(ctx, 'sysext.expect', { bundle: BUNDLE, version: '1.0.0/1', state: 'terminated waiting to uninstall on reboot', within: '5s' });
  const beforeText = await bootTimeText();
  assert.match(beforeText, /^\{ sec = \d+, usec = \d+ \} (Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/, 'BSD sysctl\'s timeval form');
  const before = parseBootTime(beforeText);

  const result = await step(ctx, 'reboot', { within: '20s' });
  const afterText = await bootTimeText();
  const now = parseBootTime(afterText);
  assert.notDeepEqual(now, before);
  assert.ok(now.sec * 1e6 + now.usec > before.sec * 1e6 + before.usec, 'booted later');
  assert.deepEqual(Object.keys(result).sort(), ['bootTime', 'downMs']);
  assert.equal(result['bootTime'], new Date(now.sec * 1000 + Math.floor(now.usec / 1000)).toISOString());
  assert.ok(typeof result['downMs'] === 'number' && result['downMs'] > 0 && result['downMs'] < 20_000, String(result['downMs']));

  const { list } = await rig.tools.sysext.list();
  assert.deepEqual(list.extensions.map((r) => `${r.bundleId} ${r.shortVersion}/${r.bundleVersion} [${r.state}]`), [`${BUNDLE} 1.1.0/2 [activated enabled]`]);
  await step(ctx, 'expect.matched', { device: 'echo', within: '5s' });
  assert.deepEqual(events.filter((e) => e.type === 'reboot').map((e) => e['phase']), ['requested', 'back']);
  await step(ctx, 'unplug', 'echo');
  await step(ctx, 'sysext.deactivate', 'echo-v2');
});

test('a local host refuses the step with one line, before running anything', async () => {
  const exec = simExec(async (argv) => { throw new Error(`nothing may run, got ${argv.join(' ')}`); });
  const rig = connectRig(simRig({ host: { kind: 'local' } }), { exec });
  const ctx = { rig, timeoutMs: 60_000, timeline: { record: () => undefined } } as unknown as StepContext;
  const e = await failure(step(ctx, 'reboot', { within: '5m' }));
  assert.equal(e.message, 'reboot: refused on rig "test", whose host is local: restarting the Mac that runs dextbench would end this run; reach the Mac under test over ssh (host: { ssh: user@mac })');
  assert.deepEqual(exec.argvs, []);
});

test('without sudo the sim\'s shutdown answers NOT super-user, and the step says how to give it root; nothing reboots', async () => {
  const { ctx } = await scenario(simExec(), { privileged: { sudo: false } });
  const before = await bootTimeText();
  await assert.rejects(step(ctx, 'reboot', { within: '5s' }), {
    message: 'shutdown -r now on simulated Mac "test" failed: shutdown: NOT super-user; restarting needs root: set privileged: { sudo: true } in the rig, with a passwordless sudoers rule for /sbin/shutdown -r now',
  });
  assert.equal(await bootTimeText(), before);
});

test('sudo with no rule for shutdown: sudo -n refuses, and the step names the rule to add; nothing reboots', async () => {
  const { ctx } = await scenario(simExec());
  const dropIn = join(sim.stateDir, 'fs', 'etc', 'sudoers.d', 'dextbench');
  const rules = readFileSync(dropIn, 'utf8');
  writeFileSync(dropIn, rules.replace(', /sbin/shutdown -r now', ''));
  const before = await bootTimeText();
  try {
    await assert.rejects(step(ctx, 'reboot', { within: '5s' }), {
      message: 'sudo -n shutdown -r now on simulated Mac "test" failed: sudo: a password is required; ' +
        'the rig is privileged: give its user passwordless sudo for /sbin/shutdown -r now (dextbench provision writes the rule)',
    });
  } finally {
    writeFileSync(dropIn, rules);
  }
  assert.equal(await bootTimeText(), before);
});

test('the connection drops under shutdown (TransportError dropped): expected, the step waits for the new boot time', async () => {
  const exec = simExec(async (argv, _options, next) => {
    if (!isShutdown(argv)) return next();
    await next();
    throw new TransportError('dropped', 'ssh mac: the connection dropped while running sudo -n shutdown -r now', argv);
  });
  const { ctx, events } = await scenario(exec);
  const before = parseBootTime(await bootTimeText());
  const result = await step(ctx, 'reboot', { within: '20s' });
  assert.notDeepEqual(parseBootTime(await bootTimeText()), before);
  assert.equal(typeof result['downMs'], 'number');
  assert.equal(events.find((e) => e.type === 'reboot' && e['phase'] === 'requested')?.['cutOff'], 'ssh mac: the connection dropped while running sudo -n shutdown -r now');
});

test('a host unreachable before shutdown ran is a failure, not a reboot', async () => {
  const exec = simExec(async (argv, _options, next) => {
    if (isShutdown(argv)) throw new TransportError('unreachable', 'ssh: connect to host mac port 22: Connection refused', argv);
    return next();
  });
  const { ctx } = await scenario(exec);
  await assert.rejects(step(ctx, 'reboot', { within: '5s' }), { name: 'TransportError', message: 'ssh: connect to host mac port 22: Connection refused' });
});

test('while the Mac is down its commands fail with TransportError: tolerated until it answers with a new boot time', async () => {
  let downUntil = 0;
  let refused = 0;
  const exec = simExec(async (argv, _options, next) => {
    if (isShutdown(argv)) { const r = await next(); downUntil = performance.now() + 1_200; return r; }
    if (isSysctl(argv) && performance.now() < downUntil) { refused++; throw new TransportError('unreachable', 'ssh: connect to host mac port 22: Host is down', argv); }
    return next();
  });
  const { ctx } = await scenario(exec);
  const result = await step(ctx, 'reboot', { within: '20s' });
  assert.ok(refused >= 2, `the step kept asking while the host was down (${refused} refused)`);
  assert.ok((result['downMs'] as number) >= 1_200, `down at least as long as unreachable: ${result['downMs']}`);
});

test('a Mac that never comes back: the deadline, with what was last seen', async () => {
  const unreachable = simExec(async (argv, _options, next) => {
    if (isShutdown(argv)) { const r = await next(); unreachable.down = true; return r; }
    if (isSysctl(argv) && unreachable.down) throw new TransportError('unreachable', 'ssh: connect to host mac port 22: Operation timed out', argv);
    return next();
  }) as ReturnType<typeof simExec> & { down?: boolean };
  const { ctx } = await scenario(unreachable);
  const started = performance.now();
  const e = await failure(step(ctx, 'reboot', { within: '1500ms' }));
  const took = performance.now() - started;
  assert.equal(e.message, 'reboot: simulated Mac "test" did not come back within 1500ms after shutdown -r now: it did not answer: ssh: connect to host mac port 22: Operation timed out');
  assert.ok(took >= 1_500 && took < 5_000, `the deadline was kept: ${took} ms`);
});

test('a Mac that answers but never rebooted (its boot time stays): the deadline names the boot time', async () => {
  let oldText: string | undefined;
  const exec = simExec(async (argv, options, next) => {
    const r = await next();
    if (isSysctl(argv)) { oldText ??= r.stdout; return { ...r, stdout: oldText }; }
    return r;
  });
  const { ctx } = await scenario(exec);
  const e = await failure(step(ctx, 'reboot', { within: '1s' }));
  const old = parseBootTime(oldText!);
  assert.equal(e.message, `reboot: simulated Mac "test" did not come back within 1s after shutdown -r now: the boot time is still { sec = ${old.sec}, usec = ${old.usec} }`);
});

test('developer mode that changed over the reboot fails the step, saying what changed', async () => {
  const exec = simExec(async (argv, options, next) => {
    const r = await next();
    if (isShutdown(argv)) await new LocalExec({ pathPrefix: [sim.binDir] }).run(['systemextensionsctl', 'developer', 'off']);
    return r;
  });
  const { ctx } = await scenario(exec);
  try {
    const e = await failure(step(ctx, 'reboot', { within: '20s' }));
    assert.equal(e.message, 'reboot: developer mode was on before the reboot and is off after it (systemextensionsctl developer)');
  } finally {
    await sim.run('systemextensionsctl', ['developer', 'on']);
  }
});

test('a lease lost over the reboot fails the step, naming who holds the rig now', async () => {
  const exec = simExec(async (argv, options, next) => {
    const r = await next();
    if (isShutdown(argv)) {
      // The reboot outlasted the lease's TTL and another run took the rig over.
      await new LocalExec().run(['rm', '-rf', join(leaseBase, 'test.lease')]);
      await acquireLease(new LocalExec(), 'test', { baseDir: leaseBase, ttlMs: 60_000, owner: 'the next run', waitMs: 0 });
    }
    return r;
  });
  const { ctx } = await scenario(exec);
  const e = await failure(step(ctx, 'reboot', { within: '20s' }));
  assert.match(e.message, /^reboot: the run lost rig "test" over the reboot: the reservation of rig "test" was lost to the next run \(\S+@\S+, pid \d+\) since \S+: it expired and was taken over, or was removed$/);
  await new LocalExec().run(['rm', '-rf', join(leaseBase, 'test.lease')]);
});
