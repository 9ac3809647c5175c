import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded backend: one SQLite file in WAL mode, one writer connection whose transactions
/// are serialised, and a few reader connections that never wait for the writer.
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
    private let writeLock = AsyncLock()
    private let nextReader = Counter()
    private let logger: Logger
    /// What ends a failed transaction; tests make it fail to exercise the recovery.
    let rollbackBox = Mutex("ROLLBACK")
    var rollbackStatement: String {
        get { rollbackBox.withLock { $0 } }
        set { rollbackBox.withLock { $0 = newValue } }
    }

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
    private func on<T: Sendable>(_ worker: SQLiteWorker, _ operation: () async throws -> T) async throws -> T {
        if #available(macOS 15.0, iOS 18.0, *) {
            return try await withTaskExecutorPreference(worker) { try await operation() }
        }
        return try await operation()
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let reader = readers[nextReader.next() % readers.count]
        let db = TextSafeDatabase(base: SQLiteWorkerDatabase(worker: reader, logger: logger))
        return try await on(reader) { try await body(db) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await writeLock.lock()
        do {
            let result = try await on(writer) { try await runTransaction(body) }
            await writeLock.unlock()
            commits.signal()
            return result
        } catch {
            await writeLock.unlock()
            throw error
        }
    }

    /// One transaction on the writer, with `writeLock` held.
    private func runTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let db = TextSafeDatabase(base: SQLiteWorkerDatabase(worker: writer, logger: logger))
        try await db.raw("BEGIN IMMEDIATE").run()
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            do {
                try await db.raw(SQLQueryString(rollbackStatement)).run()
            } catch {
                // The writer may still be inside the failed transaction: every later write
                // would be refused, or join it. A fresh connection starts clean.
                await reopenWriter()
            }
            throw error
        }
    }

    /// Closes the writer's connection, which rolls back whatever it still had open, and opens
    /// a fresh one. Called with `writeLock` held.
    private func reopenWriter() async {
        do {
            try await writer.reopen(pragmas: Self.writerPragmas)
            try await writer.withConnection { [checkpointer] in checkpointer.observe($0) }
            logger.warning("SQLite writer reopened after a failed rollback")
        } catch {
            logger.error("SQLite writer could not be reopened", metadata: ["error": "\(error)"])
        }
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
