import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import VaporCSQLite

/// The prepared statements of one connection, by their SQL text: the store's statements are a
/// fixed set of texts with bound values, so each is compiled once and reset after each use.
/// Used only on the connection's thread.
struct SQLiteStatementCache {
    /// Past this many, every statement is finalized and the cache starts again: a bound on
    /// memory should some statement text ever embed a value (lists of varying length do).
    static let limit = 512

    private var entries: [String: Entry] = [:]

    struct Entry {
        let statement: OpaquePointer
        var columns: SQLiteColumnNames
        /// How often SQLite had recompiled it for a schema change when `columns` were read.
        var recompiled: Int32
    }

    mutating func statement(for sql: String, on handle: OpaquePointer) throws -> Entry {
        if let entry = entries[sql] { return entry }
        if entries.count >= Self.limit { finalizeAll() }
        var statement: OpaquePointer?
        // SQLITE_PREPARE_PERSISTENT (1): kept for reuse, so SQLite may allocate it for long life.
        let code = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, 1, &statement, nil)
        guard code == SQLITE_OK else { throw SQLiteStatementError(code: code, on: handle) }
        guard let statement else {
            // Only a comment or blank text: nothing to run.
            throw SQLiteStatementError(code: SQLITE_MISUSE, message: "no statement in \(sql.prefix(40))")
        }
        let entry = Entry(statement: statement, columns: SQLiteColumnNames(of: statement), recompiled: Self.recompilations(of: statement))
        entries[sql] = entry
        return entry
    }

    /// A schema change recompiles a kept statement when it next steps, and its columns may have
    /// changed with it (`SELECT *` after an added column): called after the first step.
    mutating func columns(after entry: Entry, sql: String) -> SQLiteColumnNames {
        let recompiled = Self.recompilations(of: entry.statement)
        guard recompiled != entry.recompiled else { return entry.columns }
        let columns = SQLiteColumnNames(of: entry.statement)
        entries[sql] = Entry(statement: entry.statement, columns: columns, recompiled: recompiled)
        return columns
    }

    /// How often the kept statement for `sql` was recompiled, if one is kept.
    func recompilations(of sql: String) -> Int32? {
        entries[sql].map { Self.recompilations(of: $0.statement) }
    }

    /// SQLITE_STMTSTATUS_REPREPARE (5).
    private static func recompilations(of statement: OpaquePointer) -> Int32 {
        sqlite_nio_sqlite3_stmt_status(statement, 5, 0)
    }

    mutating func finalizeAll() {
        for entry in entries.values { sqlite_nio_sqlite3_finalize(entry.statement) }
        entries.removeAll()
    }
}

/// A statement's result columns, shared by all its rows.
final class SQLiteColumnNames: Sendable {
    let names: [String]
    let index: [String: Int]

    init(of statement: OpaquePointer) {
        let count = Int(sqlite_nio_sqlite3_column_count(statement))
        names = (0..<count).map { column in
            sqlite_nio_sqlite3_column_name(statement, Int32(column)).map { String(cString: $0) } ?? ""
        }
        // The first of two equal names wins, as the driver did.
        index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// One result row, read whole from the statement.
struct SQLiteResultRow: SQLRow {
    static let decoder = SQLiteDataDecoder()
    let columns: SQLiteColumnNames
    let values: [SQLiteData]

    var allColumns: [String] { columns.names }
    func contains(column: String) -> Bool { columns.index[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let offset = columns.index[column] else { return true }
        return values[offset] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let offset = columns.index[column] else {
            throw DecodingError.keyNotFound(SQLiteColumnKey(column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        let value = values[offset]
        return try ColumnTypes.read(value, as: D.self) { try Self.decoder.decode(D.self, from: value) }
    }
}

private struct SQLiteColumnKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// SQLKit's view of one ``SQLiteWorker``: a statement runs directly when the caller is already
/// on the worker's thread (a transaction or read running there), and is handed to it otherwise.
struct SQLiteWorkerDatabase: SQLDatabase {
    static let encoder = SQLiteDataEncoder()
    let worker: SQLiteWorker
    let logger: Logger

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { SQLiteDialect() }
    // Statements are not logged: their binds can hold credentials.
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    /// Integers and text, most of what the store binds, directly; the rest (booleans, data,
    /// enums, JSON) as SQLiteKit's encoder has it. The encoder first asks whether the value
    /// conforms to a protocol, a lookup that cost 3% of the writer's time during ingest.
    static func bind(_ value: any Encodable) throws -> SQLiteData {
        switch value {
        case let number as Int64: .integer(Int(number))
        case let text as String: .text(text)
        case let number as Int: .integer(number)
        // A value inside an optional is caught above; this catches a nil of any optional type,
        // bound as NULL as the encoder would bind it.
        case let number as Int64?: number.map { .integer(Int($0)) } ?? .null
        default: try encoder.encode(value)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, rawBinds) = serialize(query)
        let binds = try rawBinds.map(Self.bind)
        let worker = self.worker
        if worker.isCurrent {
            try worker.run(sql, binds: binds) { onRow($0) }
        } else {
            try await worker.perform { try worker.run(sql, binds: binds) { onRow($0) } }
        }
    }
}
