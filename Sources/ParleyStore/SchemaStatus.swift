import Foundation
import Logging

/// Whether a database carries exactly the migrations this Parley knows: what `/readyz` reports.
public struct SchemaStatus: Sendable, Equatable {
    public let applied: [Int]
    public let known: [Int]

    /// Known migrations the database has not had yet (another instance is still migrating,
    /// or this instance started against a database nobody migrated).
    public var pending: [Int] { known.filter { !applied.contains($0) } }
    /// Migrations the database has that this Parley does not know (a newer version ran on it).
    public var unknown: [Int] { applied.filter { !known.contains($0) } }
    public var isCurrent: Bool { pending.isEmpty && unknown.isEmpty }

    public init(applied: [Int], known: [Int] = Schema.migrations.map(\.version).sorted()) {
        self.applied = applied
        self.known = known
    }

    /// Reads the applied versions; throws when the database cannot be reached.
    public static func read(_ database: any Database) async throws -> SchemaStatus {
        let exists = try await database.read { db in
            switch database.kind {
            case .sqlite:
                return try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").first() != nil
            case .postgres:
                return try await db.raw("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").first()?
                    .decode(column: "present", as: Bool.self) ?? false
            }
        }
        guard exists else { return SchemaStatus(applied: []) }
        return SchemaStatus(applied: try await Migrator(database: database, logger: Logger(label: "parley.readyz")).appliedVersions())
    }
}
