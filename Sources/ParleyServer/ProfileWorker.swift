import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore
import ServiceLifecycle

/// Fetches the names of senders whose messages came without one (LINE, Messenger, Instagram,
/// WeChat, Viber) from the provider's profile API. It runs beside the webhooks, never in them:
/// a webhook only marks the identity, and a slow or failing profile API delays nothing and
/// loses nothing (the contact simply stays nameless, and the lookup is retried a few times).
public struct ProfileWorker: Service {
    let services: Services
    let batchSize: Int
    /// How often to look for due lookups without a wake-up (retries, other instances' webhooks).
    let pollInterval: Duration

    public init(services: Services, batchSize: Int = 20, pollInterval: Duration = .seconds(5)) {
        self.services = services
        self.batchSize = batchSize
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await WorkerRounds(signal: services.profileSignal, pollInterval: pollInterval, batchSize: batchSize, services: services,
                           failure: "profile lookups failed").run { try await runOnce() }
    }

    /// Looks up the due profiles once; returns how many were handled.
    @discardableResult
    public func runOnce() async throws -> Int {
        let due = try await services.profiles.claim(limit: batchSize, now: services.clock.now())
        for item in due {
            guard let stored = try await services.channels.providerConfig(channelId: item.channelId),
                  let adapter = services.channelRuntime.adapters[stored.kind] as? any ProfileFetching else {
                try await services.profiles.finished(item)
                continue
            }
            let channel = services.channelRuntime.config(stored, publicURL: services.configuration.publicURL)
            switch await adapter.fetchProfile(externalId: item.externalId, channel: channel, http: services.channelRuntime.http) {
            case .found(let profile):
                try await services.profiles.found(item, firstName: profile.firstName, lastName: profile.lastName,
                                                  displayName: profile.displayName ?? "", at: services.clock.now())
                services.count("profile_lookups", help: "Contact profile lookups", labels: [("outcome", "found")])
            case .none:
                try await services.profiles.finished(item)
                services.count("profile_lookups", help: "Contact profile lookups", labels: [("outcome", "none")])
            case .retry(let detail):
                try await services.profiles.retryLater(item, at: services.clock.now())
                services.logger.info("profile lookup to be retried", metadata: ["channel": "\(item.channelId)", "detail": "\(detail)"])
                services.count("profile_lookups", help: "Contact profile lookups", labels: [("outcome", "retry")])
            }
        }
        return due.count
    }
}
