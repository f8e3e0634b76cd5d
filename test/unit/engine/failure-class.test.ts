import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BridgeExitedError, BridgeNotFoundError, CallFailedError, CallTimeoutError, ChannelClosedError, ChannelCodecError,
  ConnectTimeoutError, MalformedFrameError, ServiceTerminatedError,
} from '../../../harness/channel/index.ts';
import { PatternError } from '../../../harness/common/patterns.ts';
import { DeadlineError } from '../../../harness/common/time.ts';
import { FunctionFsError } from '../../../harness/emulate/functionfs.ts';
import { GadgetError } from '../../../harness/emulate/gadget.ts';
import {
  classified, classifyFailure, classOfTestErrors, FAILURE_CLASS_FIELD, FAILURE_CLASSES, failureMessage, isFailureClass, ownFrames, withFailureClass,
} from '../../../harness/engine/failure-class.ts';
import { ExecError, TransportError, type ExecResult } from '../../../harness/host/exec.ts';
import { ToolError } from '../../../harness/host/tools/tool-error.ts';
import { HubError } from '../../../harness/power/hub-driver.ts';
import { DeviceStateError } from '../../../harness/rig/device-state.ts';
import { ConfigDeliveryError } from '../../../harness/rig/extension-config.ts';
import { LeaseError } from '../../../harness/rig/lease.ts';
import { RigConnectError } from '../../../harness/rig/connect.ts';
import { SimLaunchError } from '../../../harness/rig/sim-launcher.ts';
import { StageError } from '../../../harness/rig/stage.ts';
import { ValidationError } from '../../../harness/scenario/index.ts';
import { StepFailure } from '../../../harness/steps/index.ts';
import { asStepFailure } from '../../../harness/steps/support/usb-device.ts';
import { UsbAccessDenied, UsbDeviceGone, UsbError, UsbStall, UsbUnavailable } from '../../../harness/usb/errors.ts';

const failedCommand: ExecResult = {
  argv: ['uhubctl', '-l', '1-1', '-p', '2', '-a', 'on'], exitCode: 1, signal: null, durationMs: 12, timedOut: false,
  stdout: '', stderr: 'No compatible devices detected!\n', stdoutBytes: Buffer.alloc(0), stderrBytes: Buffer.alloc(0), ok: false,
};

test('the class names and the field name are the shared interface', () => {
  assert.deepEqual([...FAILURE_CLASSES], ['infrastructure', 'configuration', 'product', 'harness']);
  assert.equal(FAILURE_CLASS_FIELD, 'dextbench.class');
  assert.ok(isFailureClass('product'));
  assert.ok(!isFailureClass('flaky'));
});

test('a step\'s failure is product unless the step says otherwise', () => {
  assert.equal(classifyFailure(new StepFailure('expected 3 bytes, got 2')), 'product');
  assert.equal(classifyFailure(new StepFailure('waiting for user approval', { failureClass: 'infrastructure' })), 'infrastructure');
  assert.equal(classifyFailure(new StepFailure('the script does not load', { failureClass: 'configuration' })), 'configuration');
  // A wait for the product that ran out, and what the extension did over its channel.
  assert.equal(classifyFailure(new DeadlineError('not matched within 1s')), 'product');
  assert.equal(classifyFailure(new CallFailedError('Echo', 13, 'INTERNAL', 'boom')), 'product');
  assert.equal(classifyFailure(new CallTimeoutError('Echo', 7n, 500)), 'product');
  assert.equal(classifyFailure(new ServiceTerminatedError('the service terminated')), 'product');
});

test('exec, transport, tools, hubs, boards, USB, channel transport, lease, rig and sim errors are infrastructure', () => {
  const infrastructure = [
    new ExecError(failedCommand),
    new TransportError('unreachable', 'ssh: connect to host mac-1 port 22: Connection refused'),
    new ToolError('dextbench-activator is not installed on mac-1'),
    new HubError('hub hub1: port 5 does not exist'),
    new GadgetError('no UDC named fe980000.usb'),
    new FunctionFsError('ep1 write failed', 'io'),
    new UsbError('open failed'), new UsbStall('bulk IN 0x81 stalled'), new UsbDeviceGone('the device went away'),
    new BridgeNotFoundError('dextbench-bridge is not installed'),
    new BridgeExitedError('the bridge exited with 70', 70, null),
    new MalformedFrameError('a frame of length 0'),
    new ConnectTimeoutError('no OPENED within 5 s'),
    new ChannelClosedError('closed'),
    new LeaseError('the reservation of rig "sim" was lost'),
    new RigConnectError('rig "sim": safe state failed'),
    new SimLaunchError('the simulated Mac died'),
    new StageError('scp failed'),
    new ConfigDeliveryError('could not write the extension config'),
    new DeviceStateError('echo is not on hub1 port 2'),
  ];
  for (const error of infrastructure) assert.equal(classifyFailure(error), 'infrastructure', error.constructor.name);
});

test('a bad rig or scenario is configuration', () => {
  assert.equal(classifyFailure(new ValidationError([{ file: '/s.yaml', line: 3, column: 5, message: 'unknown step kind "plugg"' }])), 'configuration');
  assert.equal(classifyFailure(new PatternError('no pattern "prbs32"')), 'configuration');
  assert.equal(classifyFailure(new ChannelCodecError('unknown field "lenght" in EchoRequest')), 'configuration');
  // The CLI's FileIssues: problems found in files, each a file:line:col line.
  assert.equal(classifyFailure(Object.assign(new Error('s.yaml:1:1: no such file'), { issues: ['s.yaml:1:1: no such file'] })), 'configuration');
});

test('anything else is our own bug: harness', () => {
  assert.equal(classifyFailure(new TypeError('Cannot read properties of undefined (reading \'pid\')')), 'harness');
  assert.equal(classifyFailure(new Error('assertion failed')), 'harness');
  assert.equal(classifyFailure('a thrown string'), 'harness');
  assert.equal(classifyFailure(undefined), 'harness');
  assert.equal(classifyFailure(null), 'harness');
});

test('a class the engine already gave an error wins over its type', () => {
  assert.equal(classifyFailure(withFailureClass(new Error('step timed out'), 'product')), 'product');
  assert.equal(classifyFailure(withFailureClass(new HubError('port stuck'), 'product')), 'product');
  assert.equal(classifyFailure({ failureClass: 'not a class' }), 'harness');
});

test('classified: the message begins with the class; a YAML frame stays, harness frames only for our own bugs', () => {
  const atStep = new Error('echo was not matched');
  atStep.stack = 'Error: echo was not matched\n    at /p/scenarios/a.yaml:13:5';
  const step = classified(withFailureClass(atStep, 'product'));
  assert.equal(step.message, '[product] echo was not matched');
  assert.equal(step.stack, 'Error: [product] echo was not matched\n    at /p/scenarios/a.yaml:13:5');
  assert.equal(step.failureClass, 'product');

  const hub = classified(new RigConnectError('rig "sim": safe state failed'));
  assert.equal(hub.message, '[infrastructure] rig "sim": safe state failed');
  assert.equal(hub.stack, 'Error: [infrastructure] rig "sim": safe state failed', 'no harness frames for a one-line failure');

  const bug = classified(new TypeError('x is not a function'));
  assert.equal(bug.message, '[harness] x is not a function');
  assert.match(bug.stack!, /^Error: \[harness\] x is not a function\n {4}at .*failure-class\.test\.ts:\d+:\d+/, 'our bug keeps its frames');

  assert.equal(classified(step), step, 'classified once');
  assert.equal(classified(new Error('[configuration] already said')).failureClass, 'configuration');
  assert.equal(classified('text').message, '[harness] text');
});

test('the class of a failed test, from the errors Playwright serialized', () => {
  assert.equal(classOfTestErrors([{ message: 'Error: [product] echo was not matched' }, { message: 'Error: [infrastructure] cleanup failed' }]), 'product');
  assert.equal(classOfTestErrors([{ message: '[configuration] s.yaml:3:5: unknown step' }]), 'configuration');
  assert.equal(classOfTestErrors([{ message: 'Error: Fixture "rig" timeout of 120000ms exceeded during setup.' }]), 'infrastructure');
  assert.equal(classOfTestErrors([{ message: 'Test timeout of 60000ms exceeded while setting up "rig".' }]), 'infrastructure');
  assert.equal(classOfTestErrors([{ message: 'Test timeout of 90000ms exceeded.' }]), 'harness');
  assert.equal(classOfTestErrors([{ message: 'TypeError: x is not a function' }]), 'harness');
  assert.equal(classOfTestErrors([{}]), 'harness');
});

test('usb.* steps: a bus this machine cannot use is the rig\'s failure, a device that misbehaves the product\'s', () => {
  const classOf = (error: UsbError) => classifyFailure(asStepFailure('usb.io', 'echo', error));
  assert.equal(classOf(new UsbUnavailable('getDevices error: /sys/bus/usb/devices/ not found')), 'infrastructure');
  assert.equal(classOf(new UsbAccessDenied('open error: permission denied')), 'infrastructure');
  assert.equal(classOf(new UsbStall('bulk IN 0x81 stalled')), 'product');
  assert.equal(classOf(new UsbDeviceGone('transferOut error: Disconnected')), 'product');
  const other = new TypeError('not a usb error');
  assert.equal(asStepFailure('usb.io', 'echo', other), other, 'anything else passes unchanged');
});

test('a step\'s failure in one line: our own bug keeps its error\'s name and its frames, nothing else does', () => {
  const bug = new TypeError('Cannot read properties of undefined (reading \'pid\')');
  assert.equal(failureMessage(bug, 'harness'), 'TypeError: Cannot read properties of undefined (reading \'pid\')');
  assert.match(ownFrames(bug, 'harness')[0]!, /^ {4}at .*failure-class\.test\.ts:\d+:\d+/);
  const expectFailed = new StepFailure('echo was not matched');
  assert.equal(failureMessage(expectFailed, 'product'), 'echo was not matched');
  assert.deepEqual(ownFrames(expectFailed, 'product'), []);
  assert.equal(failureMessage(new Error('plain'), 'harness'), 'plain');
  assert.equal(failureMessage(42, 'harness'), '42');
});
