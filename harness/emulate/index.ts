// harness/emulate: a device profile played by a Linux USB gadget (configfs), driven through an Exec.
export { bind, boundUdc, createGadget, explainFailure, GadgetError, gadgetPlan, GADGETS_DIR, listUdcs, opArgv, pickUdc, removeGadget, UDC_CLASS_DIR, unbind } from './gadget.ts';
export type { GadgetOp, GadgetOptions, GadgetPlan } from './gadget.ts';
export { gadgetPortDriver } from './port-driver.ts';
export { asRoot, GADGET_COMMANDS, gadgetSudoersRule, sudoExec } from './sudo.ts';
export type { SudoExecOptions } from './sudo.ts';
export type { GadgetPortDriver, GadgetPortOptions, GadgetPortStatus } from './port-driver.ts';
export {
  describeSetup, encodeDescriptor, encodeDescriptors, encodeStrings, endServerProcess, explainMountFailure, FunctionFsError, functionFsEndpoints,
  functionFsThreadpoolSize, mountFunctionFs, parseEvent, serveFunctionFs, unmountFunctionFs,
} from './functionfs.ts';
export type {
  FunctionDescriptor, FunctionDescriptors, FunctionFsClosed, FunctionFsEndpoint, FunctionFsEndpoints, FunctionFsEvent, FunctionFsEventType,
  FunctionFsHandler, FunctionFsServer, FunctionFsServerOptions, MountOptions, SetupAnswer, SetupRequest,
} from './functionfs.ts';
