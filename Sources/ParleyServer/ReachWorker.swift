import Foundation
import ParleyCore
import ParleyStore
import ServiceLifecycle

/// The clock-driven side of reaching contacts: queued messages whose time ran out are marked
/// expired (the timeline says so), and closing-soon reminders that are due become
/// notifications. Both are claimed by conditional updates, so several instances may run it.
public struct ReachWorker: Service {
    let services: Services
    let pollInterval: Duration
    static let batchSize = 200

    public init(services: Services, pollInterval: Duration = .seconds(1)) {
        self.services = services
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await WorkerRounds(signal: services.reminderSignal, pollInterval: pollInterval, batchSize: Self.batchSize, services: services,
                           failure: "queued message expiry or reminders failed").run { try await runOnce() }
    }

    /// One round; returns how many queued messages expired (a full batch asks for another round).
    @discardableResult
    public func runOnce() async throws -> Int {
        let now = services.clock.now()
        _ = try await services.reminders.fireDue(at: now)
        return try await services.queued.expireDue(limit: Self.batchSize, at: now)
    }
}
