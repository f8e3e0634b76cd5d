// ExecGuard: an Endpoint Security system extension that denies exec of the paths and signing ids
// listed in its dextbench config (/Users/Shared/dextbench/config/<bundle>.json,
// dext-fixtures/es-ne-contract.md §2) and logs every decision in the lines of contract §5
// (subsystem: the bundle id, com.example.execguard unless built under another; category policy).
// dextbench's es.* steps and the simulated Mac's ES model read those lines.
//
// Runs as root, launched by sysextd once DextbenchActivator (or any app containing it) has
// activated it; needs com.apple.developer.endpoint-security.client and Full Disk Access.

import EndpointSecurity
import Foundation
import os

let bundleId = Bundle.main.bundleIdentifier ?? "com.example.execguard"
// dextbench reads an ES client's lines under its bundle id, so a copy built under your own id still works.
let logger = Logger(subsystem: bundleId, category: "policy")

// MARK: - Log lines (contract §5; test/unit/fixtures-es-ne.test.ts reads these format strings)

enum PolicyLog {
    static func started() {
        logger.log("ExecGuard started: es_new_client ES_NEW_CLIENT_RESULT_SUCCESS")
    }

    static func failed(_ result: String) {
        logger.error("ExecGuard failed: es_new_client \(result, privacy: .public)")
    }

    static func deny(path: String, signingId: String, pid: pid_t, rule: String) {
        logger.log("deny exec path=\(path, privacy: .public) signing_id=\(signingId, privacy: .public) pid=\(pid, privacy: .public) rule=\(rule, privacy: .public)")
    }

    static func allow(path: String, signingId: String, pid: pid_t, cached: Bool) {
        logger.log("allow exec path=\(path, privacy: .public) signing_id=\(signingId, privacy: .public) pid=\(pid, privacy: .public) cached=\(cached, privacy: .public)")
    }

    static func config(_ text: String) {
        logger.log("config \(text, privacy: .public)")
    }

    static func configError(_ text: String) {
        logger.error("config error \(text, privacy: .public)")
    }
}

// MARK: - es_new_client results (driverkit-rigs-es-ne.md §D.1)

let newClientResultNames: [(es_new_client_result_t, String)] = [
    (ES_NEW_CLIENT_RESULT_SUCCESS, "ES_NEW_CLIENT_RESULT_SUCCESS"),
    (ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT, "ES_NEW_CLIENT_RESULT_ERR_INVALID_ARGUMENT"),
    (ES_NEW_CLIENT_RESULT_ERR_INTERNAL, "ES_NEW_CLIENT_RESULT_ERR_INTERNAL"),
    (ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED, "ES_NEW_CLIENT_RESULT_ERR_NOT_ENTITLED"),
    (ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED, "ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED"),
    (ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED, "ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED"),
    (ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS, "ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS"),
]

/// A result a newer SDK adds still gets a name the harness can show.
func name(of result: es_new_client_result_t) -> String {
    newClientResultNames.first { $0.0 == result }?.1 ?? "ES_NEW_CLIENT_RESULT_\(result.rawValue)"
}

// MARK: - Policy state

/// The policy is read on the config queue and used on ES's handler queue.
final class PolicyStore {
    private let lock = NSLock()
    private var policy = ExecPolicy.empty
    /// False while the config file is unreadable or invalid: the last good policy stays in force,
    /// but allows are not cached so the fixed file applies at once.
    private var configValid = true

    func snapshot() -> (ExecPolicy, Bool) {
        lock.lock()
        defer { lock.unlock() }
        return (policy, configValid)
    }

    /// Returns true when the policy changed.
    func update(_ result: Result<ExecPolicy, ConfigError>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        switch result {
        case .success(let next):
            let changed = next != policy || !configValid
            policy = next
            configValid = true
            return changed
        case .failure:
            let changed = configValid
            configValid = false
            return changed
        }
    }
}

let store = PolicyStore()
let configFile = configURL(bundle: bundleId)
var client: OpaquePointer?

func text(_ token: es_string_token_t) -> String {
    guard token.length > 0, let data = token.data else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: token.length), as: UTF8.self)
}

// MARK: - AUTH_EXEC

// Caching. es_respond_auth_result(..., cache: true) lets ES answer later execs of the same
// executable file from its cache without asking ExecGuard again (and without a log line).
// - Denies are never cached: every attempt is logged (the harness's es.exec: denied step waits
//   for that line), and a rule removed from the config applies on the next exec.
// - Allows are cached: most execs on a Mac are allowed, and asking user space for each is the
//   slow path. The cache then has to be emptied whenever the policy changes, or a newly denied
//   path would still run from the cache: reloadConfig() calls es_clear_cache.
// - While the config file is invalid, allows are not cached (`cached=false`), so the fixed file
//   takes effect without waiting for a cache clear.
func handleExec(_ client: OpaquePointer, _ message: UnsafePointer<es_message_t>) {
    let target = message.pointee.event.exec.target.pointee
    var path = text(target.executable.pointee.path)
    // For `#!` scripts the new image is the interpreter; the script itself (message version 2+)
    // is what a rule naming the script means.
    if message.pointee.version >= 2, let script = message.pointee.event.exec.script {
        path = text(script.pointee.path)
    }
    let signingId = text(target.signing_id)
    let pid = audit_token_to_pid(target.audit_token)
    let (policy, configValid) = store.snapshot()

    switch policy.decide(path: path, signingId: signingId.isEmpty ? nil : signingId) {
    case .deny(let rule):
        es_respond_auth_result(client, message, ES_AUTH_RESULT_DENY, false)
        PolicyLog.deny(path: logValue(path), signingId: logValue(signingId), pid: pid, rule: rule)
    case .allow:
        let cache = configValid
        es_respond_auth_result(client, message, ES_AUTH_RESULT_ALLOW, cache)
        PolicyLog.allow(path: logValue(path), signingId: logValue(signingId), pid: pid, cached: cache)
    }
}

// MARK: - Config: read at start, re-read on change

func reloadConfig() {
    let result = loadPolicy(from: configFile)
    guard store.update(result) else { return }
    switch result {
    case .success(let policy):
        PolicyLog.config("loaded file=\(logValue(configFile.path)) denyExec=\(policy.denyPaths.count) denySigningIds=\(policy.denySigningIds.count)")
    case .failure(let error):
        PolicyLog.configError("file=\(logValue(configFile.path)) \(error.message); keeping the previous rules")
    }
    // Allowed results may be cached (see handleExec): drop them so the new rules apply to the next exec.
    if let client, es_clear_cache(client) != ES_CLEAR_CACHE_RESULT_SUCCESS {
        PolicyLog.configError("es_clear_cache failed; cached allows stay until they expire")
    }
}

/// Watches the config folder (the file appears, is replaced or removed) and the file itself
/// (rewritten in place). Every event re-reads the file and re-arms, since a replaced file is a new
/// inode. The folder is not created here: ExecGuard runs as root, and dextbench writes it as the
/// rig user (contract §2); until it exists, it is looked for every 2 s.
final class ConfigWatcher {
    private let queue = DispatchQueue(label: "com.example.execguard.config")
    private var sources: [DispatchSourceFileSystemObject] = []

    func start() {
        queue.async { self.arm() }
    }

    private func arm() {
        sources.forEach { $0.cancel() }
        sources = []
        let folder = configFile.deletingLastPathComponent().path
        guard let folderSource = watch(folder, [.write, .delete, .rename]) else {
            queue.asyncAfter(deadline: .now() + 2) { reloadConfig(); self.arm() }
            return
        }
        sources.append(folderSource)
        if let fileSource = watch(configFile.path, [.write, .extend, .delete, .rename, .attrib]) {
            sources.append(fileSource)
        }
    }

    private func watch(_ path: String, _ mask: DispatchSource.FileSystemEvent) -> DispatchSourceFileSystemObject? {
        let fd = open(path, O_EVTONLY)
        guard fd >= 0 else { return nil }
        let source = DispatchSource.makeFileSystemObjectSource(fileDescriptor: fd, eventMask: mask, queue: queue)
        source.setEventHandler { [weak self] in
            reloadConfig()
            self?.arm()
        }
        source.setCancelHandler { close(fd) }
        source.resume()
        return source
    }
}

// MARK: - Main

// The policy is in force before the first AUTH message can arrive.
_ = store.update(loadPolicy(from: configFile))

let result = es_new_client(&client) { client, message in
    switch message.pointee.event_type {
    case ES_EVENT_TYPE_AUTH_EXEC:
        handleExec(client, message)
    default:
        // Only AUTH_EXEC is subscribed; an AUTH message left unanswered would stall the process
        // until its deadline, so anything else that is AUTH is allowed, uncached.
        if message.pointee.action_type == ES_ACTION_TYPE_AUTH {
            es_respond_auth_result(client, message, ES_AUTH_RESULT_ALLOW, false)
        }
    }
}
guard result == ES_NEW_CLIENT_RESULT_SUCCESS, let esClient = client else {
    // NOT_PERMITTED: no Full Disk Access (TCC) for this extension; NOT_PRIVILEGED: not root;
    // NOT_ENTITLED: signed without com.apple.developer.endpoint-security.client. dextbench's
    // es.client step maps the name to its fix. sysextd relaunches an extension that exits.
    PolicyLog.failed(name(of: result))
    exit(EXIT_FAILURE)
}

var events = [ES_EVENT_TYPE_AUTH_EXEC]
guard es_subscribe(esClient, &events, UInt32(events.count)) == ES_RETURN_SUCCESS else {
    logger.error("ExecGuard failed: es_subscribe AUTH_EXEC")
    es_delete_client(esClient)
    exit(EXIT_FAILURE)
}
PolicyLog.started()
let policyNow = store.snapshot().0
PolicyLog.config("loaded file=\(logValue(configFile.path)) denyExec=\(policyNow.denyPaths.count) denySigningIds=\(policyNow.denySigningIds.count)")
let watcher = ConfigWatcher()
watcher.start()

dispatchMain()
