// A plug (or the plug half of a replug) is done when the device enumerates on the port the hub
// switched on. If it never does, the port, cable or hub is dead: no driver takes part before the
// device enumerates, so the failure is the rig's (infrastructure), not the product's.
import { DeadlineError } from '../../common/time.ts';
import { setDevicePower, waitEnumerated, type DeviceObservation } from '../../rig/device-state.ts';
import type { RigDevice } from '../../rig/types.ts';
import { StepFailure, type StepContext } from '../context.ts';

export async function powerOnAndEnumerate(ctx: StepContext, device: RigDevice, withinMs: number): Promise<DeviceObservation> {
  await setDevicePower(ctx.rig, device, true, ctx.timeline.record);
  try {
    return await waitEnumerated(ctx.rig, device, withinMs, ctx.timeline.record);
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
    throw new StepFailure(`${error.message} after its port was switched on (a dead port, cable or hub: no driver takes part before the device enumerates)`,
      { failureClass: 'infrastructure' });
  }
}
