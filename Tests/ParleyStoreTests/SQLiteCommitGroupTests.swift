import Foundation
@testable import ParleyStore
import SQLKit
import Testing

/// Transactions that queue up for SQLite's one writer share a commit: each is told it succeeded
/// only once that commit is made, a failed one is undone alone, and a commit that fails fails
/// every transaction in it.
@Suite("SQLite shared commits")
struct SQLiteCommitGroupTests {
    struct Boom: Error {}

    /// A database with table `t`, and a transaction holding the writer until `release` is
    /// called, so that those started meanwhile queue behind it.
    final class Held: Sendable {
        let database: SQLiteDatabaseBackend
        let directory: URL
        let first: Task<Void, any Error>
        private let go: AsyncStream<Void>.Continuation

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-commits-\(UUID().uuidString)")
            database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
            database.commitWindow = .seconds(60)
            try await database.transaction { db in
                try await db.raw("CREATE TABLE t (v INTEGER)").run()
                try await db.raw("CREATE TABLE parent (id INTEGER PRIMARY KEY)").run()
                try await db.raw("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))").run()
            }
            let (entered, signal) = AsyncStream<Void>.makeStream()
            let (proceed, go) = AsyncStream<Void>.makeStream()
            self.go = go
            first = Task { [database] in
                try await database.transaction { db in
                    try await db.raw("INSERT INTO t (v) VALUES (0)").run()
                    signal.yield()
                    for await _ in proceed { break }
                }
            }
            var inside = entered.makeAsyncIterator()
            _ = await inside.next()
        }

        /// Starts `count` transactions and returns once all of them wait for the writer.
        func queue<T: Sendable>(_ bodies: [@Sendable (any SQLDatabase) async throws -> T]) async throws -> [Task<T, any Error>] {
            var tasks: [Task<T, any Error>] = []
            for body in bodies {
                tasks.append(Task { [database] in try await database.transaction(body) })
                for _ in 0..<5_000 where database.queuedTransactions < tasks.count { try await Task.sleep(for: .milliseconds(1)) }
            }
            return tasks
        }

        func release() { go.yield() }

        func values() async throws -> [Int] {
            try await database.read { db in try await db.raw("SELECT v FROM t ORDER BY v").all().map { try $0.decode(column: "v", as: Int.self) } }
        }

        func close() async {
            await database.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func insert(_ value: Int) -> @Sendable (any SQLDatabase) async throws -> Int {
        { db in
            try await db.raw("INSERT INTO t (v) VALUES (\(bind: value))").run()
            return value
        }
    }

    /// Inserts 2, then fails.
    static let insertThenFail: @Sendable (any SQLDatabase) async throws -> Int = { db in
        try await db.raw("INSERT INTO t (v) VALUES (2)").run()
        throw Boom()
    }

    @Test func transactionsQueuedBehindOneShareItsCommit() async throws {
        let held = try await Held()
        let before = held.database.commitCount
        let queued = try await held.queue((1...20).map { Self.insert($0) })
        #expect(held.database.queuedTransactions == 20)
        held.release()
        try await held.first.value
        var returned: [Int] = []
        for task in queued {
            returned.append(try await task.value)
            // Told it succeeded only once committed: another connection sees its row.
            #expect(try await held.values().contains(returned.last ?? -1))
        }
        #expect(returned == Array(1...20))
        #expect(try await held.values() == Array(0...20))
        let commits = held.database.commitCount - before
        #expect(commits >= 1 && commits < 21, "\(commits) commits for 21 transactions")
        await held.close()
    }

    @Test func aFailedTransactionInASharedCommitIsUndoneAlone() async throws {
        let held = try await Held()
        let queued = try await held.queue([
            Self.insert(1),
            Self.insertThenFail,
            Self.insert(3),
        ])
        held.release()
        try await held.first.value
        #expect(try await queued[0].value == 1)
        await #expect(throws: Boom.self) { try await queued[1].value }
        #expect(try await queued[2].value == 3)
        #expect(try await held.values() == [0, 1, 3])
        await held.close()
    }

    @Test func aFailedCommitFailsEveryTransactionInIt() async throws {
        let held = try await Held()
        let queued = try await held.queue([
            Self.insert(1),
            { @Sendable db in
                // Checked only at the commit: a child whose parent does not exist.
                try await db.raw("PRAGMA defer_foreign_keys = ON").run()
                try await db.raw("INSERT INTO child (parent_id) VALUES (404)").run()
                return 2
            },
            Self.insert(3),
        ])
        held.release()
        await #expect(throws: (any Error).self) { try await held.first.value }
        for task in queued {
            await #expect(throws: (any Error).self) { try await task.value }
        }
        #expect(try await held.values().isEmpty)
        // The writer goes on.
        _ = try await held.database.transaction(Self.insert(5))
        #expect(try await held.values() == [5])
        let children = try await held.database.read { db in try await db.raw("SELECT count(*) AS n FROM child").first()?.decode(column: "n", as: Int.self) }
        #expect(children == 0)
        await held.close()
    }

    @Test func aSharedCommitThatCannotUndoOneTransactionFailsTheOthersAndTheWriterGoesOn() async throws {
        let held = try await Held()
        let queued = try await held.queue([
            Self.insert(1),
            Self.insertThenFail,
        ])
        // Undoing the failed one fails, as an I/O error would make it.
        held.database.failRollbacks = true
        held.release()
        await #expect(throws: SharedCommitLost.self) { try await held.first.value }
        await #expect(throws: SharedCommitLost.self) { try await queued[0].value }
        await #expect(throws: Boom.self) { try await queued[1].value }
        held.database.failRollbacks = false
        _ = try await held.database.transaction(Self.insert(7))
        #expect(try await held.values() == [7])
        await held.close()
    }
}
