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
import { StepFailure } from '../steps/context.ts';
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
  if (error instanceof StepFailure) return 'product';
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
