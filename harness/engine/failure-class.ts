// Every failure of a scenario has one class, so CI can act on it (LAVA's error classes, see
// shared/reference/nightly-ops.md §1): retry infrastructure on another rig, fix the rig or scenario
// for configuration, file product failures against the driver, and ours against dextbench.
// A step that knows better says so (StepFailure's `failureClass`); otherwise the error's type decides.
import { ChannelError, ChannelCodecError, CallFailedError, CallTimeoutError, ServiceTerminatedError } from '../channel/index.ts';
import { FAILURE_CLASSES, isFailureClass, type FailureClass } from '../common/failure-class.ts';
import { DeadlineError } from '../common/time.ts';
import { PatternError } from '../common/patterns.ts';
import { FunctionFsError } from '../emulate/functionfs.ts';
import { GadgetError } from '../emulate/gadget.ts';
import { ExecError, TransportError } from '../host/exec.ts';
import { ToolError } from '../host/tools/tool-error.ts';
import { HubError } from '../power/hub-driver.ts';
import { ConfigDeliveryError } from '../rig/extension-config.ts';
import { DeviceStateError } from '../rig/device-state.ts';
import { LeaseError } from '../rig/lease.ts';
import { RigConnectError } from '../rig/connect.ts';
import { SimLaunchError } from '../rig/sim-launcher.ts';
import { StageError } from '../rig/stage.ts';
import { ValidationError } from '../scenario/index.ts';
import { UsbError } from '../usb/errors.ts';

export { FAILURE_CLASSES, isFailureClass, type FailureClass };

/** The annotation type on each failed test, and the JUnit property / JSON field, that carry the class. */
export const FAILURE_CLASS_FIELD = 'dextbench.class';

/**
 * The class of a failure. An error that carries its class (a StepFailure, or an error the engine
 * already classified) keeps it; otherwise its type decides, and what no rule names is our own bug.
 */
export function classifyFailure(error: unknown): FailureClass {
  const carried = (error as { failureClass?: unknown } | null)?.failureClass;
  if (isFailureClass(carried)) return carried;
  // A bad rig or scenario: fixed by editing a file.
  if (error instanceof ValidationError || error instanceof PatternError || error instanceof ChannelCodecError) return 'configuration';
  if (error instanceof Error && 'issues' in error && Array.isArray(error.issues)) return 'configuration';
  // What the extension did over its channel: it answered no, went silent, or its service went away.
  if (error instanceof CallFailedError || error instanceof CallTimeoutError || error instanceof ServiceTerminatedError) return 'product';
  // A wait for the extension or the device ran out: what it waited for never happened.
  if (error instanceof DeadlineError) return 'product';
  if (
    error instanceof ExecError || error instanceof TransportError || error instanceof ToolError
    || error instanceof HubError || error instanceof GadgetError || error instanceof FunctionFsError
    || error instanceof UsbError || error instanceof ChannelError
    || error instanceof LeaseError || error instanceof RigConnectError || error instanceof SimLaunchError
    || error instanceof StageError || error instanceof ConfigDeliveryError || error instanceof DeviceStateError
  ) return 'infrastructure';
  return 'harness';
}

/** `error` marked with its class; Error objects are marked in place, so they keep their stack. */
export function withFailureClass<E extends Error>(error: E, failureClass: FailureClass): E & { failureClass: FailureClass } {
  return Object.assign(error, { failureClass });
}

const PREFIX = /^\[(infrastructure|configuration|product|harness)\] /;
/** The same, after Playwright serialized the error (`Error: [product] …`). */
const SERIALIZED_PREFIX = /^(?:\w+: )?\[(infrastructure|configuration|product|harness)\] /;

/**
 * The error a test fails with: its message begins with its class in brackets (`[product] …`), so
 * every reporter (list, HTML, JUnit, JSON) shows it on the error's first line, and the class
 * survives Playwright's serialization of the error. The stack keeps its frames (the YAML line).
 */
export function classified(error: unknown): Error & { failureClass: FailureClass } {
  const message = error instanceof Error ? error.message : String(error);
  const already = PREFIX.exec(message);
  if (already && error instanceof Error) return withFailureClass(error, already[1] as FailureClass);
  const failureClass = classifyFailure(error);
  const labelled = `[${failureClass}] ${message}`;
  // No `cause`: reporters would print the original error and its harness stack under it.
  const result = new Error(labelled);
  // Only our own bugs need our frames; any other failure is shown at its scenario line, if it has one.
  const shown = failureClass === 'harness' ? stackFrames(error) : stackFrames(error).filter((l) => YAML_FRAME.test(l));
  result.stack = [`Error: ${labelled}`, ...shown].join('\n');
  return withFailureClass(result, failureClass);
}

const YAML_FRAME = /\.ya?ml:\d+:\d+\)?$/;

function stackFrames(error: unknown): string[] {
  return (error instanceof Error ? error.stack ?? '' : '').split('\n').filter((l) => /^\s+at /.test(l));
}

/** A step's error as one line: our own bug keeps its error's name (`TypeError: …`). */
export function failureMessage(error: unknown, failureClass: FailureClass): string {
  if (!(error instanceof Error)) return String(error);
  return failureClass === 'harness' && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}

/** The frames of our own bug, where in the harness it happened; none for any other class. */
export function ownFrames(error: unknown, failureClass: FailureClass): string[] {
  return failureClass === 'harness' ? stackFrames(error) : [];
}

/** A Playwright timeout while the `rig` fixture connects and reserves: the rig did not answer. */
const RIG_FIXTURE_TIMEOUT = /^(?:\w+: )?Fixture "rig" timeout of \d+ms exceeded during setup|exceeded while setting up "rig"/;

/**
 * The class of a failed test from the errors Playwright recorded for it (serialized, so read from
 * the message): the first error's. An error without a class never went through `classified`: a
 * Playwright timeout around our own deadlines, or an exception outside our handlers, our bug.
 */
export function classOfTestErrors(errors: readonly { message?: string }[]): FailureClass {
  const first = errors[0]?.message ?? '';
  const labelled = SERIALIZED_PREFIX.exec(first);
  if (labelled) return labelled[1] as FailureClass;
  if (RIG_FIXTURE_TIMEOUT.test(first)) return 'infrastructure';
  return 'harness';
}
