// DextbenchActivator: submits one OSSystemExtensionRequest for an extension inside this app's
// Contents/Library/SystemExtensions/ and reports every delegate callback as one JSON line.
//
//   DextbenchActivator activate|deactivate --bundle <bundle.id> [--timeout <seconds>]
//
// The JSON-lines contract and exit codes are in README.md ("The activator command"):
// 0 finished, 1 failed (or timed out), 3 needs user approval, 64 usage error.
// Normally run through the `dextbench-activator` launcher, which wraps a bare .dext into a
// copy of this app first.

import Foundation
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

struct Options {
    let kind: RequestKind
    let bundle: String
    let timeoutSeconds: Double
}

let usageLine = "usage: DextbenchActivator activate|deactivate --bundle <bundle.id> [--timeout <seconds>]"

func parseOptions(_ arguments: [String]) -> Result<Options, UsageError> {
    guard let first = arguments.first else { return .failure(UsageError("missing activate|deactivate")) }
    guard let kind = RequestKind(rawValue: first) else { return .failure(UsageError("unknown request \(first)")) }
    var bundle: String?
    var timeoutSeconds = 60.0
    var index = 1
    while index < arguments.count {
        let argument = arguments[index]
        guard argument == "--bundle" || argument == "--timeout" else {
            return .failure(UsageError("unknown argument \(argument)"))
        }
        guard index + 1 < arguments.count else { return .failure(UsageError("\(argument) needs a value")) }
        let value = arguments[index + 1]
        if argument == "--bundle" {
            bundle = value
        } else {
            guard let seconds = Double(value), seconds > 0, seconds.isFinite else {
                return .failure(UsageError("--timeout must be a positive number of seconds, got \(value)"))
            }
            timeoutSeconds = seconds
        }
        index += 2
    }
    guard let bundle, !bundle.isEmpty else { return .failure(UsageError("missing --bundle")) }
    return .success(Options(kind: kind, bundle: bundle, timeoutSeconds: timeoutSeconds))
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

// MARK: - JSON lines

/// A JSON value as the contract uses them: strings and integers only.
enum JSONValue {
    case string(String)
    case integer(Int)
}

/// Keys are written in the order given, so the lines read like the contract's examples.
func jsonLine(_ fields: [(String, JSONValue)]) -> String {
    let members = fields.map { key, value -> String in
        switch value {
        case .string(let text): return "\(jsonString(key)):\(jsonString(text))"
        case .integer(let number): return "\(jsonString(key)):\(number)"
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

// MARK: - Main

let options: Options
switch parseOptions(Array(CommandLine.arguments.dropFirst())) {
case .success(let parsed):
    options = parsed
case .failure(let error):
    FileHandle.standardError.write("DextbenchActivator: \(error.message); \(usageLine)\n".data(using: .utf8)!)
    exit(ExitCode.usage)
}

// The delegate property is weak: this global keeps the reporter alive for the whole run.
let reporter = RequestReporter(bundle: options.bundle)
let request: OSSystemExtensionRequest
switch options.kind {
case .activate:
    request = OSSystemExtensionRequest.activationRequest(forExtensionWithIdentifier: options.bundle, queue: .main)
case .deactivate:
    request = OSSystemExtensionRequest.deactivationRequest(forExtensionWithIdentifier: options.bundle, queue: .main)
}
request.delegate = reporter

var submitted: [(String, JSONValue)] = [
    ("event", .string("submitted")),
    ("request", .string(options.kind.rawValue)),
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
        ("message", .string("no answer to the \(options.kind.rawValue) request within \(String(format: "%g", options.timeoutSeconds)) s")),
    ])
    exit(ExitCode.failed)
}

// Delegate callbacks arrive on the main queue; dispatchMain never returns, exit() ends the run.
dispatchMain()
