import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded backend: one SQLite file in WAL mode, one writer connection whose transactions
/// are serialised, and a few reader connections that never wait for the writer.
public final class SQLiteDatabaseBackend: Database {
    public let kind = DatabaseKind.sqlite
    public let commits = CommitSignal()
    public let path: String
    /// The writer connection; replaced (under `writeLock`) when a failed ROLLBACK leaves it in
    /// an unknown state.
    private let writerBox: Mutex<SQLiteConnection>
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncLock()
    private let nextReader = Counter()
    private let logger: Logger
    /// What ends a failed transaction; tests make it fail to exercise the recovery.
    let rollbackBox = Mutex("ROLLBACK")
    var rollbackStatement: String {
        get { rollbackBox.withLock { $0 } }
        set { rollbackBox.withLock { $0 = newValue } }
    }
    private var writer: SQLiteConnection { writerBox.withLock { $0 } }

    private init(path: String, writer: SQLiteConnection, readers: [SQLiteConnection], logger: Logger) {
        self.path = path
        self.writerBox = Mutex(writer)
        self.readers = readers
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, readers readerCount: Int = 4, logger: Logger) async throws -> SQLiteDatabaseBackend {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let writer = try await openWriter(path: path, logger: logger)
        var readers: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            try await configure(reader)
            readers.append(reader)
        }
        return SQLiteDatabaseBackend(path: path, writer: writer, readers: readers, logger: logger)
    }

    private static func openWriter(path: String, logger: Logger) async throws -> SQLiteConnection {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        // WAL lets readers proceed while the writer writes; NORMAL sync is durable at checkpoints
        // and safe against corruption in WAL mode.
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"] {
            _ = try await writer.query(pragma)
        }
        try await configure(writer)
        return writer
    }

    /// Closes the writer, which rolls back whatever it still had open, and opens a fresh one.
    /// Called with `writeLock` held.
    private func reopenWriter() async {
        let old = writer
        try? await old.close()
        do {
            let fresh = try await Self.openWriter(path: path, logger: logger)
            writerBox.withLock { $0 = fresh }
            logger.warning("SQLite writer reopened after a failed rollback")
        } catch {
            logger.error("SQLite writer could not be reopened", metadata: ["error": "\(error)"])
        }
    }

    private static func configure(_ connection: SQLiteConnection) async throws {
        for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY"] {
            _ = try await connection.query(pragma)
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let reader = readers[nextReader.next() % readers.count]
        return try await body(TextSafeDatabase(base: reader.sql()))
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await writeLock.lock()
        do {
            let db = TextSafeDatabase(base: writer.sql())
            try await db.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                await writeLock.unlock()
                commits.signal()
                return result
            } catch {
                // A task cancelled inside its transaction (a client gone, a shutdown) still has
                // to end it, and the driver refuses work from a cancelled task: the rollback
                // runs in a task of its own, which is not cancelled.
                let rollback = rollbackStatement
                await Task {
                    do {
                        try await db.raw(SQLQueryString(rollback)).run()
                    } catch {
                        // The writer may still be inside the failed transaction: every later
                        // write would be refused, or join it. A fresh connection starts clean.
                        await self.reopenWriter()
                    }
                }.value
                throw error
            }
        } catch {
            await writeLock.unlock()
            throw error
        }
    }

    public func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
    }

    public func shutdown() async {
        for connection in readers + [writer] {
            try? await connection.close()
        }
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
