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

    /// SQLite recompiles a statement whose plan read a bound value once that binding changes;
    /// the store's statements are run again and again with new values, and must not be
    /// recompiled each time (an equality's value and an unchanged LIMIT leave the plan as it is).
    @Test func aKeptStatementIsNotRecompiledForEachNewValue() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-statements-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
        try await database.transaction { db in
            try await db.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, n INTEGER NOT NULL)").run()
            try await db.raw("CREATE INDEX t_owner ON t (owner, n)").run()
            for index in 0..<20 { try await db.raw("INSERT INTO t (owner, n) VALUES (\(bind: "o\(index % 4)"), \(bind: index))").run() }
        }
        let sql = "SELECT n FROM t WHERE owner = ?1 AND n >= ?2 ORDER BY n LIMIT ?3"
        var found: [[Int]] = []
        for run in 0..<6 {
            let owner = "o\(run % 4)"
            let values = try await database.transaction { db in
                try await db.raw("SELECT n FROM t WHERE owner = \(bind: owner) AND n >= \(bind: run + 2) ORDER BY n LIMIT \(bind: 3)").all()
                    .map { try $0.decode(column: "n", as: Int.self) }
            }
            found.append(values)
        }
        // Each run answers by its own values…
        let expected = (0..<6).map { run in Array((0..<20).filter { $0 % 4 == run % 4 && $0 >= run + 2 }.prefix(3)) }
        #expect(found == expected)
        // …on the statement as compiled for the first values bound to it (SQLite compiles it
        // once more then, having seen them), not compiled again for each run.
        let recompiled = try await database.writerRecompilations(of: sql)
        #expect(recompiled.map { $0 <= 1 } == true, "recompiled \(String(describing: recompiled)) times in 6 runs")
        await database.shutdown()
    }
}
