import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// The embedded backend: one SQLite file in WAL mode, one writer connection whose transactions
/// are serialised, and a few reader connections that never wait for the writer.
public final class SQLiteDatabaseBackend: Database {
    public let kind = DatabaseKind.sqlite
    public let commits = CommitSignal()
    public let path: String
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncLock()
    private let nextReader = Counter()

    private init(path: String, writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.path = path
        self.writer = writer
        self.readers = readers
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, readers readerCount: Int = 4, logger: Logger) async throws -> SQLiteDatabaseBackend {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        // WAL lets readers proceed while the writer writes; NORMAL sync is durable at checkpoints
        // and safe against corruption in WAL mode.
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"] {
            _ = try await writer.query(pragma)
        }
        try await configure(writer)
        var readers: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            try await configure(reader)
            readers.append(reader)
        }
        return SQLiteDatabaseBackend(path: path, writer: writer, readers: readers)
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
                try? await db.raw("ROLLBACK").run()
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
