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
        // About 12,000 log pages: three times the size at which the writer would step in.
        let body = String(repeating: "x", count: 16 << 10)
        let rows = 3_000
        var largestLog = 0
        for index in 0..<rows {
            try await database.transaction { db in try await db.raw("INSERT INTO t (body) VALUES (\(bind: body + String(index)))").run() }
            if index % 100 == 0 { largestLog = max(largestLog, Self.size(of: path + "-wal")) }
        }
        #expect(database.checkpointer.checkpoints >= 1, "no checkpoint ran beside the writer")
        // Without checkpoints the log would hold every page written (~50 MB).
        #expect(largestLog < 24 << 20, "the log grew to \(largestLog) bytes")
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
