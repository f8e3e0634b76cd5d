// The public API of the dextbench package (`import { … } from 'dextbench'`): the parsers of the
// macOS tools' output, the file loaders, Exec, the hub drivers, the Linux gadget emulator, and
// `usb` (harness/usb: find, wait for, open and drive USB devices through node-usb).
export * from './host/parsers/index.ts';
export { LocalExec, $, formatArgv, shellQuote, ExecError, TransportError } from './host/exec.ts';
export type { Exec, ExecResult, ExecOptions, ExecRecord, ExecProcess, ExecCommand } from './host/exec.ts';
export { hostExec, SshExec } from './host/ssh.ts';
export type { SshTarget, HostExecOptions } from './host/ssh.ts';
export { loadScenario, loadRig, loadDeviceProfile, parseDuration } from './scenario/index.ts';
export type { Scenario, ScenarioStep } from './scenario/index.ts';
export type { RigDefinition, DeviceProfile, ExtensionDecl } from './rig/types.ts';
export * as usb from './usb/index.ts';
export { createHubDriver, HubError, uhubctlDriver, cambrionixDriver, ykushDriver } from './power/index.ts';
export type { HubDriver, HubPortStatus } from './power/index.ts';
export { gadgetPlan, createGadget, removeGadget, bind as bindGadget, unbind as unbindGadget, gadgetPortDriver, GadgetError } from './emulate/index.ts';
export type { GadgetPlan, GadgetPortDriver } from './emulate/index.ts';
export { mountFunctionFs, unmountFunctionFs, serveFunctionFs, endServerProcess, FunctionFsError } from './emulate/index.ts';
export type { FunctionDescriptors, FunctionFsHandler, FunctionFsServer, FunctionFsServerOptions } from './emulate/index.ts';
export { classifyFailure, FAILURE_CLASSES, FAILURE_CLASS_FIELD } from './engine/failure-class.ts';
export type { FailureClass } from './engine/failure-class.ts';
