import Foundation
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// The store's statements on one PostgreSQL connection. Rows are read straight from the
/// driver's cells for the types the store reads (integers, text, booleans and their optionals):
/// PostgresKit's rows decode every value through its generic `Decodable` translation, which
/// took 37% of the process's CPU on an inbox page (a `perf` profile of the benchmark's reads).
/// Any other type, and any statement with a bind this does not encode itself, goes through
/// PostgresKit unchanged, so the results are the same either way.
struct PostgresSession: SQLDatabase {
    let connection: PostgresConnection
    /// PostgresKit's view of the same connection, for what this does not handle itself.
    let fallback: any SQLDatabase

    init(connection: PostgresConnection) {
        self.connection = connection
        self.fallback = connection.sql(queryLogLevel: nil)
    }

    var logger: Logger { connection.logger }
    var eventLoop: any EventLoop { connection.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { fallback.dialect }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        fallback.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, binds) = serialize(query)
        guard let (bindings, types) = Self.bindings(binds) else {
            try await fallback.execute(sql: query, onRow)
            return
        }
        // Qualifying statements run prepared (``PostgresStatementRegistry``).
        let registry = PostgresStatementRegistry.shared
        let name = PostgresStatementRegistry.name(sql: sql, types: types)
        if registry.isPrepared(name) {
            try await NamedPostgresStatement.$text.withValue(.init(name: name, sql: sql)) {
                for try await row in try await connection.execute(NamedPostgresStatement(bindings: bindings), logger: connection.logger) {
                    onRow(PostgresSessionRow(row: row))
                }
            }
            return
        }
        // The same call PostgresKit makes: rows are handed over as they arrive, and the
        // statement runs to its end even if the calling task is cancelled meanwhile.
        _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: connection.logger) { row in
            onRow(PostgresSessionRow(row: row))
        }.get()
        registry.ranFresh(name, sql: sql)
    }

    /// The binds as PostgresKit would encode them, with their types (0 for NULL, whose type the
    /// server infers), when each is NULL or has an encoding of the driver's own; nil when one
    /// needs PostgresKit's generic encoding.
    static func bindings(_ binds: [any Encodable & Sendable]) -> (PostgresBindings, [UInt32])? {
        var bindings = PostgresBindings(capacity: binds.count)
        var types: [UInt32] = []
        types.reserveCapacity(binds.count)
        for bind in binds {
            if isNil(bind) {
                bindings.appendNull()
                types.append(0)
            } else if let value = bind as? any PostgresThrowingDynamicTypeEncodable {
                guard (try? bindings.append(value)) != nil else { return nil }
                types.append(value.psqlType.rawValue)
            } else {
                return nil
            }
        }
        return (bindings, types)
    }

    /// Whether a bind is a nil optional. Boxed in `any Encodable`, a nil optional is not itself
    /// nil (`value as Any?` wraps it in `.some`), so the optional is asked; a statement with a
    /// NULL bound went to PostgresKit, and so was never prepared.
    private static func isNil(_ value: any Encodable & Sendable) -> Bool {
        (value as? any OptionalBind)?.isNone ?? false
    }
}

private protocol OptionalBind {
    var isNone: Bool { get }
}

extension Optional: OptionalBind {
    fileprivate var isNone: Bool { self == nil }
}

/// A row read from the driver's cells. The lookup of columns by name is the result's own,
/// shared by all its rows.
struct PostgresSessionRow: SQLRow {
    let row: PostgresRow
    private let cells: PostgresRandomAccessRow

    init(row: PostgresRow) {
        self.row = row
        self.cells = row.makeRandomAccess()
    }

    var allColumns: [String] { cells.map(\.columnName) }

    func contains(column: String) -> Bool { cells.contains(column) }

    func decodeNil(column: String) throws -> Bool {
        !cells.contains(column) || cells[column].bytes == nil
    }

    func decode<T: Decodable>(column: String, as type: T.Type) throws -> T {
        guard cells.contains(column) else { return try row.sql().decode(column: column, as: T.self) }
        let cell = cells[column]
        // Type identities compared, not cast: this runs for every value of every row (see
        // ColumnTypes). Each cast is to the type just compared equal, so it reinterprets nothing.
        do {
            switch ObjectIdentifier(T.self) {
            case ColumnTypes.int64: return unsafeBitCast(try cell.decode(Int64.self), to: T.self)
            case ColumnTypes.optionalInt64: return unsafeBitCast(try cell.decode(Int64?.self), to: T.self)
            case ColumnTypes.string: return unsafeBitCast(try cell.decode(String.self), to: T.self)
            case ColumnTypes.optionalString: return unsafeBitCast(try cell.decode(String?.self), to: T.self)
            case ColumnTypes.int: return unsafeBitCast(try cell.decode(Int.self), to: T.self)
            case ColumnTypes.optionalInt: return unsafeBitCast(try cell.decode(Int?.self), to: T.self)
            case ColumnTypes.bool: return unsafeBitCast(try cell.decode(Bool.self), to: T.self)
            case ColumnTypes.optionalBool: return unsafeBitCast(try cell.decode(Bool?.self), to: T.self)
            default: break
            }
        } catch {
            // PostgresKit's translation knows more conversions (and words its errors its own way).
        }
        return try row.sql().decode(column: column, as: T.self)
    }
}
