// DextbenchActivator: submits one OSSystemExtensionRequest for an extension inside this app's
// Contents/Library/SystemExtensions/ and reports every delegate callback as one JSON line; or
// turns this app's content filter configuration (NEFilterManager) on or off, or reports it.
//
//   DextbenchActivator activate|deactivate --bundle <bundle.id> [--timeout <seconds>]
//   DextbenchActivator filter enable|disable|status --bundle <filter provider bundle.id>
//                      [--name <UserDefinedName>] [--timeout <seconds>]
//
// The JSON-lines contract and exit codes are in README.md ("The activator command"):
// 0 finished, 1 failed (or timed out), 3 needs user approval, 64 usage error.
// Normally run through the `dextbench-activator` launcher, which wraps a bare .dext into a
// copy of this app first.

import Foundation
import NetworkExtension
import SystemExtensions

enum ExitCode {
    static let finished: Int32 = 0
    static let failed: Int32 = 1
    static let needsUserApproval: Int32 = 3
    static let usage: Int32 = 64
}

enum RequestKind: String {
    case activate
    case deactivate
}

enum FilterVerb: String {
    case enable
    case disable
    case status
}

enum Command {
    case request(RequestKind)
    case filter(FilterVerb)
}

struct Options {
    let command: Command
    let bundle: String
    /// The filter configuration's name in System Settings (filter only).
    let name: String
    let timeoutSeconds: Double
}

let usageLine = "usage: DextbenchActivator activate|deactivate --bundle <bundle.id> [--timeout <seconds>]"
    + " | filter enable|disable|status --bundle <bundle.id> [--name <name>] [--timeout <seconds>]"

func parseOptions(_ arguments: [String]) -> Result<Options, UsageError> {
    guard let first = arguments.first else { return .failure(UsageError("missing activate|deactivate|filter")) }
    let command: Command
    var index = 1
    if first == "filter" {
        guard arguments.count > 1, let verb = FilterVerb(rawValue: arguments[1]) else {
            return .failure(UsageError("filter needs enable, disable or status"))
        }
        command = .filter(verb)
        index = 2
    } else if let kind = RequestKind(rawValue: first) {
        command = .request(kind)
    } else {
        return .failure(UsageError("unknown request \(first)"))
    }
    var allowed = ["--bundle", "--timeout"]
    if case .filter = command { allowed.append("--name") }
    var bundle: String?
    var name: String?
    var timeoutSeconds = 60.0
    while index < arguments.count {
        let argument = arguments[index]
        guard allowed.contains(argument) else {
            return .failure(UsageError("unknown argument \(argument)"))
        }
        guard index + 1 < arguments.count else { return .failure(UsageError("\(argument) needs a value")) }
        let value = arguments[index + 1]
        switch argument {
        case "--bundle": bundle = value
        case "--name": name = value
        default:
            guard let seconds = Double(value), seconds > 0, seconds.isFinite else {
                return .failure(UsageError("--timeout must be a positive number of seconds, got \(value)"))
            }
            timeoutSeconds = seconds
        }
        index += 2
    }
    guard let bundle, !bundle.isEmpty else { return .failure(UsageError("missing --bundle")) }
    let shownName = (name?.isEmpty == false ? name : nil) ?? "dextbench \(bundle)"
    return .success(Options(command: command, bundle: bundle, name: shownName, timeoutSeconds: timeoutSeconds))
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

// MARK: - JSON lines

/// A JSON value as the contract uses them: strings, integers and booleans.
enum JSONValue {
    case string(String)
    case integer(Int)
    case bool(Bool)
}

/// Keys are written in the order given, so the lines read like the contract's examples.
func jsonLine(_ fields: [(String, JSONValue)]) -> String {
    let members = fields.map { key, value -> String in
        switch value {
        case .string(let text): return "\(jsonString(key)):\(jsonString(text))"
        case .integer(let number): return "\(jsonString(key)):\(number)"
        case .bool(let flag): return "\(jsonString(key)):\(flag ? "true" : "false")"
        }
    }
    return "{" + members.joined(separator: ",") + "}"
}

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// One line per event, flushed at once: the harness reacts to lines as they arrive.
func emit(_ fields: [(String, JSONValue)]) {
    FileHandle.standardOutput.write((jsonLine(fields) + "\n").data(using: .utf8)!)
}

// MARK: - Errors

/// OSSystemExtensionError.Code raw values and names (driverkit-rigs-es-ne.md §B.3). Kept as a
/// table rather than Swift enum cases so a code added by a newer macOS still gets a number.
let systemExtensionErrorNames: [Int: String] = [
    1: "unknown",
    2: "missingEntitlement",
    3: "unsupportedParentBundleLocation",
    4: "extensionNotFound",
    5: "extensionMissingIdentifier",
    6: "duplicateExtensionIdentifer", // Apple's spelling
    7: "unknownExtensionCategory",
    8: "codeSignatureInvalid",
    9: "validationFailed",
    10: "forbiddenBySystemPolicy",
    11: "requestCanceled",
    12: "requestSuperseded",
    13: "authorizationRequired",
]

func errorName(domain: String, code: Int) -> String {
    if domain == OSSystemExtensionErrorDomain { return systemExtensionErrorNames[code] ?? "unknown" }
    return "other"
}

// MARK: - The extension inside this app

/// "short/build" of the extension with this bundle id in Contents/Library/SystemExtensions,
/// or nil when it is not there (sysextd then answers extensionNotFound).
func containedVersion(of bundle: String) -> String? {
    let folder = Bundle.main.bundleURL.appendingPathComponent("Contents/Library/SystemExtensions", isDirectory: true)
    guard let entries = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) else {
        return nil
    }
    for entry in entries {
        // DriverKit dexts are shallow bundles (Info.plist at the root); other system extensions are not.
        for plistPath in ["Info.plist", "Contents/Info.plist"] {
            guard let data = try? Data(contentsOf: entry.appendingPathComponent(plistPath)),
                  let info = try? PropertyListSerialization.propertyList(from: data, format: nil) as? [String: Any],
                  info["CFBundleIdentifier"] as? String == bundle
            else { continue }
            let short = info["CFBundleShortVersionString"] as? String ?? ""
            let build = info["CFBundleVersion"] as? String ?? ""
            return "\(short)/\(build)"
        }
    }
    return nil
}

// MARK: - Delegate

final class RequestReporter: NSObject, OSSystemExtensionRequestDelegate {
    let bundle: String

    init(bundle: String) {
        self.bundle = bundle
    }

    func request(
        _ request: OSSystemExtensionRequest,
        actionForReplacingExtension existing: OSSystemExtensionProperties,
        withExtension replacement: OSSystemExtensionProperties
    ) -> OSSystemExtensionRequest.ReplacementAction {
        emit([
            ("event", .string("replacing")),
            ("bundle", .string(bundle)),
            ("existing", .string("\(existing.bundleShortVersion)/\(existing.bundleVersion)")),
            ("replacement", .string("\(replacement.bundleShortVersion)/\(replacement.bundleVersion)")),
            ("action", .string("replace")),
        ])
        return .replace
    }

    func requestNeedsUserApproval(_ request: OSSystemExtensionRequest) {
        emit([("event", .string("needsUserApproval")), ("bundle", .string(bundle))])
        // The contract: report and leave; the row stays "activated waiting for user" until the user
        // (or an MDM system-extension-policy payload) approves it.
        exit(ExitCode.needsUserApproval)
    }

    func request(_ request: OSSystemExtensionRequest, didFinishWithResult result: OSSystemExtensionRequest.Result) {
        let name: String
        switch result {
        case .completed: name = "completed"
        case .willCompleteAfterReboot: name = "willCompleteAfterReboot"
        @unknown default: name = "unknown(\(result.rawValue))"
        }
        emit([("event", .string("finished")), ("bundle", .string(bundle)), ("result", .string(name))])
        exit(ExitCode.finished)
    }

    func request(_ request: OSSystemExtensionRequest, didFailWithError error: Error) {
        let nsError = error as NSError
        emit([
            ("event", .string("failed")),
            ("bundle", .string(bundle)),
            ("domain", .string(nsError.domain)),
            ("code", .integer(nsError.code)),
            ("name", .string(errorName(domain: nsError.domain, code: nsError.code))),
            ("message", .string(nsError.localizedDescription)),
        ])
        exit(ExitCode.failed)
    }
}

// MARK: - Content filter configuration (dext-fixtures/es-ne-contract.md §3)

/// NEFilterManagerError raw values, 1...6 in Apple's order; a table so a newer code keeps its number.
let filterErrorNames: [Int: String] = [
    1: "configurationInvalid",
    2: "configurationDisabled",
    3: "configurationStale",
    4: "configurationCannotBeRemoved",
    5: "configurationPermissionDenied",
    6: "configurationInternalError",
]

let filterApprovalFix = "install the com.apple.webcontent-filter payload (dextbench profile --ne-filter <bundle>), or click Allow at the Mac"

func filterNeedsApproval(_ bundle: String, _ why: String) -> Never {
    emit([
        ("event", .string("filterNeedsApproval")),
        ("bundle", .string(bundle)),
        ("message", .string("\(why): \(filterApprovalFix.replacingOccurrences(of: "<bundle>", with: bundle))")),
    ])
    exit(ExitCode.needsUserApproval)
}

func filterFailed(_ bundle: String, _ error: Error) -> Never {
    let nsError = error as NSError
    // Denied permission is the approval case: the user (or the payload) has not allowed filtering.
    if nsError.domain == NEFilterErrorDomain, nsError.code == 5 {
        filterNeedsApproval(bundle, "the filter configuration was refused (\(nsError.localizedDescription))")
    }
    emit([
        ("event", .string("failed")),
        ("bundle", .string(bundle)),
        ("domain", .string(nsError.domain)),
        ("code", .integer(nsError.code)),
        ("name", .string(nsError.domain == NEFilterErrorDomain ? filterErrorNames[nsError.code] ?? "unknown" : "other")),
        ("message", .string(nsError.localizedDescription)),
    ])
    exit(ExitCode.failed)
}

/// Loads this app's filter configuration, changes it and saves it. The configuration belongs to
/// this app (the launcher runs the copy that contains the provider), one per app.
func runFilter(_ verb: FilterVerb, options: Options) {
    let bundle = options.bundle
    let manager = NEFilterManager.shared()
    // Saving an enabled configuration shows "… would like to filter network content" unless a
    // com.apple.webcontent-filter payload allows it; the save's answer waits on that click.
    var saving = false
    DispatchQueue.main.asyncAfter(deadline: .now() + options.timeoutSeconds) {
        let limit = String(format: "%g", options.timeoutSeconds)
        if saving { filterNeedsApproval(bundle, "the filter configuration was not allowed within \(limit) s") }
        emit([
            ("event", .string("failed")),
            ("bundle", .string(bundle)),
            ("domain", .string(NSPOSIXErrorDomain)),
            ("code", .integer(Int(ETIMEDOUT))),
            ("name", .string("timedOut")),
            ("message", .string("the filter configuration did not load within \(limit) s")),
        ])
        exit(ExitCode.failed)
    }
    manager.loadFromPreferences { error in
        if let error { filterFailed(bundle, error) }
        let configured = manager.providerConfiguration?.filterDataProviderBundleIdentifier == bundle
        switch verb {
        case .status:
            emit([
                ("event", .string("filterStatus")),
                ("bundle", .string(bundle)),
                ("enabled", .bool(configured && manager.isEnabled)),
                ("configured", .bool(configured)),
            ])
            exit(ExitCode.finished)
        case .disable where manager.providerConfiguration == nil:
            // Nothing saved: already off (saving an empty configuration would be invalid).
            emit([("event", .string("filterSaved")), ("bundle", .string(bundle)), ("enabled", .bool(false))])
            exit(ExitCode.finished)
        case .disable:
            manager.isEnabled = false
        case .enable:
            let configuration = NEFilterProviderConfiguration()
            configuration.filterSockets = true
            configuration.filterPackets = false
            configuration.filterDataProviderBundleIdentifier = bundle
            manager.providerConfiguration = configuration
            manager.localizedDescription = options.name
            manager.isEnabled = true
        }
        saving = true
        manager.saveToPreferences { error in
            if let error { filterFailed(bundle, error) }
            emit([("event", .string("filterSaved")), ("bundle", .string(bundle)), ("enabled", .bool(manager.isEnabled))])
            exit(ExitCode.finished)
        }
    }
}

// MARK: - Main

let options: Options
switch parseOptions(Array(CommandLine.arguments.dropFirst())) {
case .success(let parsed):
    options = parsed
case .failure(let error):
    FileHandle.standardError.write("DextbenchActivator: \(error.message); \(usageLine)\n".data(using: .utf8)!)
    exit(ExitCode.usage)
}

let kind: RequestKind
switch options.command {
case .filter(let verb):
    runFilter(verb, options: options)
    dispatchMain()
case .request(let requested):
    kind = requested
}

// The delegate property is weak: this global keeps the reporter alive for the whole run.
let reporter = RequestReporter(bundle: options.bundle)
let request: OSSystemExtensionRequest
switch kind {
case .activate:
    request = OSSystemExtensionRequest.activationRequest(forExtensionWithIdentifier: options.bundle, queue: .main)
case .deactivate:
    request = OSSystemExtensionRequest.deactivationRequest(forExtensionWithIdentifier: options.bundle, queue: .main)
}
request.delegate = reporter

var submitted: [(String, JSONValue)] = [
    ("event", .string("submitted")),
    ("request", .string(kind.rawValue)),
    ("bundle", .string(options.bundle)),
]
if let version = containedVersion(of: options.bundle) { submitted.append(("version", .string(version))) }
emit(submitted)
OSSystemExtensionManager.shared.submitRequest(request)

// Every wait has a deadline. ETIMEDOUT in the POSIX domain: a real code, distinct from any
// OSSystemExtensionError, so the harness can tell "sysextd never answered" from a refusal.
DispatchQueue.main.asyncAfter(deadline: .now() + options.timeoutSeconds) {
    emit([
        ("event", .string("failed")),
        ("bundle", .string(options.bundle)),
        ("domain", .string(NSPOSIXErrorDomain)),
        ("code", .integer(Int(ETIMEDOUT))),
        ("name", .string("timedOut")),
        ("message", .string("no answer to the \(kind.rawValue) request within \(String(format: "%g", options.timeoutSeconds)) s")),
    ])
    exit(ExitCode.failed)
}

// Delegate callbacks arrive on the main queue; dispatchMain never returns, exit() ends the run.
dispatchMain()
