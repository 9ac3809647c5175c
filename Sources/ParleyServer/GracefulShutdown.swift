import Hummingbird
import Logging
import ServiceLifecycle

/// Runs `parley serve` until SIGTERM or SIGINT, then shuts down in an order that loses nothing:
///
/// 1. Event-stream clients are closed first, each with the id to resume from as the close
///    reason (`{"after":ID}`), while the server still answers: they reconnect, through the
///    proxy, to an instance that stays up.
/// 2. The HTTP server stops accepting connections and finishes the requests in flight.
/// 3. The workers stop taking jobs and finish the ones they hold (an outbox send in progress
///    completes and is recorded).
///
/// Steps 2 and 3 get `configuration.shutdownGrace` together; past that the rest is cancelled,
/// and a send cut short is found by its lease later (resent only where the provider
/// deduplicates, see ``OutboxWorker``).
///
/// 4. The database's connection pool (`pool`, on PostgreSQL) is the group's first service, so
///    it starts before anything queries and stops only after everything above has finished.
///
/// `prepare` runs inside the group, once the pool runs: it migrates and bootstraps, and returns
/// the application to serve.
public func runUntilTerminated(pool: (any Service)?, services: Services,
                               prepare: @escaping @Sendable () async throws -> any Service) async throws {
    var configuration = ServiceGroupConfiguration(
        services: (pool.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? []) + [
            .init(service: PreparedService(prepare: prepare)),
            .init(service: StreamCloser(services: services)),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: services.logger
    )
    configuration.maximumGracefulShutdownDuration = services.configuration.shutdownGrace
    try await ServiceGroup(configuration: configuration).run()
    services.logger.info("stopped")
}

/// Runs what `prepare` returns; a failure while preparing (a migration that cannot be applied)
/// ends the whole group with that error.
struct PreparedService: Service {
    let prepare: @Sendable () async throws -> any Service

    func run() async throws {
        try await prepare().run()
    }
}

/// Waits for the shutdown signal, then closes every WebSocket with its resume id. Listed after
/// the application, so the group shuts it down first (a service group stops services in
/// reverse order) and the server is still up while clients are told where to resume.
struct StreamCloser: Service {
    let services: Services

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        services.logger.info("shutting down: closing event streams, then finishing requests and jobs")
        await services.eventHub.closeAll()
        // Bounded: a client that never reads cannot hold the shutdown up.
        let deadline = ContinuousClock.now + .seconds(3)
        while await services.eventHub.clientCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
