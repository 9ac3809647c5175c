import Foundation
import SQLKit

/// How `parley move` copies one table: the columns both databases have, their kind, and the
/// identity column whose sequence must be set past the copied ids.
public struct TablePlan: Sendable, Equatable {
    public enum ColumnKind: String, Sendable {
        case integer, boolean, text, real, blob
    }

    public struct Column: Sendable, Equatable {
        public let name: String
        public let kind: ColumnKind
    }

    public let name: String
    public let columns: [Column]
    /// A PostgreSQL identity column (`id`), set past the largest id SQLite ever handed out.
    public let identityColumn: String?
}

/// Why an installation cannot be moved. Each says what to do about it.
public enum InstallationCopyError: Error, Equatable, CustomStringConvertible {
    case wrongEngines
    case schemaMismatch(source: [Int], target: [Int], known: [Int])
    case targetNotEmpty(table: String)
    case unknownTable(String, why: String)
    case missingColumn(table: String, column: String)
    case unsupportedType(table: String, column: String, type: String)
    case foreignKeyCycle([String])
    case verificationFailed([String])

    public var description: String {
        switch self {
        case .wrongEngines:
            return "parley move copies from sqlite://… to postgres://…"
        case .schemaMismatch(let source, let target, let known):
            return "schema versions differ (source \(source.last ?? 0), target \(target.last ?? 0), this parley \(known.last ?? 0)); "
                + "run `parley migrate --database-url sqlite://…` on the source with this parley first"
        case .targetNotEmpty(let table):
            return "the target database is not empty (table \(table) has rows); move into an empty database"
        case .unknownTable(let table, let why):
            return "cannot copy table \(table): \(why)"
        case .missingColumn(let table, let column):
            return "table \(table): column \(column) exists on one side only"
        case .unsupportedType(let table, let column, let type):
            return "table \(table): column \(column) has type \(type), which parley move does not know how to copy"
        case .foreignKeyCycle(let tables):
            return "tables refer to each other in a cycle (\(tables.joined(separator: ", "))); parley move cannot order them"
        case .verificationFailed(let tables):
            return "verification failed for \(tables.joined(separator: ", ")): the target differs from the source"
        }
    }
}

/// Reads both schemas and decides what to copy, in which order. The table list comes from the
/// databases themselves, so a table a later migration adds is copied without being named here;
/// anything that cannot be copied faithfully stops the move before a row is written.
enum InstallationPlanner {
    /// Tables each engine keeps for itself: the migration log (each side has its own) and
    /// SQLite's bookkeeping.
    static let notCopied: Set<String> = ["schema_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"]
    /// SQLite-only tables the full-text indexes are built from (SearchPieces' cut positions).
    static let derivedOnSQLite: Set<String> = ["search_piece_positions"]

    static func plan(source: any SQLDatabase, target: any SQLDatabase) async throws -> [TablePlan] {
        let sourceTables = try await copiedSourceTables(source)
        let targetTables = try await target.raw("""
            SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            """).all().map { try $0.decode(column: "name", as: String.self) }.filter { !notCopied.contains($0) }
        for table in targetTables where !sourceTables.contains(table) {
            throw InstallationCopyError.unknownTable(table, why: "the target has it and the source does not")
        }
        var plans: [String: TablePlan] = [:]
        for table in sourceTables {
            guard targetTables.contains(table) else {
                throw InstallationCopyError.unknownTable(table, why: "the target has no such table (was it made outside Parley's migrations?)")
            }
            plans[table] = try await tablePlan(table, source: source, target: target)
        }
        let edges = try await target.raw("""
            SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint k
            JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
            JOIN pg_namespace n ON n.oid = child.relnamespace
            WHERE k.contype = 'f' AND n.nspname = current_schema()
            """).all().map { (try $0.decode(column: "child", as: String.self), try $0.decode(column: "parent", as: String.self)) }
        return try order(sourceTables.sorted(), edges: edges).compactMap { plans[$0] }
    }

    /// The source's tables holding data. SQLite's full-text indexes over another table
    /// (`content='…'`) or over none (`content=''`, filled by triggers) and their shadow tables
    /// are derived data: PostgreSQL indexes the same columns itself. Any other virtual table,
    /// or one without rowids, cannot be copied.
    static func copiedSourceTables(_ source: any SQLDatabase) async throws -> [String] {
        let rows = try await source.raw("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
        var tables: [String] = []
        var derived: [String] = []
        for row in rows {
            let name = try row.decode(column: "name", as: String.self)
            let sql = try row.decode(column: "sql", as: String?.self) ?? ""
            guard !notCopied.contains(name), !derivedOnSQLite.contains(name) else { continue }
            if sql.uppercased().hasPrefix("CREATE VIRTUAL TABLE") {
                guard sql.lowercased().contains("using fts5"), sql.range(of: #"content\s*=\s*'[a-z_]*'"#, options: .regularExpression) != nil else {
                    throw InstallationCopyError.unknownTable(name, why: "a virtual table that holds its own data")
                }
                derived.append(name)
            } else {
                tables.append(name)
            }
        }
        let shadows = Set(derived.flatMap { base in ["data", "idx", "docsize", "config", "content"].map { "\(base)_\($0)" } })
        tables.removeAll { shadows.contains($0) }
        for table in tables {
            do {
                _ = try await source.raw("SELECT rowid FROM \(ident: table) LIMIT 0").all()
            } catch {
                throw InstallationCopyError.unknownTable(table, why: "it has no rowid to read it in order by")
            }
        }
        return tables
    }

    static func tablePlan(_ table: String, source: any SQLDatabase, target: any SQLDatabase) async throws -> TablePlan {
        // table_xinfo lists generated columns as hidden (2, 3): they are computed, not copied.
        let sourceColumns = try await source.raw("SELECT name, hidden FROM pragma_table_xinfo(\(bind: table))").all()
            .filter { try $0.decode(column: "hidden", as: Int.self) == 0 }
            .map { try $0.decode(column: "name", as: String.self) }
        let targetRows = try await target.raw("""
            SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
                   a.atthasdef AS hasdefault, a.attidentity::text AS identity, a.attgenerated::text AS generated
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname = \(bind: table) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """).all()
        var columns: [TablePlan.Column] = []
        var identity: String?
        for row in targetRows {
            let name = try row.decode(column: "name", as: String.self)
            let type = try row.decode(column: "type", as: String.self)
            let generated = try row.decode(column: "generated", as: String.self)
            if try row.decode(column: "identity", as: String.self) != "" { identity = name }
            guard generated.isEmpty else { continue }
            guard sourceColumns.contains(name) else {
                // A column only PostgreSQL has (events.tx, the writing transaction) fills itself.
                let filled = try row.decode(column: "hasdefault", as: Bool.self) || !(try row.decode(column: "notnull", as: Bool.self))
                guard filled else { throw InstallationCopyError.missingColumn(table: table, column: name) }
                continue
            }
            columns.append(.init(name: name, kind: try kind(of: type, table: table, column: name)))
        }
        for name in sourceColumns where !columns.contains(where: { $0.name == name }) {
            throw InstallationCopyError.missingColumn(table: table, column: name)
        }
        return TablePlan(name: table, columns: columns, identityColumn: identity)
    }

    static func kind(of type: String, table: String, column: String) throws -> TablePlan.ColumnKind {
        switch type {
        case "bigint", "integer", "smallint": return .integer
        case "boolean": return .boolean
        case "text": return .text
        case "double precision", "real": return .real
        case "bytea": return .blob
        default:
            if type.hasPrefix("character varying") { return .text }
            throw InstallationCopyError.unsupportedType(table: table, column: column, type: type)
        }
    }

    /// Parents before children, so every foreign key finds its row; ties by name.
    static func order(_ tables: [String], edges: [(child: String, parent: String)]) throws -> [String] {
        var parents: [String: Set<String>] = [:]
        for (child, parent) in edges where child != parent && tables.contains(child) && tables.contains(parent) {
            parents[child, default: []].insert(parent)
        }
        var ordered: [String] = []
        var remaining = tables
        while !remaining.isEmpty {
            let placed = Set(ordered)
            let ready = remaining.filter { parents[$0, default: []].isSubset(of: placed) }
            guard !ready.isEmpty else { throw InstallationCopyError.foreignKeyCycle(remaining) }
            ordered += ready
            remaining.removeAll { ready.contains($0) }
        }
        return ordered
    }
}
