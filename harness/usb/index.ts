// harness/usb: this machine's USB bus through node-usb (`usb` 3.x): find devices and wait for them
// to come and go, open them and run control / bulk / interrupt transfers with timeouts, and push
// pattern traffic through a loopback device with every byte verified. Failures are classified
// (errors.ts): a vanished device, a stall, a timeout, access denied, or no USB on this host.
export { findDevice, findDevices, waitForDevice } from './devices.ts';
export type { DeviceState, DeviceWait, FoundDevice } from './devices.ts';
export { open, UsbHandle, hexAddress } from './handle.ts';
export type { ControlSetup, EndpointInfo, OpenOptions, TransferOptions, UsbRecipient, UsbRequestType } from './handle.ts';
export { loopbackTraffic, LoopbackAborted, percentile } from './traffic.ts';
export type { LoopbackOptions, LoopbackResult } from './traffic.ts';
export { hotplugSupport } from './backend.ts';
export { deviceLocation, describeDevice, describeFilter, matchesFilter } from './filter.ts';
export type { UsbDeviceInfo, UsbFilter } from './filter.ts';
export {
  classifyUsbError, UsbAccessDenied, UsbDeviceGone, UsbError, UsbNotFound, UsbStall, UsbTimeout, UsbTransferFailed, UsbUnavailable,
} from './errors.ts';
export type { UsbErrorContext } from './errors.ts';
