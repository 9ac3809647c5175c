import Foundation
import Logging
import ParleyChannels
import ParleyCore
import ParleyStore
import ServiceLifecycle

/// Reads each email channel's mailbox over IMAP: what arrived after the last UID taken in,
/// oldest first, one message at a time stored and then counted as read, so a restart
/// neither loses nor repeats mail and a backlog is caught up batch after batch. A lease in the
/// database lets several instances run pollers while one reads each mailbox.
struct EmailPoller: Service {
    let services: Services
    let interval: Duration
    static let batch = 50
    static let maxSize = 25 << 20

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for channelId in try await services.email.channelIds() {
                    guard !Task.isCancelled else { break }
                    await poll(channelId: channelId)
                }
            } catch {
                services.logger.warning("email polling could not list channels", metadata: ["error": "\(loggableDescription(of: error))"])
            }
            // A shutdown must not wait out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Polls one mailbox until it has nothing new (or fails); returns how many messages were taken in.
    @discardableResult
    func poll(channelId: Int64) async -> Int {
        guard let config = try? await services.channels.providerConfig(channelId: channelId), config.kind == .email,
              let settings = try? EmailAdapter.Settings(config.credentials), let imap = settings.imap else { return 0 }
        do {
            try await services.networkTargets.check(host: imap.endpoint.host)
        } catch {
            // A refused server is never contacted; saving the channel would have said so already.
            services.logger.warning("email polling refused the IMAP server", metadata: ["channel": "\(channelId)", "error": "\(error.description)"])
            return 0
        }
        let lease = TimeInterval(imap.endpoint.timeout.components.seconds) * 4
        guard var position = try? await services.email.claimMailbox(channelId: channelId, lease: lease, at: services.clock.now()) else { return 0 }
        var taken = 0
        var failure: String?
        do {
            while true {
                let (mailbox, messages) = try await imap.fetchNew(after: position.lastUID, knownValidity: position.uidValidity,
                                                                  limit: Self.batch, maxSize: Self.maxSize)
                if mailbox.uidValidity != position.uidValidity {
                    // The folder was renumbered: read it all again; Message-IDs keep it from repeating.
                    position = .init(uidValidity: mailbox.uidValidity, lastUID: 0)
                }
                for message in messages {
                    _ = try await EmailIngest(services: services).ingest(message.raw, channel: config, truncatedSize: message.truncated ? message.size : nil)
                    position.lastUID = message.uid
                    try await services.email.advanceMailbox(channelId: channelId, to: position, at: services.clock.now())
                    taken += 1
                    services.count("emails_received", help: "Emails taken in", labels: [("via", "imap")])
                }
                try await services.email.advanceMailbox(channelId: channelId, to: position, at: services.clock.now())
                if messages.count < Self.batch { break }
            }
        } catch {
            failure = "\(error)"
            services.logger.warning("email polling failed", metadata: ["channel": "\(channelId)", "error": "\(loggableDescription(of: error))"])
        }
        try? await services.email.releaseMailbox(channelId: channelId, error: failure, at: services.clock.now())
        return taken
    }
}
