import Foundation
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Values go into both engines and come back the same, whichever way the backend reads them
/// (PostgreSQL reads the common types from the driver's cells and leaves the rest to PostgresKit).
@Suite("Stored values")
struct StoredValuesTests {
    @Test(arguments: TestBackend.all)
    func everyKindOfValueComesBackAsWritten(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let ddl: SQLQueryString = database.kind == .postgres
                ? "CREATE TABLE value_probe (id BIGINT PRIMARY KEY, n BIGINT, t TEXT, b BOOLEAN, d DOUBLE PRECISION, k TEXT, bytes BYTEA)"
                : "CREATE TABLE value_probe (id INTEGER PRIMARY KEY, n INTEGER, t TEXT, b BOOLEAN, d REAL, k TEXT, bytes BLOB)"
            let withNul = "a\u{0}b \u{FFFF} ü"
            try await database.transaction { db in
                try await db.raw(ddl).run()
                // Row 1 binds plain values; row 2 NULLs; row 3 an enum, which the driver cannot encode itself.
                try await db.raw("""
                    INSERT INTO value_probe (id, n, t, b, d, k, bytes) VALUES
                        (1, \(bind: Int64.max), \(bind: withNul), \(bind: true), \(bind: 2.5), \(bind: "whatsapp"), \(bind: Data([0, 1, 255]))),
                        (2, \(bind: Int64?.none), \(bind: String?.none), \(bind: Bool?.none), \(bind: Double?.none), \(bind: String?.none), \(bind: Data?.none))
                    """).run()
                try await db.raw("INSERT INTO value_probe (id, n, k) VALUES (3, \(bind: -7), \(bind: ChannelKind.telegram))").run()
            }
            let rows = try await database.read { db in
                try await db.raw("SELECT id, n, t, b, d, k, bytes, n - 1 AS less, COUNT(*) OVER () AS total FROM value_probe ORDER BY id").all()
            }
            #expect(rows.count == 3)
            let full = try #require(rows.first)
            #expect(try full.decode(column: "n", as: Int64.self) == Int64.max)
            #expect(try full.decode(column: "n", as: Int64?.self) == Int64.max)
            #expect(try full.decode(column: "t", as: String.self) == withNul)
            #expect(try full.decode(column: "t", as: String?.self) == withNul)
            #expect(try full.decode(column: "b", as: Bool.self))
            #expect(try full.decode(column: "d", as: Double.self) == 2.5)
            #expect(try full.decode(column: "k", as: ChannelKind.self) == .whatsapp)
            #expect(try full.decode(column: "bytes", as: Data.self) == Data([0, 1, 255]))
            #expect(try full.decode(column: "total", as: Int.self) == 3)
            #expect(try full.decodeNil(column: "n") == false)

            let empty = rows[1]
            #expect(try empty.decode(column: "n", as: Int64?.self) == nil)
            #expect(try empty.decode(column: "t", as: String?.self) == nil)
            #expect(try empty.decode(column: "b", as: Bool?.self) == nil)
            #expect(try empty.decode(column: "less", as: Int?.self) == nil)
            #expect(try empty.decodeNil(column: "bytes"))
            #expect(throws: (any Error).self) { try empty.decode(column: "n", as: Int64.self) }

            let third = rows[2]
            #expect(try third.decode(column: "n", as: Int.self) == -7)
            #expect(try third.decode(column: "less", as: Int64.self) == -8)
            #expect(try third.decode(column: "k", as: ChannelKind.self) == .telegram)
            #expect(try third.decode(column: "k", as: String.self) == "telegram")

            // A column the query did not select is an error, not a crash.
            #expect(!full.contains(column: "missing"))
            #expect(throws: (any Error).self) { try full.decode(column: "missing", as: Int64.self) }
            #expect(throws: (any Error).self) { try full.decode(column: "missing", as: String?.self) }
            // A value of another type is an error too.
            #expect(throws: (any Error).self) { try full.decode(column: "t", as: Int64.self) }
        }
    }
}
