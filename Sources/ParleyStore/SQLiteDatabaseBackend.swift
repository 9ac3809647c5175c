import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded backend: one SQLite file in WAL mode, one writer connection whose transactions
/// are serialised, and a few reader connections that never wait for the writer. Transactions
/// that queue up for the writer share one commit (``CommitGroup``).
///
/// Each connection lives on a thread of its own (``SQLiteWorker``) and a transaction or a read
/// runs on that thread: its statements are direct calls into SQLite on prepared statements
/// kept from earlier calls, with one thread hop into the transaction and one out. The log is
/// copied back into the database file by a connection of its own (``SQLiteCheckpointer``),
/// outside the writer's commits.
public final class SQLiteDatabaseBackend: Database {
    public let kind = DatabaseKind.sqlite
    public let commits = CommitSignal()
    public let path: String
    private let writer: SQLiteWorker
    private let readers: [SQLiteWorker]
    let checkpointer: SQLiteCheckpointer
    private let turns = WriterTurns()
    private let group = CommitGroup()
    private let commitsMade = Atomic(0)
    private let nextReader = Counter()
    private let logger: Logger
    /// Tests make every rollback fail, to exercise the recovery.
    private let failRollbacksBox = Atomic(false)
    var failRollbacks: Bool {
        get { failRollbacksBox.load(ordering: .relaxed) }
        set { failRollbacksBox.store(newValue, ordering: .relaxed) }
    }
    private static let failingRollback = "ROLLBACK TO no_such_savepoint"

    // WAL lets readers proceed while the writer writes; NORMAL sync is durable at checkpoints
    // and safe against corruption in WAL mode.
    // Readers' page caches: SQLite's default of 2 MB sent most index pages of a large inbox
    // search to the kernel (a pread each); 8 MB per reader halved that search at 300k contacts.
    // Pages are allocated as they are used, so a small database costs no more than before.
    private static let writerPragmas = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"] + connectionPragmas
    private static let readerPragmas = ["PRAGMA cache_size = -8192"] + connectionPragmas
    private static let connectionPragmas = ["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY"]

    private init(path: String, writer: SQLiteWorker, readers: [SQLiteWorker], checkpointer: SQLiteCheckpointer, logger: Logger) {
        self.path = path
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, readers readerCount: Int = 4, logger: Logger) async throws -> SQLiteDatabaseBackend {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // Every connection opened so far, closed again if a later one fails.
        var opened: [SQLiteWorker] = []
        func openWorker(_ name: String, _ pragmas: [String]) async throws -> SQLiteWorker {
            let worker = try await SQLiteWorker(path: path, name: name, pragmas: pragmas)
            opened.append(worker)
            return worker
        }
        do {
            let writer = try await openWorker("sqlite-writer", writerPragmas)
            var readers: [SQLiteWorker] = []
            for index in 0..<max(1, readerCount) {
                readers.append(try await openWorker("sqlite-reader-\(index)", readerPragmas))
            }
            let checkpointer = SQLiteCheckpointer(worker: try await openWorker("sqlite-checkpoint", connectionPragmas))
            try await writer.withConnection { checkpointer.observe($0) }
            return SQLiteDatabaseBackend(path: path, writer: writer, readers: readers, checkpointer: checkpointer, logger: logger)
        } catch {
            for worker in opened { await worker.stop() }
            throw error
        }
    }

    /// Runs `operation` on `worker`'s thread: every statement it makes there is a direct call.
    private func on<T: Sendable, Failure: Error>(_ worker: SQLiteWorker, _ operation: () async throws(Failure) -> T) async throws(Failure) -> T {
        if #available(macOS 15.0, iOS 18.0, *) {
            return try await withTaskExecutorPreference(worker) { () async throws(Failure) -> T in try await operation() }
        }
        return try await operation()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let reader = readers[nextReader.next() % readers.count]
        let db = TextSafeDatabase(base: SQLiteWorkerDatabase(worker: reader, logger: logger))
        return try await on(reader) { try await body(db) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await turns.acquire()
        switch await on(writer, { await runTurn(body) }) {
        case .leftOpen(.failure(let error)):
            turns.release()
            throw error
        case .leftOpen(.success(let value)):
            // Done, but not yet committed: the transaction behind commits for both.
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                group.waitForCommit(continuation)
                turns.release()
            }
            return value
        case .closed(let outcome, let commit, let waiting):
            turns.release()
            switch commit {
            case .success(let committed):
                for member in waiting { member.resume() }
                if committed { commits.signal() }
            case .failure(let error):
                for member in waiting { member.resume(throwing: error) }
            }
            let value = try outcome.get()
            _ = try commit.get()
            return value
        }
    }

    /// One transaction's turn on the writer: its body, in the open group's transaction (or in a
    /// new one), then the group's commit unless a transaction is queued behind to take it over.
    private func runTurn<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async -> WriterTurnEnd<T> {
        let db = TextSafeDatabase(base: SQLiteWorkerDatabase(worker: writer, logger: logger))
        let first = !group.isOpen
        do {
            if first {
                try await db.raw("BEGIN IMMEDIATE").run()
                group.begin()
            } else {
                try await db.raw("SAVEPOINT parley_member").run()
            }
        } catch {
            if !first { await loseGroup(error) }
            return .closed(.failure(error), commit: .success(false), waiting: [])
        }
        let outcome: Result<T, any Error>
        do {
            let value = try await body(db)
            if !first { try await db.raw("RELEASE parley_member").run() }
            group.add()
            outcome = .success(value)
        } catch {
            if first {
                // Alone in the transaction: all of it goes.
                await rollBack(db, "ROLLBACK")
                return .closed(.failure(error), commit: .success(false), waiting: group.close())
            }
            do {
                try await db.raw(undoing("ROLLBACK TO parley_member")).run()
                try await db.raw("RELEASE parley_member").run()
            } catch let rollbackError {
                await loseGroup(rollbackError)
                return .closed(.failure(error), commit: .success(false), waiting: [])
            }
            outcome = .failure(error)
        }
        if group.hasRoom && turns.queued > 0 { return .leftOpen(outcome) }
        do {
            try await db.raw("COMMIT").run()
            commitsMade.add(1, ordering: .relaxed)
            return .closed(outcome, commit: .success(true), waiting: group.close())
        } catch {
            await rollBack(db, "ROLLBACK")
            return .closed(outcome, commit: .failure(error), waiting: group.close())
        }
    }

    /// A rollback statement, or one that fails when the tests ask for it.
    private func undoing(_ statement: String) -> SQLQueryString {
        SQLQueryString(failRollbacks ? Self.failingRollback : statement)
    }

    /// Ends the writer's transaction; a rollback that fails leaves it on a fresh connection.
    private func rollBack(_ db: any SQLDatabase, _ statement: String) async {
        do {
            try await db.raw(undoing(statement)).run()
        } catch {
            // The writer may still be inside the failed transaction: every later write
            // would be refused, or join it. A fresh connection starts clean.
            await reopenWriter()
        }
    }

    /// The group's transaction cannot go on (one of its transactions could not be undone
    /// alone): it is rolled back on a fresh connection, and those waiting for it fail.
    private func loseGroup(_ error: any Error) async {
        await reopenWriter()
        for member in group.close() { member.resume(throwing: SharedCommitLost(reason: "\(error)")) }
    }

    /// Closes the writer's connection, which rolls back whatever it still had open, and opens
    /// a fresh one. Called by the holder of the writer's turn.
    private func reopenWriter() async {
        do {
            try await writer.reopen(pragmas: Self.writerPragmas)
            try await writer.withConnection { [checkpointer] in checkpointer.observe($0) }
            logger.warning("SQLite writer reopened after a failed rollback")
        } catch {
            logger.error("SQLite writer could not be reopened", metadata: ["error": "\(error)"])
        }
    }

    /// Transactions waiting for the writer, and commits made so far (for tests).
    var queuedTransactions: Int { turns.queued }
    var commitCount: Int { commitsMade.load(ordering: .relaxed) }

    /// How long the first transaction of a shared commit may wait for it; only while no
    /// transaction runs (tests widen it, so that slow machines share commits too).
    var commitWindow: Duration {
        get { group.window }
        set { group.window = newValue }
    }

    /// How often the writer recompiled its kept statement for `sql` (for tests).
    func writerRecompilations(of sql: String) async throws -> Int32? {
        try await writer.perform { [writer] in writer.recompilations(of: sql) }
    }

    public func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? SQLiteStatementError { return error.isUniqueViolation }
        guard let error = error as? SQLiteError else { return false }
        return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
    }

    public func shutdown() async {
        for worker in readers + [writer] {
            await worker.stop()
        }
        await checkpointer.stop()
    }
}

/// A lock-free enough round-robin counter for picking readers.
private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value &+= 1
        return value & Int.max
    }
}
