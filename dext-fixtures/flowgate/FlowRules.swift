// FlowGate's rules (dext-fixtures/es-ne-contract.md §2) and the DNS wire format it reads from
// port-53 flows.
// Plain Foundation, no NetworkExtension: the decisions stay apart from the provider plumbing.

import Foundation

enum Verdict: String {
    case allow
    case drop
}

enum FlowProtocol: String {
    case tcp
    case udp
}

/// One rule: `{ "action": "drop", "host": "blocked.example", "port": 443, "protocol": "tcp" }`
/// (each match key optional; all given keys must match) or `{ "action": "drop", "dnsName": "x" }`
/// (DNS questions for that name or a name under it).
struct FlowRule: Equatable {
    var action: Verdict
    var host: String?
    var port: Int?
    var proto: FlowProtocol?
    var dnsName: String?

    /// `host` matches the remote address as written, or the flow's hostname (what the app asked
    /// for, or what FlowGate saw a DNS answer give for that address).
    func matches(remoteAddress: String, hostname: String?, port: Int, proto: FlowProtocol) -> Bool {
        guard dnsName == nil else { return false }
        if let host {
            let wanted = normalizedName(host)
            guard wanted == normalizedName(remoteAddress) || wanted == hostname.map(normalizedName) else { return false }
        }
        if let rulePort = self.port, rulePort != port { return false }
        if let ruleProto = self.proto, ruleProto != proto { return false }
        return true
    }

    func matches(question name: String) -> Bool {
        guard let dnsName else { return false }
        let wanted = normalizedName(dnsName)
        let asked = normalizedName(name)
        return asked == wanted || asked.hasSuffix("." + wanted)
    }
}

/// DNS names compare case-insensitively, without the root's trailing dot.
func normalizedName(_ name: String) -> String {
    var lower = name.lowercased()
    if lower.hasSuffix(".") { lower.removeLast() }
    return lower
}

struct FlowRules: Equatable {
    var rules: [FlowRule] = []

    static let empty = FlowRules()

    /// First matching rule wins; no match allows.
    func verdict(remoteAddress: String, hostname: String?, port: Int, proto: FlowProtocol) -> Verdict {
        rules.first { $0.matches(remoteAddress: remoteAddress, hostname: hostname, port: port, proto: proto) }?.action ?? .allow
    }

    func verdict(question name: String) -> Verdict {
        rules.first { $0.matches(question: name) }?.action ?? .allow
    }

    var hasDNSRules: Bool { rules.contains { $0.dnsName != nil } }
}

struct ConfigError: Error {
    let message: String
}

func configURL(bundle: String) -> URL {
    URL(fileURLWithPath: "/Users/Shared/dextbench/config/\(bundle).json")
}

/// `{ "rules": [ … ] }`; other top-level keys are ignored (the rig's `config:` is any JSON map).
func parseRules(_ data: Data) -> Result<FlowRules, ConfigError> {
    guard let map = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        return .failure(ConfigError(message: "expected a JSON object"))
    }
    guard let list = map["rules"] else { return .success(.empty) }
    guard let entries = list as? [[String: Any]] else {
        return .failure(ConfigError(message: "rules must be an array of objects"))
    }
    var rules: [FlowRule] = []
    for (index, entry) in entries.enumerated() {
        let at = "rules[\(index)]"
        guard let actionName = entry["action"] as? String, let action = Verdict(rawValue: actionName) else {
            return .failure(ConfigError(message: "\(at).action must be allow or drop"))
        }
        var rule = FlowRule(action: action)
        for key in entry.keys where !["action", "host", "port", "protocol", "dnsName"].contains(key) {
            return .failure(ConfigError(message: "\(at) has an unknown key \(key)"))
        }
        if let host = entry["host"] {
            guard let text = host as? String, !text.isEmpty else { return .failure(ConfigError(message: "\(at).host must be a name or an address")) }
            rule.host = text
        }
        if let port = entry["port"] {
            guard let number = port as? Int, (1...65535).contains(number) else { return .failure(ConfigError(message: "\(at).port must be 1-65535")) }
            rule.port = number
        }
        if let proto = entry["protocol"] {
            guard let text = proto as? String, let value = FlowProtocol(rawValue: text) else { return .failure(ConfigError(message: "\(at).protocol must be tcp or udp")) }
            rule.proto = value
        }
        if let name = entry["dnsName"] {
            guard let text = name as? String, !text.isEmpty else { return .failure(ConfigError(message: "\(at).dnsName must be a name")) }
            guard rule.host == nil, rule.port == nil, rule.proto == nil else {
                return .failure(ConfigError(message: "\(at): dnsName is a rule of its own (no host, port or protocol)"))
            }
            rule.dnsName = text
        }
        rules.append(rule)
    }
    return .success(FlowRules(rules: rules))
}

func loadRules(from url: URL) -> Result<FlowRules, ConfigError> {
    guard FileManager.default.fileExists(atPath: url.path) else { return .success(.empty) }
    guard let data = try? Data(contentsOf: url) else { return .failure(ConfigError(message: "cannot read \(url.path)")) }
    return parseRules(data)
}

/// A value for a `key=value` log token (contract §5): never empty (`-`), never containing
/// whitespace; `%` is escaped first so the encoding can be undone.
func logValue(_ text: String?) -> String {
    guard let text, !text.isEmpty else { return "-" }
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "%": out += "%25"
        case " ": out += "%20"
        case _ where scalar.properties.isWhitespace || scalar.value < 0x20:
            out += String(scalar).utf8.map { String(format: "%%%02X", $0) }.joined()
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

// MARK: - DNS messages (RFC 1035 §4.1)

/// A DNS message as far as FlowGate reads it: the first question's name, and for a response the
/// A/AAAA addresses of its answers.
struct DNSMessage {
    var isResponse: Bool
    var question: String
    var addresses: [String]
}

/// Parses one DNS message over UDP (no TCP length prefix). Returns nil for anything that is not a
/// well-formed message with at least one question; compression pointers are followed (with a hop
/// limit, so a loop cannot hang the provider).
func parseDNSMessage(_ bytes: [UInt8]) -> DNSMessage? {
    guard bytes.count >= 12 else { return nil }
    func u16(_ at: Int) -> Int? { at + 1 < bytes.count ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : nil }
    let isResponse = bytes[2] & 0x80 != 0
    guard let questions = u16(4), let answers = u16(6), questions >= 1 else { return nil }

    /// The name at `start` and the offset just past it in the message (not past a pointer's target).
    func name(at start: Int) -> (String, Int)? {
        var labels: [String] = []
        var at = start
        var end: Int?
        var hops = 0
        while true {
            guard at < bytes.count else { return nil }
            let length = Int(bytes[at])
            if length == 0 {
                return (labels.joined(separator: "."), end ?? at + 1)
            } else if length & 0xC0 == 0xC0 {
                guard let pointer = u16(at), hops < 16 else { return nil }
                hops += 1
                if end == nil { end = at + 2 }
                at = pointer & 0x3FFF
            } else if length & 0xC0 == 0 {
                guard at + 1 + length <= bytes.count else { return nil }
                labels.append(String(decoding: bytes[(at + 1)..<(at + 1 + length)], as: UTF8.self))
                at += 1 + length
            } else {
                return nil
            }
        }
    }

    guard case let (question, afterName)? = name(at: 12) else { return nil }
    var at = afterName + 4 // QTYPE, QCLASS
    for _ in 1..<questions {
        guard case let (_, next)? = name(at: at) else { return nil }
        at = next + 4
    }
    guard at <= bytes.count else { return nil }
    var addresses: [String] = []
    if isResponse {
        for _ in 0..<answers {
            guard case let (_, next)? = name(at: at), let type = u16(next), let length = u16(next + 8) else { break }
            let data = next + 10
            guard data + length <= bytes.count else { break }
            if type == 1, length == 4 {
                addresses.append(bytes[data..<(data + 4)].map { String($0) }.joined(separator: "."))
            } else if type == 28, length == 16 {
                addresses.append(ipv6Text(Array(bytes[data..<(data + 16)])))
            }
            at = data + length
        }
    }
    return DNSMessage(isResponse: isResponse, question: question, addresses: addresses)
}

/// The text form inet_ntop gives, so it equals what NWHostEndpoint reports for the same address.
func ipv6Text(_ bytes: [UInt8]) -> String {
    var address = in6_addr()
    withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "" }
    return String(cString: buffer)
}
