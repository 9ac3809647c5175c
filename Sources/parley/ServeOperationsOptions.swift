import ArgumentParser
import Foundation
import ParleyServer
import ParleyStore

extension Serve {
    /// The options for running several instances behind a proxy: which proxies to believe and
    /// how long a shutdown may take.
    func applyOperationsOptions(to configuration: inout ServerConfiguration) throws {
        let list = trustedProxies.isEmpty ? Environment.value("PARLEY_TRUSTED_PROXIES") ?? "" : trustedProxies.joined(separator: ",")
        switch TrustedProxies.parse(list) {
        case .success(let proxies): configuration.trustedProxies = proxies
        case .failure(let invalid): throw ValidationError("--trusted-proxy / PARLEY_TRUSTED_PROXIES: \(invalid)")
        }
        let grace = try shutdownGrace ?? Environment.seconds("PARLEY_SHUTDOWN_GRACE") ?? 20
        guard (0...3600).contains(grace) else { throw ValidationError("the shutdown grace must be 0 to 3600 seconds") }
        configuration.shutdownGrace = .milliseconds(Int64(grace * 1000))
        if let raw = Environment.value("PARLEY_OUTBOX_LEASE_SECONDS") {
            guard let seconds = Double(raw), (OutboxRepository.shortestLease...3600).contains(seconds) else {
                throw ValidationError("PARLEY_OUTBOX_LEASE_SECONDS must be \(Int(OutboxRepository.shortestLease)) to 3600 seconds")
            }
            configuration.outboxLease = seconds
        }
        configuration.maxConnections = try maxConnections ?? Environment.value("PARLEY_MAX_CONNECTIONS").map { raw in
            guard let count = Int(raw) else { throw ValidationError("PARLEY_MAX_CONNECTIONS must be a number") }
            return count
        }
        if let count = configuration.maxConnections, count < 1 { throw ValidationError("the connection limit must be at least 1") }
        if let idle = try idleTimeout ?? Environment.seconds("PARLEY_IDLE_TIMEOUT") {
            guard (1...3600).contains(idle) else { throw ValidationError("the idle timeout must be 1 to 3600 seconds") }
            configuration.idleTimeout = .milliseconds(Int64(idle * 1000))
        }
        configuration.allowPrivateTargets = allowPrivateTargets || Environment.value("PARLEY_ALLOW_PRIVATE_TARGETS") == "1"
    }
}
