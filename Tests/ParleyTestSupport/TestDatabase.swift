import Foundation
import Logging
import ParleyCore
import ParleyStore
import SQLKit
import Synchronization

/// A database engine the store and API tests run against. SQLite always; PostgreSQL when
/// `PARLEY_TEST_POSTGRES_URL` names a server the tests may create databases on.
public enum TestBackend: String, Sendable {
    case sqlite
    case postgres

    /// The backends to run on in this process.
    public static var all: [TestBackend] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// Runs `body` with a fresh, migrated database of this backend and removes it afterwards.
    public func withDatabase<T: Sendable>(_ body: (any Database) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-test-\(UUID().uuidString)")
            let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("test.sqlite").path, logger: .quiet)
            do {
                try await Migrator(database: database, logger: .quiet).migrate()
                let result = try await body(database)
                await database.shutdown()
                try? FileManager.default.removeItem(at: directory)
                return result
            } catch {
                await database.shutdown()
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
        case .postgres:
            guard let url = Self.postgresURL else { throw TestSupportError.postgresNotConfigured }
            let name = try await PostgresTemplate.shared.createDatabase(serverURL: url)
            let database = try await DatabaseFactory.open(url: PostgresTemplate.url(url, database: name), logger: .quiet)
            do {
                let result = try await body(database)
                await database.shutdown()
                try await PostgresTemplate.shared.dropDatabase(name, serverURL: url)
                return result
            } catch {
                await database.shutdown()
                try? await PostgresTemplate.shared.dropDatabase(name, serverURL: url)
                throw error
            }
        }
    }
}

extension TestBackend {
    /// PostgreSQL only: a fresh database opened twice, as two Parley instances sharing one
    /// database would (each with its own connection pool).
    public func withSharedDatabase<T: Sendable>(_ body: (any Database, any Database) async throws -> T) async throws -> T {
        guard self == .postgres, let url = Self.postgresURL else { throw TestSupportError.postgresNotConfigured }
        let name = try await PostgresTemplate.shared.createDatabase(serverURL: url)
        let first = try await DatabaseFactory.open(url: PostgresTemplate.url(url, database: name), logger: .quiet)
        let second = try await DatabaseFactory.open(url: PostgresTemplate.url(url, database: name), logger: .quiet)
        do {
            let result = try await body(first, second)
            await first.shutdown()
            await second.shutdown()
            try await PostgresTemplate.shared.dropDatabase(name, serverURL: url)
            return result
        } catch {
            await first.shutdown()
            await second.shutdown()
            try? await PostgresTemplate.shared.dropDatabase(name, serverURL: url)
            throw error
        }
    }
}

extension TestBackend {
    /// PostgreSQL only: the URL of a fresh, migrated database, for tests that open it their own
    /// way; the database is dropped afterwards.
    public func withDatabaseURL<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        guard self == .postgres, let url = Self.postgresURL else { throw TestSupportError.postgresNotConfigured }
        let name = try await PostgresTemplate.shared.createDatabase(serverURL: url)
        do {
            let result = try await body(PostgresTemplate.url(url, database: name))
            try await PostgresTemplate.shared.dropDatabase(name, serverURL: url)
            return result
        } catch {
            try? await PostgresTemplate.shared.dropDatabase(name, serverURL: url)
            throw error
        }
    }
}

public enum TestSupportError: Error {
    case postgresNotConfigured
}

/// Each PostgreSQL test gets its own database, cloned from a template migrated once per
/// process: quicker than migrating each time and fully isolated (no TRUNCATE between tests).
actor PostgresTemplate {
    static let shared = PostgresTemplate()
    /// Started by the first caller and awaited by all: the actor is re-entered at every await,
    /// so a plain "is it made yet" check let concurrent tests each migrate a template of their
    /// own, and those long migration transactions held back every other test's event stream.
    private var template: Task<String, any Error>?
    private var admin: Task<any Database, any Error>?

    static func url(_ serverURL: String, database: String) -> String {
        guard var components = URLComponents(string: serverURL) else { return serverURL }
        components.path = "/" + database
        return components.string ?? serverURL
    }

    private func adminDatabase(serverURL: String) async throws -> any Database {
        let task = admin ?? Task { try await DatabaseFactory.open(url: Self.url(serverURL, database: "postgres"), logger: .quiet) }
        admin = task
        return try await task.value
    }

    func createDatabase(serverURL: String) async throws -> String {
        let adminTask = admin ?? Task { try await DatabaseFactory.open(url: Self.url(serverURL, database: "postgres"), logger: .quiet) }
        admin = adminTask
        let templateTask = template ?? Task {
            let admin = try await adminTask.value
            let name = "parley_tpl_" + Self.suffix()
            try await admin.read { db in try await db.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            let database = try await DatabaseFactory.open(url: Self.url(serverURL, database: name), logger: .quiet)
            try await Migrator(database: database, logger: .quiet).migrate()
            await database.shutdown()
            return name
        }
        template = templateTask
        let admin = try await adminTask.value
        let template = try await templateTask.value
        let name = "parley_t_" + Self.suffix()
        try await admin.read { db in try await db.raw("CREATE DATABASE \(unsafeRaw: name) TEMPLATE \(unsafeRaw: template)").run() }
        return name
    }

    func dropDatabase(_ name: String, serverURL: String) async throws {
        let admin = try await adminDatabase(serverURL: serverURL)
        try await admin.read { db in try await db.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
    }

    private static func suffix() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16).description
    }
}

extension Logger {
    /// A logger for tests: warnings and worse only.
    public static var quiet: Logger {
        var logger = Logger(label: "parley-test")
        logger.logLevel = .warning
        return logger
    }
}

/// A clock the test moves by hand.
public final class TestClock: ParleyClock {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
