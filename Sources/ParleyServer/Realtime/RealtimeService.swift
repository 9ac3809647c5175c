import Foundation
import Logging
import ParleyStore
import ServiceLifecycle

/// Feeds the event hub: wakes on the bus, reads each new event once, hydrates it and hands it
/// to the hub; re-announces presence; prunes old events and expired tickets.
public struct RealtimeService: Service {
    let services: Services
    let batchSize = 500
    /// A safety net: the bus wakes the pump at once, but a lost notification (a listener
    /// reconnecting) is caught up within this.
    let pollInterval: Duration = .seconds(1)

    public init(services: Services) {
        self.services = services
    }

    public func run() async throws {
        let hub = services.eventHub
        let bus: any EventBus = if let postgres = services.database as? PostgresDatabaseBackend {
            PostgresEventBus(database: postgres, logger: services.logger)
        } else {
            LocalEventBus(database: services.database)
        }
        var start: EventPosition?
        while start == nil, !Task.isCancelled {
            do { start = try await services.eventFeed.head() } catch {
                services.logger.error("event stream cannot read the events table", metadata: ["error": "\(loggableDescription(of: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        guard let start else { return }
        await hub.start(at: start, bus: bus)
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await bus.run(wake: { wake.yield() }, receive: { await hub.receive($0) }) }
                group.addTask { await pump(from: start, wakes: wakes, wake: wake) }
                group.addTask {
                    var beats = 0
                    while !Task.isCancelled {
                        try? await Task.sleep(for: pollInterval)
                        wake.yield()
                        beats += 1
                        if beats % 30 == 0 { await hub.heartbeat() }
                        if beats % 3600 == 1 { await prune() }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        // Clients close with the id to resume from, and reconnect to another instance.
        await hub.closeAll()
    }

    private func pump(from start: EventPosition, wakes: AsyncStream<Void>, wake: AsyncStream<Void>.Continuation) async {
        let hydrator = EventHydrator(services: services)
        var position = start
        for await _ in wakes {
            do {
                while true {
                    let batch = try await services.eventFeed.read(after: position, limit: batchSize)
                    if let last = batch.events.last {
                        await services.eventHub.deliver(try await hydrator.hydrate(batch.events), through: last.position)
                        position = last.position
                    }
                    if batch.events.count == batchSize { continue }
                    if batch.heldBack {
                        // An older transaction is still running; look again shortly.
                        try? await Task.sleep(for: .milliseconds(5))
                        wake.yield()
                    }
                    break
                }
            } catch {
                // A shutdown cancels a read in flight; that is no failure.
                if Task.isCancelled { return }
                services.logger.error("event stream read failed", metadata: ["error": "\(loggableDescription(of: error))"])
                try? await Task.sleep(for: .milliseconds(500))
                wake.yield()
            }
        }
    }

    private func prune() async {
        let now = services.clock.now()
        do {
            let events = try await services.eventFeed.prune(olderThan: now.addingTimeInterval(-services.configuration.eventRetention))
            let tokens = try await services.oneTimeTokens.prune(at: now)
            if events + tokens > 0 {
                services.logger.info("pruned", metadata: ["events": "\(events)", "tickets": "\(tokens)"])
            }
        } catch is CancellationError {
            return
        } catch {
            services.logger.error("pruning failed", metadata: ["error": "\(loggableDescription(of: error))"])
        }
    }
}
