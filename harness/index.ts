// The public API of the dextbench package (`import { … } from 'dextbench'`): the parsers of the
// macOS tools' output, the file loaders, and Exec.
export * from './host/parsers/index.ts';
export { LocalExec, $, formatArgv, shellQuote, ExecError, TransportError } from './host/exec.ts';
export type { Exec, ExecResult, ExecOptions, ExecRecord, ExecProcess, ExecCommand } from './host/exec.ts';
export { hostExec, SshExec } from './host/ssh.ts';
export type { SshTarget, HostExecOptions } from './host/ssh.ts';
export { loadScenario, loadRig, loadDeviceProfile, parseDuration } from './scenario/index.ts';
export type { Scenario, ScenarioStep } from './scenario/index.ts';
export type { RigDefinition, DeviceProfile, ExtensionDecl } from './rig/types.ts';
