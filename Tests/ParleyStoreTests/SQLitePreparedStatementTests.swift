import Foundation
@testable import ParleyStore
import SQLKit
import Testing

/// SQLite keeps each statement prepared for the next call with the same text; what it returns
/// must still follow the schema and the bound values of each call.
@Suite("SQLite prepared statements")
struct SQLitePreparedStatementTests {
    @Test func aKeptStatementFollowsASchemaChange() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-statements-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
        try await database.transaction { db in
            try await db.raw("CREATE TABLE t (a INTEGER)").run()
            try await db.raw("INSERT INTO t (a) VALUES (1)").run()
        }
        let before = try await database.transaction { db in try await db.raw("SELECT * FROM t").first()?.allColumns }
        try await database.transaction { db in try await db.raw("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'").run() }
        let after = try await database.transaction { db in try await db.raw("SELECT * FROM t").first() }
        #expect(before == ["a"])
        #expect(after?.allColumns == ["a", "b"])
        #expect(try after?.decode(column: "b", as: String.self) == "x")
        await database.shutdown()
    }

    @Test func manyDistinctStatementsAndRepeatedOnesAnswerByTheirOwnBinds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-statements-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, readers: 2, logger: .quiet)
        // More distinct texts than the cache keeps, each run twice with different values.
        for index in 0..<(SQLiteStatementCache.limit + 20) {
            for value in [index, -index] {
                let echoed = try await database.read { db in
                    try await db.raw("SELECT \(unsafeRaw: String(index)) AS n, \(bind: value) AS v, \(bind: "t\u{0}\(value)") AS s").first()
                }
                #expect(try echoed?.decode(column: "n", as: Int.self) == index)
                #expect(try echoed?.decode(column: "v", as: Int.self) == value)
                #expect(try echoed?.decode(column: "s", as: String.self) == "t\u{0}\(value)")
            }
        }
        await database.shutdown()
    }
}
