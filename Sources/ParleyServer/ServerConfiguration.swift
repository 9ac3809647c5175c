import Foundation
import ParleyStore

/// How a Parley server is set up. Filled from command-line options and `PARLEY_*` variables.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The address providers and browsers reach this server at; webhook URLs are built from it.
    public var publicURL: String
    public var bcryptCost: UInt8
    /// How long a login session token lasts.
    public var sessionLifetime: TimeInterval
    /// How long events are kept for clients to resume from (then pruned).
    public var eventRetention: TimeInterval
    /// Where the SMTP listener for inbound email listens (`--smtp-port`); nil: no listener.
    public var smtpPort: Int? = nil
    /// How often email channels' mailboxes are read over IMAP.
    public var emailPollInterval: Duration = .seconds(30)
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`); none by default.
    public var trustedProxies: TrustedProxies = .none
    /// How long a SIGTERM waits for requests and workers to finish before cancelling them.
    public var shutdownGrace: Duration = .seconds(20)
    /// How long a send cut short by a crash holds its outbox row before it is concluded
    /// (`PARLEY_OUTBOX_LEASE_SECONDS`; at least ``OutboxRepository/shortestLease``).
    public var outboxLease: TimeInterval = OutboxRepository.defaultLease
    /// The most attachment bytes one workspace keeps (`PARLEY_WORKSPACE_STORAGE_MB`).
    public var workspaceStorageQuota: Int64 = 5 << 30
    /// Outbound connections (channels' `apiBaseUrl`, attachment downloads, workflow HTTP steps)
    /// may go to loopback and private addresses (`--allow-private-targets`,
    /// `PARLEY_ALLOW_PRIVATE_TARGETS=1`); off by default. See ``NetworkTargetPolicy``.
    public var allowPrivateTargets = false
    /// The most client connections (HTTP and WebSocket) open at once (`--max-connections`,
    /// `PARLEY_MAX_CONNECTIONS`); nil, or more than the descriptor limit leaves room for, means
    /// that room (see ``DescriptorLimit``).
    public var maxConnections: Int? = nil
    /// How long a connection may go without sending a complete request head, from when it
    /// opens or from its last response, before it is closed (`--idle-timeout`,
    /// `PARLEY_IDLE_TIMEOUT`). Longer than the 60 s a proxy in front commonly keeps an idle
    /// connection, so that the proxy, not Parley, closes first.
    public var idleTimeout: Duration = .seconds(75)

    /// How many connections the server accepts at once under `descriptors` open descriptors.
    public func connectionLimit(descriptors: Int = DescriptorLimit.current()) -> Int {
        let room = DescriptorLimit.connectionBudget(limit: descriptors)
        return min(maxConnections ?? room, room)
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        publicURL: String? = nil,
        bcryptCost: UInt8 = 12,
        sessionLifetime: TimeInterval = 30 * 24 * 3600,
        eventRetention: TimeInterval = 7 * 24 * 3600
    ) {
        self.eventRetention = eventRetention
        self.host = host
        self.port = port
        self.publicURL = (publicURL ?? "http://\(host):\(port)").trimmingTrailingSlash
        self.bcryptCost = bcryptCost
        self.sessionLifetime = sessionLifetime
    }
}

extension String {
    var trimmingTrailingSlash: String {
        var value = self
        while value.hasSuffix("/") { value.removeLast() }
        return value
    }
}
