import Foundation
@testable import ParleyStore
import SQLKit
import Testing

/// The write-ahead log is copied back into the database file beside the writer, not in its
/// commits; it must still happen, lose nothing, and keep the log from growing without bound.
@Suite("SQLite checkpoints")
struct SQLiteCheckpointTests {
    @Test func theLogIsCheckpointedBesideTheWriterAndStaysBounded() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-checkpoint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        let database = try await SQLiteDatabaseBackend.open(path: path, readers: 1, logger: .quiet)
        try await database.transaction { db in try await db.raw("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run() }
        let body = String(repeating: "x", count: 16 << 10)
        // About 6,000 log pages with readers all along, as a server has (they keep the log
        // from starting over at times): checkpoints run beside the writer.
        let reading = Task {
            while !Task.isCancelled {
                _ = try? await database.read { db in try await db.raw("SELECT MAX(id) AS n FROM t").first() }
            }
        }
        for index in 0..<1_500 {
            try await database.transaction { db in try await db.raw("INSERT INTO t (body) VALUES (\(bind: body + String(index)))").run() }
        }
        reading.cancel()
        _ = await reading.result
        let checkpoints = database.checkpointer.checkpoints
        #expect(checkpoints >= 1, "no checkpoint ran beside the writer")
        // One per few hundred new pages, not one after every commit (1,500 of them here): back
        // to back, checkpoints would hold the log's locks all the time and it could never
        // start over.
        #expect(checkpoints <= 2 * 6_000 / Int(SQLiteCheckpointer.step), "\(checkpoints) checkpoints for about 6,000 pages")
        // About 12,000 more pages: the log starts over instead of holding them all (~50 MB).
        let logBefore = Self.size(of: path + "-wal")
        var largestLog = 0
        for index in 1_500..<4_500 {
            try await database.transaction { db in try await db.raw("INSERT INTO t (body) VALUES (\(bind: body + String(index)))").run() }
            if index % 100 == 0 { largestLog = max(largestLog, Self.size(of: path + "-wal")) }
        }
        #expect(largestLog < max(logBefore, 24 << 20), "the log grew to \(largestLog) bytes")
        let rows = 4_500
        let count = try await database.read { db in try await db.raw("SELECT COUNT(*) AS n FROM t").first()?.decode(column: "n", as: Int.self) }
        #expect(count == rows)
        await database.shutdown()
        // Everything reached the database file: it opens with every row.
        let reopened = try await SQLiteDatabaseBackend.open(path: path, readers: 1, logger: .quiet)
        let again = try await reopened.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM t").first()
        }
        #expect(try again?.decode(column: "n", as: Int.self) == rows)
        await reopened.shutdown()
    }

    private static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
