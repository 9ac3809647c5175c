import Foundation
@testable import ParleyStore
import SQLKit
import Testing

/// A request cancelled while its transaction is open (a client gone, a shutdown) must leave
/// SQLite's one writer usable: the rollback runs even though the task is cancelled.
@Suite("SQLite cancelled transactions")
struct SQLiteCancellationTests {
    @Test func aTransactionCancelledInsideItsBodyIsRolledBackAndWritesGoOn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-cancel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
        try await database.transaction { db in try await db.raw("CREATE TABLE t (v INTEGER)").run() }
        let (entered, signal) = AsyncStream<Void>.makeStream()
        let writer = Task {
            try await database.transaction { db in
                try await db.raw("INSERT INTO t (v) VALUES (1)").run()
                signal.yield()
                // Cancelled here: the sleep throws CancellationError inside the transaction.
                try await Task.sleep(for: .seconds(60))
            }
        }
        var inside = entered.makeAsyncIterator()
        _ = await inside.next()
        writer.cancel()
        await #expect(throws: CancellationError.self) { try await writer.value }
        try await database.transaction { db in try await db.raw("INSERT INTO t (v) VALUES (2)").run() }
        let values = try await database.read { db in
            try await db.raw("SELECT v FROM t ORDER BY v").all().map { try $0.decode(column: "v", as: Int.self) }
        }
        #expect(values == [2])
        await database.shutdown()
    }
}
