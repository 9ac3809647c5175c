import Crypto
import Foundation
import Logging
import SQLKit

/// Copies a whole installation from SQLite into an empty, migrated PostgreSQL database, and
/// then proves the copy equal: `parley move`.
///
/// The copy reads the source in one read transaction (a consistent snapshot even if something
/// still writes to it) and writes the target in one transaction, so a failed move leaves the
/// target empty. Ids are copied as they are and every identity sequence is set past the
/// largest id SQLite ever handed out, so ids are never reused after the move either.
public struct InstallationCopy: Sendable {
    public let source: any Database
    public let target: any Database

    /// Where the copy is, for a progress bar.
    public struct Progress: Sendable {
        public let table: String
        public let copied: Int
        public let total: Int
    }

    /// One table's figures on both sides after the copy.
    public struct TableCheck: Sendable, Equatable {
        public let table: String
        public let sourceRows: Int
        public let targetRows: Int
        public let sourceChecksum: String
        public let targetChecksum: String
        public var matches: Bool { sourceRows == targetRows && sourceChecksum == targetChecksum }
    }

    public init(source: any Database, target: any Database) throws {
        guard source.kind == .sqlite, target.kind == .postgres else { throw InstallationCopyError.wrongEngines }
        self.source = source
        self.target = target
    }

    /// Checks that both schemas are this Parley's and the target holds nothing, and returns what
    /// will be copied, parents first. Writes nothing.
    public func plan() async throws -> [TablePlan] {
        let known = Schema.migrations.map(\.version).sorted()
        let sourceVersions = try await Migrator(database: source, logger: Logger(label: "parley.move")).appliedVersions()
        let targetVersions = try await Migrator(database: target, logger: Logger(label: "parley.move")).appliedVersions()
        guard sourceVersions == known, targetVersions == known else {
            throw InstallationCopyError.schemaMismatch(source: sourceVersions, target: targetVersions, known: known)
        }
        let plans = try await source.read { src in
            try await target.read { dst in try await InstallationPlanner.plan(source: src, target: dst) }
        }
        for plan in plans {
            let used = try await target.read { db in
                try await db.raw("SELECT 1 AS one FROM \(ident: plan.name) LIMIT 1").first() != nil
            }
            if used { throw InstallationCopyError.targetNotEmpty(table: plan.name) }
        }
        return plans
    }

    /// Rows per table in the source, for the progress bar's total.
    public func sourceCounts(_ plans: [TablePlan]) async throws -> [String: Int] {
        try await source.read { db in
            var counts: [String: Int] = [:]
            for plan in plans {
                counts[plan.name] = try await db.raw("SELECT count(*) AS n FROM \(ident: plan.name)").first()?.decode(column: "n", as: Int.self) ?? 0
            }
            return counts
        }
    }

    /// Copies every planned table and sets the sequences; returns rows copied per table.
    @discardableResult
    public func copy(_ plans: [TablePlan], progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> [String: Int] {
        try await source.read { src in
            // One snapshot of the source for the whole copy.
            try await src.raw("BEGIN").run()
            do {
                let copied = try await target.transaction { dst in
                    var copied: [String: Int] = [:]
                    for plan in plans {
                        copied[plan.name] = try await Self.copyTable(plan, from: src, to: dst, progress: progress)
                        if let identity = plan.identityColumn {
                            try await Self.advanceSequence(plan.name, column: identity, source: src, target: dst)
                        }
                    }
                    return copied
                }
                try await src.raw("COMMIT").run()
                return copied
            } catch {
                try? await src.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    static func copyTable(_ plan: TablePlan, from src: any SQLDatabase, to dst: any SQLDatabase,
                          progress: @Sendable (Progress) -> Void) async throws -> Int {
        // PostgreSQL takes at most 65,535 parameters per statement.
        let batch = max(1, min(1000, 30_000 / max(1, plan.columns.count)))
        let total = try await src.raw("SELECT count(*) AS n FROM \(ident: plan.name)").first()?.decode(column: "n", as: Int.self) ?? 0
        let columnList = SQLList(plan.columns.map { SQLIdentifier($0.name) })
        var lastRowid: Int64 = .min
        var copied = 0
        progress(Progress(table: plan.name, copied: 0, total: total))
        while true {
            let rows = try await src.raw("""
                SELECT rowid AS parley_rowid, \(columnList) FROM \(ident: plan.name)
                WHERE rowid > \(bind: lastRowid) ORDER BY rowid LIMIT \(bind: batch)
                """).all()
            guard let last = rows.last else { break }
            lastRowid = try last.decode(column: "parley_rowid", as: Int64.self)
            let values = try rows.map { row in
                SQLGroupExpression(SQLList(try plan.columns.map { try CopiedValue(row, $0).bind }))
            }
            try await dst.raw("INSERT INTO \(ident: plan.name) (\(columnList)) VALUES \(SQLList(values))").run()
            copied += rows.count
            progress(Progress(table: plan.name, copied: copied, total: total))
            if rows.count < batch { break }
        }
        return copied
    }

    /// Sets the target's sequence to the larger of the highest copied id and SQLite's own
    /// counter (which remembers ids of rows since deleted), so no id is ever handed out twice.
    static func advanceSequence(_ table: String, column: String, source: any SQLDatabase, target: any SQLDatabase) async throws {
        let maxId = try await source.raw("SELECT max(\(ident: column)) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int64?.self) ?? 0
        let hasSequenceTable = try await source.raw("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'").first() != nil
        let counter = hasSequenceTable
            ? try await source.raw("SELECT seq FROM sqlite_sequence WHERE name = \(bind: table)").first()?.decode(column: "seq", as: Int64?.self) ?? 0
            : 0
        let next = max(maxId, counter)
        guard next > 0 else { return }
        try await target.raw("SELECT setval(pg_get_serial_sequence(\(bind: table), \(bind: column)), \(bind: next), true)").run()
    }

    /// Counts and checksums every planned table on both sides. The checksum is order-free (a
    /// sum of per-row SHA-256 digests), so the engines' different sort orders for text do not
    /// matter; values are compared as the store reads them back.
    public func verify(_ plans: [TablePlan]) async throws -> [TableCheck] {
        var checks: [TableCheck] = []
        for plan in plans {
            let (sourceRows, sourceSum) = try await source.read { try await Self.checksum(plan, on: $0) }
            let (targetRows, targetSum) = try await target.read { try await Self.checksum(plan, on: $0) }
            checks.append(TableCheck(table: plan.name, sourceRows: sourceRows, targetRows: targetRows,
                                     sourceChecksum: sourceSum, targetChecksum: targetSum))
        }
        return checks
    }

    static func checksum(_ plan: TablePlan, on db: any SQLDatabase) async throws -> (Int, String) {
        let sum = RowDigestSum()
        let columns = plan.columns
        try await db.execute(sql: SQLQueryString("SELECT \(SQLList(columns.map { SQLIdentifier($0.name) })) FROM \(ident: plan.name)")) { row in
            sum.add(row: row, columns: columns)
        }
        return try sum.result
    }
}

/// One value read from the source, converted to what the target column takes.
enum CopiedValue {
    case null, integer(Int64), boolean(Bool), text(String), real(Double), blob([UInt8])

    /// Reads `column` of `row`. Booleans are integers on SQLite and booleans on PostgreSQL;
    /// both read back as the same value.
    init(_ row: any SQLRow, _ column: TablePlan.Column) throws {
        if try row.decodeNil(column: column.name) { self = .null; return }
        switch column.kind {
        case .integer: self = .integer(try row.decode(column: column.name, as: Int64.self))
        case .boolean:
            if let flag = try? row.decode(column: column.name, as: Bool.self) { self = .boolean(flag) }
            else { self = .boolean(try row.decode(column: column.name, as: Int64.self) != 0) }
        case .text: self = .text(try row.decode(column: column.name, as: String.self))
        case .real: self = .real(try row.decode(column: column.name, as: Double.self))
        case .blob: self = .blob(Array(try row.decode(column: column.name, as: Data.self)))
        }
    }

    var bind: any SQLExpression {
        switch self {
        case .null: return SQLLiteral.null
        case .integer(let value): return SQLBind(value)
        case .boolean(let value): return SQLBind(value)
        case .text(let value): return SQLBind(value)
        case .real(let value): return SQLBind(value)
        case .blob(let value): return SQLBind(Data(value))
        }
    }

    /// A canonical, unambiguous encoding for checksums.
    var canonical: [UInt8] {
        switch self {
        case .null: return Array("N;".utf8)
        case .integer(let value): return Array("I\(value);".utf8)
        case .boolean(let value): return Array("B\(value ? 1 : 0);".utf8)
        case .text(let value): return Array("T\(value.utf8.count):".utf8) + Array(value.utf8)
        case .real(let value): return Array("R\(value.bitPattern);".utf8)
        case .blob(let value): return Array("X\(value.count):".utf8) + value
        }
    }
}

/// Adds up the rows' SHA-256 digests as 128-bit numbers: the same rows give the same sum in any
/// order. Rows arrive on the driver's thread, hence the lock.
final class RowDigestSum: @unchecked Sendable {
    private let lock = NSLock()
    private var high: UInt64 = 0
    private var low: UInt64 = 0
    private var rows = 0
    private var failure: (any Error)?

    func add(row: any SQLRow, columns: [TablePlan.Column]) {
        var hasher = SHA256()
        do {
            for column in columns { hasher.update(data: try CopiedValue(row, column).canonical) }
        } catch {
            lock.withLock { failure = failure ?? error }
            return
        }
        let digest = Array(hasher.finalize())
        let h = digest[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let l = digest[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        lock.withLock {
            let (sum, carry) = low.addingReportingOverflow(l)
            low = sum
            high = high &+ h &+ (carry ? 1 : 0)
            rows += 1
        }
    }

    var result: (Int, String) {
        get throws {
            try lock.withLock {
                if let failure { throw failure }
                return (rows, String(format: "%016llx%016llx", high, low))
            }
        }
    }
}
