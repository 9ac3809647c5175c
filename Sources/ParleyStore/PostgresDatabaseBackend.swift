import Foundation
import Logging
import PostgresKit
import PostgresNIO
import SQLKit

/// The server backend: a `PostgresClient` connection pool. Several Parley instances may share
/// one PostgreSQL database.
public final class PostgresDatabaseBackend: Database {
    public let kind = DatabaseKind.postgres
    public let commits = CommitSignal()
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, runTask: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runTask = runTask
        self.logger = logger
    }

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

    public static func open(url: String, logger: Logger) async throws -> PostgresDatabaseBackend {
        let client = PostgresClient(configuration: try configuration(url: url), backgroundLogger: logger)
        let runTask = Task { await client.run() }
        // Let the client's run loop start before the first lease (otherwise it warns that
        // run() has not been called yet).
        try? await Task.sleep(for: .milliseconds(20))
        let backend = PostgresDatabaseBackend(client: client, runTask: runTask, logger: logger)
        do {
            // Fail at start rather than on the first request when the server is unreachable.
            try await backend.read { db in try await db.raw("SELECT 1").run() }
        } catch {
            await backend.shutdown()
            throw error
        }
        return backend
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(TextSafeDatabase(base: connection.sql(queryLogLevel: nil)))
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            let result = try await client.withTransaction(logger: logger) { connection in
                try await body(TextSafeDatabase(base: connection.sql(queryLogLevel: nil)))
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
        try await client.withConnection { connection in
            let notifications = try await connection.listen(channel)
            await onListening()
            for try await notification in notifications {
                await onNotification(notification.payload)
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

    public func shutdown() async {
        runTask.cancel()
        _ = await runTask.value
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
