// FlowGate's filter data provider: sees every new socket flow, drops those a configured rule
// matches, reads the question of DNS queries on port 53 and drops those for a `dnsName` rule.
// Every verdict is one unified-log line (dext-fixtures/es-ne-contract.md §5; subsystem: the
// bundle id, com.example.flowgate unless built under another; category filter) that dextbench's
// ne.expect step reads.

import Foundation
import NetworkExtension
import os

let bundleId = Bundle.main.bundleIdentifier ?? "com.example.flowgate"
// dextbench follows a filter's lines under its bundle id, so a copy built under your own id still works.
let logger = Logger(subsystem: bundleId, category: "filter")

// MARK: - Log lines (contract §5; test/unit/fixtures-es-ne.test.ts reads these format strings)

enum FilterLog {
    static func started(rules: Int) {
        logger.log("FlowGate started rules=\(rules, privacy: .public)")
    }

    static func verdict(_ verdict: String, proto: String, remote: String, hostname: String, pid: pid_t) {
        logger.log("verdict=\(verdict, privacy: .public) protocol=\(proto, privacy: .public) remote=\(remote, privacy: .public) hostname=\(hostname, privacy: .public) pid=\(pid, privacy: .public)")
    }

    static func dnsVerdict(_ verdict: String, name: String, pid: pid_t) {
        logger.log("dns verdict=\(verdict, privacy: .public) name=\(name, privacy: .public) pid=\(pid, privacy: .public)")
    }

    static func config(_ text: String) {
        logger.log("config \(text, privacy: .public)")
    }

    static func configError(_ text: String) {
        logger.error("config error \(text, privacy: .public)")
    }
}

// MARK: - Shared state

/// Rules (re-read by the config watcher) and the addresses DNS answers gave for names, used by
/// the provider's callbacks, which NetworkExtension may run on several queues.
final class FilterState {
    private let lock = NSLock()
    private var rules = FlowRules.empty
    private var namesByAddress: [String: String] = [:]

    var current: FlowRules {
        lock.lock()
        defer { lock.unlock() }
        return rules
    }

    func replaceRules(_ next: FlowRules) {
        lock.lock()
        rules = next
        lock.unlock()
    }

    /// Apps that resolve with getaddrinfo and connect to an address (curl, nc) give the filter no
    /// remoteHostname; the name their resolver asked for is the best one FlowGate can match a
    /// `host` rule on. Inference: the DNS flows of mDNSResponder pass through the filter, as
    /// LuLu users' experience suggests (driverkit-rigs-es-ne.md §D.4).
    func remember(name: String, for addresses: [String]) {
        lock.lock()
        defer { lock.unlock() }
        if namesByAddress.count > 4096 { namesByAddress.removeAll() } // a bound, not an LRU: names come back with the next lookup
        for address in addresses { namesByAddress[address] = name }
    }

    func name(for address: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return namesByAddress[address]
    }
}

let state = FilterState()
let configFile = configURL(bundle: bundleId)

func reloadRules() {
    switch loadRules(from: configFile) {
    case .success(let rules):
        guard rules != state.current else { return }
        state.replaceRules(rules)
        FilterLog.config("loaded file=\(logValue(configFile.path)) rules=\(rules.rules.count)")
    case .failure(let error):
        FilterLog.configError("file=\(logValue(configFile.path)) \(error.message); keeping the previous rules")
    }
}

// MARK: - Flow facts

/// An audit token's pid is its val[5] (what libbsm's audit_token_to_pid returns; not linked here).
func pid(of flow: NEFilterFlow) -> pid_t {
    var token: Data?
    if #available(macOS 13.0, *) { token = flow.sourceProcessAuditToken }
    if token == nil { token = flow.sourceAppAuditToken }
    guard let token, token.count == MemoryLayout<audit_token_t>.size else { return -1 }
    return token.withUnsafeBytes { $0.load(as: audit_token_t.self) }.val.5
}

struct FlowFacts {
    let address: String
    let port: Int
    let proto: FlowProtocol
    let hostname: String?
    let pid: pid_t

    var remote: String { "\(address):\(port)" }
}

func facts(of flow: NEFilterSocketFlow) -> FlowFacts? {
    let proto: FlowProtocol
    switch flow.socketProtocol {
    case IPPROTO_TCP: proto = .tcp
    case IPPROTO_UDP: proto = .udp
    default: return nil
    }
    // remoteEndpoint (NWHostEndpoint) is deprecated from macOS 15 in favour of remoteFlowEndpoint,
    // but is what macOS 11–14 have; its hostname is the address as text.
    guard let endpoint = flow.remoteEndpoint as? NWHostEndpoint, let port = Int(endpoint.port) else { return nil }
    let hostname = flow.remoteHostname ?? state.name(for: endpoint.hostname)
    return FlowFacts(address: endpoint.hostname, port: port, proto: proto, hostname: hostname, pid: pid(of: flow))
}

// MARK: - The provider

/// DNS messages are small; a query's question fits well inside this (RFC 1035: 512 over UDP
/// without EDNS), and so do the answers FlowGate reads addresses from.
let dnsPeekBytes = 1500

final class FilterDataProvider: NEFilterDataProvider {
    private var watcher: ConfigWatcher?

    override func startFilter(completionHandler: @escaping (Error?) -> Void) {
        reloadRules()
        // Every flow, both directions, any protocol, goes to handleNewFlow.
        let everything = NENetworkRule(remoteNetwork: nil, remotePrefix: 0, localNetwork: nil, localPrefix: 0,
                                       protocol: .any, direction: .any)
        let settings = NEFilterSettings(rules: [NEFilterRule(networkRule: everything, action: .filterData)],
                                        defaultAction: .filterData)
        apply(settings) { error in
            if let error {
                logger.error("FlowGate failed: apply settings \(error.localizedDescription, privacy: .public)")
            } else {
                FilterLog.started(rules: state.current.rules.count)
                let watcher = ConfigWatcher(file: configFile, onChange: reloadRules)
                watcher.start()
                self.watcher = watcher
            }
            completionHandler(error)
        }
    }

    override func stopFilter(with reason: NEProviderStopReason, completionHandler: @escaping () -> Void) {
        watcher?.stop()
        watcher = nil
        completionHandler()
    }

    override func handleNewFlow(_ flow: NEFilterFlow) -> NEFilterNewFlowVerdict {
        guard let socketFlow = flow as? NEFilterSocketFlow, let facts = facts(of: socketFlow) else { return .allow() }
        let verdict = state.current.verdict(remoteAddress: facts.address, hostname: facts.hostname, port: facts.port, proto: facts.proto)
        FilterLog.verdict(verdict.rawValue, proto: facts.proto.rawValue, remote: logValue(facts.remote),
                          hostname: logValue(facts.hostname), pid: facts.pid)
        if verdict == .drop { return .drop() }
        if facts.proto == .udp, facts.port == 53 {
            // DNS: decide per question (outbound) and learn names for addresses (inbound answers).
            return .filterDataVerdict(withFilterInbound: true, peekInboundBytes: dnsPeekBytes,
                                      filterOutbound: true, peekOutboundBytes: dnsPeekBytes)
        }
        return .allow()
    }

    override func handleOutboundData(from flow: NEFilterFlow, readBytesStartOffset offset: Int, readBytes: Data) -> NEFilterDataVerdict {
        // Inference: for UDP, readBytes starts with one datagram; a message FlowGate cannot parse
        // is allowed (fail open), so a parsing gap never takes DNS down.
        guard let message = parseDNSMessage(Array(readBytes)), !message.isResponse else {
            return NEFilterDataVerdict(passBytes: readBytes.count, peekBytes: dnsPeekBytes)
        }
        let verdict = state.current.verdict(question: message.question)
        FilterLog.dnsVerdict(verdict.rawValue, name: logValue(message.question), pid: pid(of: flow))
        if verdict == .drop { return .drop() }
        // Keep peeking: a resolver may send further queries on the same socket.
        return NEFilterDataVerdict(passBytes: readBytes.count, peekBytes: dnsPeekBytes)
    }

    override func handleInboundData(from flow: NEFilterFlow, readBytesStartOffset offset: Int, readBytes: Data) -> NEFilterDataVerdict {
        if let message = parseDNSMessage(Array(readBytes)), message.isResponse, !message.addresses.isEmpty {
            state.remember(name: message.question, for: message.addresses)
        }
        return NEFilterDataVerdict(passBytes: readBytes.count, peekBytes: dnsPeekBytes)
    }
}

// MARK: - Config watch

/// Watches the config folder (the file appears, is replaced or removed) and the file itself
/// (rewritten in place); every event calls onChange and re-arms, since a replaced file is a new
/// inode. Until the folder exists it is looked for every 2 s (dextbench creates it as the rig
/// user, contract §2; FlowGate runs as root and leaves it alone).
final class ConfigWatcher {
    private let file: URL
    private let onChange: () -> Void
    private let queue = DispatchQueue(label: "com.example.flowgate.config")
    private var sources: [DispatchSourceFileSystemObject] = []
    private var stopped = false

    init(file: URL, onChange: @escaping () -> Void) {
        self.file = file
        self.onChange = onChange
    }

    func start() {
        queue.async { self.arm() }
    }

    func stop() {
        queue.async {
            self.stopped = true
            self.sources.forEach { $0.cancel() }
            self.sources = []
        }
    }

    private func arm() {
        sources.forEach { $0.cancel() }
        sources = []
        guard !stopped else { return }
        guard let folderSource = watch(file.deletingLastPathComponent().path, [.write, .delete, .rename]) else {
            queue.asyncAfter(deadline: .now() + 2) { [weak self] in
                guard let self, !self.stopped else { return }
                self.onChange()
                self.arm()
            }
            return
        }
        sources.append(folderSource)
        if let fileSource = watch(file.path, [.write, .extend, .delete, .rename, .attrib]) {
            sources.append(fileSource)
        }
    }

    private func watch(_ path: String, _ mask: DispatchSource.FileSystemEvent) -> DispatchSourceFileSystemObject? {
        let fd = open(path, O_EVTONLY)
        guard fd >= 0 else { return nil }
        let source = DispatchSource.makeFileSystemObjectSource(fileDescriptor: fd, eventMask: mask, queue: queue)
        source.setEventHandler { [weak self] in
            self?.onChange()
            self?.arm()
        }
        source.setCancelHandler { close(fd) }
        source.resume()
        return source
    }
}
