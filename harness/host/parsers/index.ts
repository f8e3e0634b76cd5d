// Parsers of macOS tool output (reference/macos-formats.md): pure functions from text to typed
// values, with big integers kept exact as bigints. Part of the public API of dextbench.
export { parseSystemExtensionsList, findExtensionRows } from './systemextensionsctl.ts';
export type { SystemExtensionRow, SystemExtensionsList, ExtensionRowQuery } from './systemextensionsctl.ts';
export { parsePlist } from './plist.ts';
export type { PlistValue, PlistDict } from './plist.ts';
export { parseIoregPlist, walkIoreg, usbDevicesFromIoreg, dextServicesFromIoreg, userServersFromIoreg } from './ioreg.ts';
export type { IoregEntry, IoregVisit, UsbDeviceView, DextServiceView, UserServerView } from './ioreg.ts';
export { parseRegistryId, formatRegistryId } from './registry-id.ts';
export { parseUnifiedLogLine, parseLogTimestamp } from './unified-log.ts';
export type { UnifiedLogEntry } from './unified-log.ts';
export { parseEsloggerLine } from './eslogger.ts';
export type { EsloggerEvent, EsProcess, EsAuditToken } from './eslogger.ts';
export { parseCsrutilStatus } from './csrutil.ts';
export type { CsrutilStatus } from './csrutil.ts';
export { parseSwVers } from './sw-vers.ts';
export type { SwVers } from './sw-vers.ts';
export { parseBootTime, sameBootTime, bootTimeIso } from './sysctl.ts';
export type { BootTime } from './sysctl.ts';
export { parseUhubctlStatus } from './uhubctl.ts';
export type { UhubctlHub, UhubctlPortStatus } from './uhubctl.ts';
export { classifyDextLogMessage } from './dext-log.ts';
export type {
  DextLogEvent,
  ServiceStartedEvent,
  ServerEndedEvent,
  CrashedEvent,
  RematchEvent,
  LaunchFailedEvent,
  EntitlementFailedEvent,
  UserClientRefusedEvent,
  StateChangeEvent,
  ValidationFailedEvent,
} from './dext-log.ts';
