import Foundation
import Logging
import ParleyCore
import SQLKit

/// One numbered schema change. Statements are produced per dialect from ``SQLDialectFacts``.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: @Sendable (SQLDialectFacts) -> [String]
}

/// Applies the numbered migrations in order, recording each in `schema_migrations`, each in its
/// own transaction. Running it again applies nothing.
public struct Migrator: Sendable {
    public let database: any Database
    public let migrations: [Migration]
    public let logger: Logger

    public init(database: any Database, migrations: [Migration] = Schema.migrations, logger: Logger) {
        self.database = database
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Applies what is missing and returns the versions applied now.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let f = database.facts
        try await database.transaction { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version \(unsafeRaw: f.bigint) PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at \(unsafeRaw: f.bigint) NOT NULL
                )
                """).run()
        }
        var applied: [Int] = []
        for migration in migrations {
            let done = try await database.transaction { db -> Bool in
                if f.kind == .postgres {
                    // Two instances starting together must not both apply the same migration.
                    try await db.raw("LOCK TABLE schema_migrations IN EXCLUSIVE MODE").run()
                }
                let existing = try await db.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").first()
                if existing != nil { return true }
                for statement in migration.statements(f) {
                    do {
                        try await db.raw("\(unsafeRaw: statement)").run()
                    } catch {
                        throw StoreError.migrationFailed(version: migration.version, reason: String(reflecting: error))
                    }
                }
                try await db.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Date().epochMilliseconds))
                    """).run()
                return false
            }
            if !done {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// The versions recorded as applied.
    public func appliedVersions() async throws -> [Int] {
        try await database.read { db in
            try await db.raw("SELECT version FROM schema_migrations ORDER BY version").all().map {
                try $0.decode(column: "version", as: Int.self)
            }
        }
    }
}
