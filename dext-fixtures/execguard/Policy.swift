// ExecGuard's policy: which exec targets to deny, read from the dextbench config file
// (dext-fixtures/es-ne-contract.md §2), and how values are written into its log lines (§5).
// Plain Foundation, no EndpointSecurity: the decision logic stays apart from the ES plumbing.

import Foundation

/// `{ "denyExec": ["/usr/bin/nc"], "denySigningIds": ["com.apple.nc"] }`; both keys optional,
/// other keys ignored (the rig's `config:` is any JSON map).
struct ExecPolicy: Equatable {
    var denyPaths: Set<String> = []
    var denySigningIds: Set<String> = []

    static let empty = ExecPolicy()

    enum Decision: Equatable {
        case allow
        /// Which kind of rule matched: "path" or "signing_id" (the log line's `rule=`).
        case deny(rule: String)
    }

    /// Paths are compared as given: the exec target's path is the one the kernel resolved
    /// (no symlinks), so a rule naming a symlink never matches; README.md says so.
    func decide(path: String, signingId: String?) -> Decision {
        if denyPaths.contains(path) { return .deny(rule: "path") }
        if let signingId, denySigningIds.contains(signingId) { return .deny(rule: "signing_id") }
        return .allow
    }
}

struct ConfigError: Error {
    let message: String
}

/// The file dextbench writes before activating the extension and whenever a step changes it.
func configURL(bundle: String) -> URL {
    URL(fileURLWithPath: "/Users/Shared/dextbench/config/\(bundle).json")
}

/// Parses the config. A missing file is not an error (no rules: everything is allowed);
/// a file that is not a JSON object, or a known key of the wrong type, is.
func parsePolicy(_ data: Data) -> Result<ExecPolicy, ConfigError> {
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: data)
    } catch {
        return .failure(ConfigError(message: "not JSON: \(error.localizedDescription)"))
    }
    guard let map = object as? [String: Any] else {
        return .failure(ConfigError(message: "expected a JSON object"))
    }
    var policy = ExecPolicy()
    let keys: [(String, WritableKeyPath<ExecPolicy, Set<String>>)] = [
        ("denyExec", \.denyPaths),
        ("denySigningIds", \.denySigningIds),
    ]
    for (key, target) in keys {
        guard let value = map[key] else { continue }
        guard let list = value as? [Any], list.allSatisfy({ $0 is String }) else {
            return .failure(ConfigError(message: "\(key) must be an array of strings"))
        }
        policy[keyPath: target] = Set(list.compactMap { $0 as? String })
    }
    return .success(policy)
}

func loadPolicy(from url: URL) -> Result<ExecPolicy, ConfigError> {
    guard FileManager.default.fileExists(atPath: url.path) else { return .success(.empty) }
    do {
        return parsePolicy(try Data(contentsOf: url))
    } catch {
        return .failure(ConfigError(message: "cannot read: \(error.localizedDescription)"))
    }
}

/// A value for a `key=value` log token (contract §5): never empty (`-`), never containing
/// whitespace; `%` is escaped first so the encoding can be undone (a path with spaces is
/// written with %20).
func logValue(_ text: String?) -> String {
    guard let text, !text.isEmpty else { return "-" }
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "%": out += "%25"
        case " ": out += "%20"
        case _ where scalar.properties.isWhitespace || scalar.value < 0x20:
            out += scalar.utf8Bytes.map { String(format: "%%%02X", $0) }.joined()
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

private extension Unicode.Scalar {
    var utf8Bytes: [UInt8] { Array(String(self).utf8) }
}
