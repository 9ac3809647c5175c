import Foundation
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// A failed ROLLBACK must not leave SQLite's one writer inside the failed transaction: every
/// later write would be refused (or, worse, join it).
@Suite("SQLite writer recovery")
struct WriterRecoveryTests {
    struct Boom: Error {}

    @Test func aFailedRollbackReopensTheWriter() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-writer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
        defer { Task { await database.shutdown() } }
        try await database.transaction { db in try await db.raw("CREATE TABLE t (v INTEGER)").run() }
        // The rollback statement is made to fail, as an I/O error or a busy statement would.
        database.failRollbacks = true
        await #expect(throws: Boom.self) {
            try await database.transaction { db in
                try await db.raw("INSERT INTO t (v) VALUES (1)").run()
                throw Boom()
            }
        }
        database.failRollbacks = false
        try await database.transaction { db in try await db.raw("INSERT INTO t (v) VALUES (2)").run() }
        let values = try await database.read { db in
            try await db.raw("SELECT v FROM t ORDER BY v").all().map { try $0.decode(column: "v", as: Int.self) }
        }
        #expect(values == [2])
    }
}
