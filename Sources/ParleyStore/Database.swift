import Logging
import SQLKit

/// Which SQL engine a ``Database`` talks to. Every difference between the two is decided in
/// ``SQLDialectFacts``; nothing else in the store switches on this.
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// Errors raised by the store.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidDatabaseURL(String)
    case migrationFailed(version: Int, reason: String)
    case notFound(String)
    case conflict(String)

    public var description: String {
        switch self {
        case .invalidDatabaseURL(let reason): return "invalid database URL: \(reason)"
        case .migrationFailed(let version, let reason): return "migration \(version) failed: \(reason)"
        case .notFound(let what): return "\(what) not found"
        case .conflict(let what): return what
        }
    }
}

/// The one database abstraction the rest of Parley uses: reads on any connection, writes in a
/// transaction that commits when the closure returns and rolls back when it throws. Both
/// backends behave the same from the caller's side.
public protocol Database: Sendable {
    var kind: DatabaseKind { get }

    /// Runs `body` with a connection for reading. Not transactional.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` inside one transaction.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Signalled after each committed write transaction of this process.
    var commits: CommitSignal { get }

    /// Closes every connection. The database must not be used afterwards.
    func shutdown() async

    /// Whether `error` is a unique-constraint violation: a concurrent writer got there first,
    /// and the operation may be retried to find what it wrote.
    func isUniqueViolation(_ error: any Error) -> Bool
}

extension Database {
    /// Dialect facts of this database's engine.
    public var facts: SQLDialectFacts { SQLDialectFacts(kind: kind) }
}

/// Opens the database named by a URL: `sqlite://PATH` (relative or absolute path;
/// `sqlite:///abs/path` also works) or `postgres://user:pass@host:port/db`.
public enum DatabaseFactory {
    /// Opens the database for a command or a test: it runs whatever it needs until `shutdown()`.
    public static func open(url: String, logger: Logger) async throws -> any Database {
        switch try Location(url: url) {
        case .sqlite(let path): return try await SQLiteDatabaseBackend.open(path: path, logger: logger)
        case .postgres: return try await PostgresDatabaseBackend.open(url: url, logger: logger)
        }
    }

    /// Opens the database for a server whose service group runs the connection pool: on
    /// PostgreSQL `pool` is that service, not yet running (every query waits until it runs); on
    /// SQLite there is none.
    public static func openForServiceGroup(url: String, logger: Logger) async throws -> (database: any Database, pool: PostgresPoolService?) {
        switch try Location(url: url) {
        case .sqlite(let path): return (try await SQLiteDatabaseBackend.open(path: path, logger: logger), nil)
        case .postgres:
            let backend = try PostgresDatabaseBackend.make(url: url, logger: logger)
            return (backend, backend.poolService)
        }
    }

    private enum Location {
        case sqlite(path: String)
        case postgres

        init(url: String) throws {
            if url.hasPrefix("sqlite://") || url.hasPrefix("sqlite:") {
                let path = url.hasPrefix("sqlite://") ? String(url.dropFirst("sqlite://".count)) : String(url.dropFirst("sqlite:".count))
                guard !path.isEmpty else { throw StoreError.invalidDatabaseURL("sqlite URL needs a file path, e.g. sqlite://./parley.sqlite") }
                self = .sqlite(path: path)
            } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
                self = .postgres
            } else {
                throw StoreError.invalidDatabaseURL("expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
            }
        }
    }
}
