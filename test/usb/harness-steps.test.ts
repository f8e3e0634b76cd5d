// The usb.* steps before they touch a bus: refused in one line on rigs whose devices are not on
// this machine's USB bus, their argument checks, and which device they look for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RigSession } from '../../harness/rig/connect.ts';
import type { RigDefinition } from '../../harness/rig/types.ts';
import { StepFailure, stepRegistry, type StepContext } from '../../harness/steps/index.ts';
import { usbFilterOf } from '../../harness/steps/support/usb-device.ts';
import { ECHO_PROFILE, simRig } from '../unit/rig/rig-fixtures.ts';

/** Only what the usb.* steps read of a rig: its definition and devices. */
function context(definition: RigDefinition): StepContext {
  const rig = { definition, devices: new Map(definition.devices.map((d) => [d.role, d])) } as Partial<RigSession> as RigSession;
  return { rig, timeoutMs: 5000, timeline: { record: () => undefined }, cleanup: { push: () => undefined, release: () => undefined }, measure: () => undefined } as Partial<StepContext> as StepContext;
}

async function failure(kind: string, args: unknown, definition: RigDefinition): Promise<string> {
  const step = stepRegistry.get(kind)!;
  const error = await step.run(step.schema.parse(args), context(definition)).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StepFailure, `expected a StepFailure, got ${String(error)}`);
  assert.equal(error.failureClass, 'configuration', 'a scenario on a rig without a local bus is a configuration failure');
  return error.message;
}

const io = { device: 'echo', endpoints: { out: 0x02, in: 0x81 }, bytes: '1MiB', pattern: 'prbs31' };

test('on a rig reached over ssh, usb.expect and usb.io are refused: the bus is the Mac\'s, not this machine\'s', async () => {
  const overSsh = simRig({ host: { kind: 'ssh', ssh: { ssh: 'ci@mac-mini-3.lan' } } });
  assert.equal(await failure('usb.expect', { device: 'echo' }, overSsh),
    'usb.expect: rig "test" reaches its Mac over ssh (ci@mac-mini-3.lan), so echo is on the Mac\'s USB bus, not this machine\'s; usb.* steps drive the bus of the machine dextbench runs on (run dextbench on the Mac, host: local)');
  assert.match(await failure('usb.io', io, overSsh), /^usb\.io: rig "test" reaches its Mac over ssh \(ci@mac-mini-3\.lan\)/);
  const simOverSsh = simRig();
  simOverSsh.host = { ...(simOverSsh.host as Extract<RigDefinition['host'], { kind: 'sim' }>), ssh: { ssh: 'dextbench@127.0.0.1' } };
  assert.match(await failure('usb.expect', { device: 'echo' }, simOverSsh), /over ssh \(dextbench@127\.0\.0\.1\)/);
});

test('on the simulated Mac they are refused: its devices are on no USB bus', async () => {
  assert.equal(await failure('usb.expect', { device: 'echo', state: 'absent' }, simRig()),
    'usb.expect: rig "test" is the simulated Mac, whose devices are on no USB bus; usb.* steps need host: local with echo on this machine\'s USB bus');
  assert.match(await failure('usb.io', io, simRig()), /^usb\.io: rig "test" is the simulated Mac/);
});

test('usb.io arguments: endpoint directions, a size above 0, the io step\'s patterns', () => {
  const schema = stepRegistry.get('usb.io')!.schema;
  const parsed = schema.parse(io) as { bytes: number; seed: number; pattern: string };
  assert.deepEqual([parsed.bytes, parsed.seed, parsed.pattern], [1024 * 1024, 1, 'prbs31']);
  const issue = (args: unknown) => schema.safeParse(args).error?.issues.map((i) => i.message).join('; ');
  assert.equal(issue({ ...io, endpoints: { out: 0x81, in: 0x81 } }), 'expected an OUT endpoint address (0x01 to 0x0f), got 0x81');
  assert.equal(issue({ ...io, endpoints: { out: 0x02, in: 0x01 } }), 'expected an IN endpoint address (0x81 to 0x8f), got 0x1');
  assert.equal(issue({ ...io, bytes: 0 }), 'expected a size above 0, like 64MiB');
  assert.match(issue({ ...io, pattern: 'prbs9' }) ?? '', /prbs31/);
  assert.ok(issue({ ...io, expect: { status: 'done' } }), 'usb.io has no io status to expect');
  const expect = stepRegistry.get('usb.expect')!.schema;
  assert.deepEqual(expect.parse({ device: 'echo', within: '2s' }), { device: 'echo', state: 'present', within: 2000 });
  assert.ok(!expect.safeParse({ device: 'echo', state: 'gone' }).success);
});

test('the device looked for: the profile\'s VID/PID and serial; without a serial, its hub location and port', () => {
  const rig = simRig();
  assert.deepEqual(usbFilterOf(rig, rig.devices[0]!), { vendorId: 0x1d6b, productId: 0x0104, serial: 'ECHO0001' });
  const { serial: _serial, ...noSerial } = ECHO_PROFILE.usb;
  const bare = { ...rig.devices[0]!, profile: { ...ECHO_PROFILE, usb: noSerial } };
  assert.deepEqual(usbFilterOf(rig, bare), { vendorId: 0x1d6b, productId: 0x0104, location: '1-1.2' });
  assert.deepEqual(usbFilterOf({ ...rig, hubs: [] }, bare), { vendorId: 0x1d6b, productId: 0x0104 });
});
