// The usb.* steps drive the USB bus of the machine dextbench runs on (node-usb, harness/usb). On a
// rig whose Mac is reached over ssh that bus is the controller's, not the Mac's, and a simulated
// Mac's devices are on no bus at all: both are refused in one line before anything is touched.
import { rigDevice } from '../../rig/device-state.ts';
import { hubLocationOf } from '../../rig/usb-location.ts';
import type { RigDefinition, RigDevice } from '../../rig/types.ts';
import { UsbAccessDenied, UsbError, UsbUnavailable, type UsbFilter } from '../../usb/index.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';

/** The rig device of `role`, once the rig is known to be this machine; StepFailure otherwise. */
export function localUsbDevice(ctx: StepContext, kind: string, role: string): RigDevice {
  const host = ctx.rig.definition.host;
  const ssh = host.kind === 'ssh' ? host.ssh : host.kind === 'sim' ? host.ssh : undefined;
  if (ssh) {
    throw new StepFailure(`${kind}: rig "${ctx.rig.definition.name}" reaches its Mac over ssh (${ssh.ssh}), so ${role} is on the Mac's USB bus, not this machine's; usb.* steps drive the bus of the machine dextbench runs on (run dextbench on the Mac, host: local)`, { failureClass: 'configuration' });
  }
  if (host.kind === 'sim') {
    throw new StepFailure(`${kind}: rig "${ctx.rig.definition.name}" is the simulated Mac, whose devices are on no USB bus; usb.* steps need host: local with ${role} on this machine's USB bus`, { failureClass: 'configuration' });
  }
  return rigDevice(ctx.rig, role);
}

/**
 * What node-usb looks for: the profile's VID/PID and serial. A device profile without a serial
 * is told apart by where it sits instead: its hub's location plus its port ("1-1" port 2 → "1-1.2").
 */
export function usbFilterOf(rig: RigDefinition, device: RigDevice): UsbFilter {
  const { vendorId, productId, serial } = device.profile.usb;
  if (serial !== undefined) return { vendorId, productId, serial };
  const location = hubLocationOf(rig.hubs.find((h) => h.id === device.port.hub));
  return location !== undefined ? { vendorId, productId, location: `${location}.${device.port.port}` } : { vendorId, productId };
}

/**
 * A harness/usb error as the step's one line; anything else passes unchanged. A bus this machine
 * cannot use is the rig's failure; a device that stalls, times out, fails a transfer, goes away or
 * is not there is the product's (an io error).
 */
export function asStepFailure(kind: string, role: string, error: unknown): unknown {
  if (!(error instanceof UsbError)) return error;
  const rigs = error instanceof UsbUnavailable || error instanceof UsbAccessDenied;
  return new StepFailure(`${kind} ${role}: ${error.message}`, { failureClass: rigs ? 'infrastructure' : 'product' });
}
