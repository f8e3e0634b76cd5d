// The host under test: Exec and the macOS tools over it. (The output parsers have their own
// barrel, ./parsers/index.ts.)
export * from './exec.ts';
export * from './ssh.ts';
export { ToolError } from './tools/tool-error.ts';
export { systemExtensionsCtl, formatRow } from './tools/systemextensionsctl.ts';
export type { SystemExtensionsCtl, SystemExtensionsCtlOptions, SystemExtensionsList, WaitForStateOptions } from './tools/systemextensionsctl.ts';
export { ioreg } from './tools/ioreg.ts';
export type { Ioreg, IoregEntry, IoregQuery } from './tools/ioreg.ts';
export { UnifiedLogStream, logShow, dextPredicate, extensionLogPredicate, formatLocalSecond, type LogScope, type LogTarget } from './tools/log.ts';
export type { LogEntry, LogLevel, LogShowOptions, LogStreamOptions } from './tools/log.ts';
export { activator, outcomeOf, parseActivatorEvents, OS_SYSTEM_EXTENSION_ERRORS } from './tools/activator.ts';
export type { ActivationError, ActivationOutcome, ActivationRequest, ActivationResult, Activator, ActivatorEvent } from './tools/activator.ts';
export { sipStatus } from './tools/csrutil.ts';
export type { SipStatus } from './tools/csrutil.ts';
export { macosVersion } from './tools/sw_vers.ts';
export type { MacosVersion } from './tools/sw_vers.ts';
export { killProcess } from './tools/kill.ts';
export { bootTime } from './tools/sysctl.ts';
export { requestRestart, type RestartRequest } from './tools/shutdown.ts';
