import Foundation
import Logging
import PostgresKit
import PostgresNIO
import ServiceLifecycle
import SQLKit
import Synchronization

/// The server backend: a `PostgresClient` connection pool. Several Parley instances may share
/// one PostgreSQL database.
///
/// The pool works only while its run loop runs. `parley serve` runs it as the first service of
/// its service group (``PostgresPoolService``), so it is stopped last, after every worker has
/// finished with the database; commands and tests that open a database on their own get a run
/// task owned by the backend (``open(url:logger:)``), ended by ``shutdown()``.
public final class PostgresDatabaseBackend: Database {
    public let kind = DatabaseKind.postgres
    public let commits = CommitSignal()
    private let client: PostgresClient
    /// Opens once the run loop is about to start: a lease taken earlier would wait anyway, but
    /// the client warns about it, so leases wait here instead of sleeping a guessed while.
    private let running = StartGate()
    private let ownRun = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The service that runs the pool; run it once (``open(url:logger:)`` runs it itself).
    public var poolService: PostgresPoolService { PostgresPoolService(client: client, running: running) }

    /// Parses a `postgres://user:password@host:port/database` URL into a client configuration.
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw StoreError.invalidDatabaseURL("cannot parse PostgreSQL URL")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard let user = components.user, !user.isEmpty else {
            throw StoreError.invalidDatabaseURL("PostgreSQL URL needs a user name")
        }
        // As libpq: TLS when the server offers it, plain otherwise.
        let tlsMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch tlsMode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        default: throw StoreError.invalidDatabaseURL("sslmode must be disable, prefer or require")
        }
        var config = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding,
            database: database.isEmpty ? nil : database,
            tls: tls
        )
        config.options.maximumConnections = 20
        // Parley's queries name their tables in the order to join them (the driving index
        // first). Without this, planning the inbox's six-table join took ~2 ms of every ~2.5 ms
        // request at a million contacts (EXPLAIN ANALYZE: planning 2.2 ms, execution 0.4 ms);
        // with it, planning takes 0.3 ms.
        config.options.additionalStartupParameters = [("join_collapse_limit", "1")]
        return config
    }

    /// A backend whose pool does not run yet: run ``poolService`` (in a service group) before
    /// or while using it; every read and transaction waits until it does.
    public static func make(url: String, logger: Logger) throws -> PostgresDatabaseBackend {
        PostgresDatabaseBackend(client: PostgresClient(configuration: try configuration(url: url), backgroundLogger: logger), logger: logger)
    }

    /// Opens a backend that runs its own pool until ``shutdown()``, and checks the server answers.
    public static func open(url: String, logger: Logger) async throws -> PostgresDatabaseBackend {
        let backend = try make(url: url, logger: logger)
        let service = backend.poolService
        backend.ownRun.withLock { $0 = Task { await service.run() } }
        do {
            try await backend.checkReachable()
        } catch {
            await backend.shutdown()
            throw error
        }
        return backend
    }

    /// Fails at start rather than on the first request when the server is unreachable.
    private func checkReachable() async throws {
        try await read { db in try await db.raw("SELECT 1").run() }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await running.wait()
        return try await client.withConnection { connection in
            try await body(TextSafeDatabase(base: PostgresSession(connection: connection)))
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await running.wait()
        do {
            let result = try await client.withTransaction(logger: logger) { connection in
                try await body(TextSafeDatabase(base: PostgresSession(connection: connection)))
            }
            commits.signal()
            return result
        } catch let error as PostgresTransactionError {
            // Callers see their own error, as with SQLite; the rollback already happened.
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }

    /// Holds one pooled connection to `LISTEN` on `channel` and hands each notification's payload
    /// to `onNotification`, until the task is cancelled or the connection fails (then it throws;
    /// the caller reconnects and catches up from the table).
    public func listen(channel: String, onListening: @Sendable () async -> Void,
                       onNotification: @Sendable (String) async -> Void) async throws {
        await running.wait()
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                await onListening()
                for try await notification in notifications {
                    await onNotification(notification.payload)
                }
            }
        }
    }

    /// Sends a notification to every listener of `channel`, on every instance.
    public func notify(channel: String, payload: String) async throws {
        _ = try await read { db in
            try await db.raw("SELECT pg_notify(\(bind: channel), \(bind: payload))").run()
        }
    }

    public func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return error.serverInfo?[.sqlState] == "23505"
    }

    /// Ends the pool's run when this backend runs it itself; a pool run by a service group ends
    /// with the group.
    public func shutdown() async {
        guard let task = ownRun.withLock({ $0 }) else { return }
        task.cancel()
        await task.value
    }
}

/// Runs a PostgreSQL backend's connection pool: until cancelled, or until the graceful shutdown
/// of the service group it runs in.
public struct PostgresPoolService: Service {
    let client: PostgresClient
    let running: StartGate

    public func run() async {
        // The client flips its own "running" flag as its first step, before any suspension.
        running.open()
        await client.run()
    }
}

/// Describes an error for the logs without the statement's bound values, which can hold
/// credentials: PostgreSQL errors by their SQLSTATE and server message only.
public func loggableDescription(of error: any Error) -> String {
    if let error = error as? PSQLError {
        let state = error.serverInfo?[.sqlState] ?? "-"
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        return "PostgreSQL error \(state): \(message)"
    }
    return String(describing: error)
}
