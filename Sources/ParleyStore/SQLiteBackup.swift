import Foundation
import Logging
import SQLiteKit
import SQLiteNIO

/// Online backups and restores of the embedded SQLite database.
///
/// A backup is `VACUUM INTO` on a reader connection: one read transaction, so the copy is the
/// database exactly as it was when the backup began (every transaction committed before then,
/// nothing after), while the server goes on reading and writing. A restore replaces the
/// database file with a checked copy of a backup, and only while nothing has the file open.
public enum SQLiteBackup {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case outputExists(String)
        case notAParleyBackup(String)
        case newerSchema(backup: Int, known: Int)
        case inUse(String)
        case targetExists(String)

        public var description: String {
            switch self {
            case .outputExists(let path): return "\(path) already exists; choose a new file name"
            case .notAParleyBackup(let why): return "not a Parley backup: \(why)"
            case .newerSchema(let backup, let known):
                return "the backup's schema (version \(backup)) is newer than this Parley knows (version \(known)); restore it with a newer parley"
            case .inUse(let path): return "\(path) is in use (a running parley serve?); stop it before restoring"
            case .targetExists(let path): return "\(path) exists; pass --force to replace it (the old file is kept beside it)"
            }
        }
    }

    /// What a backup or a checked backup file holds.
    public struct Summary: Sendable, Equatable {
        public let schemaVersion: Int
        public let bytes: Int64
    }

    /// Writes a consistent copy of `database` to `output`, which must not exist yet. The copy is
    /// written beside it under a temporary name and renamed when complete, so `output` never
    /// names a half-written file.
    public static func backup(_ database: SQLiteDatabaseBackend, to output: String, logger: Logger) async throws -> Summary {
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: output) else { throw Failure.outputExists(output) }
        let partial = output + ".partial-\(UUID().uuidString.prefix(8))"
        do {
            try await database.read { db in
                try await db.raw("VACUUM INTO \(bind: partial)").run()
            }
            try fileManager.moveItem(atPath: partial, toPath: output)
        } catch {
            try? fileManager.removeItem(atPath: partial)
            throw error
        }
        return try await check(output, logger: logger)
    }

    /// A connection of its own with a bounded busy wait: the driver's default handler waits
    /// for a lock forever.
    static func connection(_ path: String, busyTimeoutMs: Int, logger: Logger) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeoutMs)")
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }

    /// Opens `path` on its own and checks that it is an intact Parley database whose schema this
    /// Parley can run (it applies newer migrations at start); returns its schema version.
    public static func check(_ path: String, logger: Logger) async throws -> Summary {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure.notAParleyBackup("\(path) does not exist") }
        let connection = try await Self.connection(path, busyTimeoutMs: 5000, logger: logger)
        do {
            let integrity = try await connection.query("PRAGMA integrity_check").first?.column("integrity_check")?.string
            guard integrity == "ok" else { throw Failure.notAParleyBackup("integrity check says \(integrity ?? "nothing")") }
            let hasMigrations = try await connection.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").first != nil
            guard hasMigrations else { throw Failure.notAParleyBackup("it has no schema_migrations table") }
            let version = Int(try await connection.query("SELECT max(version) AS v FROM schema_migrations").first?.column("v")?.integer ?? 0)
            let known = Schema.migrations.map(\.version).max() ?? 0
            guard version <= known else { throw Failure.newerSchema(backup: version, known: known) }
            try await connection.close()
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            return Summary(schemaVersion: version, bytes: size)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Whether some connection, in this process or another, has the database at `path` open.
    /// A connection that asks for exclusive locking is refused while any other holds the file
    /// in WAL mode, and granted (then released at once) otherwise.
    public static func isInUse(_ path: String, logger: Logger) async throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        // No waiting: a lock held elsewhere is the answer.
        let connection = try await Self.connection(path, busyTimeoutMs: 0, logger: logger)
        let inUse: Bool
        do {
            _ = try await connection.query("PRAGMA locking_mode = EXCLUSIVE")
            _ = try await connection.query("BEGIN EXCLUSIVE")
            _ = try await connection.query("COMMIT")
            inUse = false
        } catch let error as SQLiteError where error.reason == .busy || error.reason == .locked {
            inUse = true
        } catch {
            try? await connection.close()
            throw error
        }
        // Closed before anyone else writes: until then it may hold the lock it asked for.
        try await connection.close()
        return inUse
    }

    /// Replaces the database at `target` with a checked copy of the backup at `input`. An
    /// existing database is kept as `TARGET.before-restore-<time>` and replaced only with
    /// `force`; a database in use is never touched.
    @discardableResult
    public static func restore(from input: String, to target: String, force: Bool, logger: Logger, now: Date = Date()) async throws -> Summary {
        let summary = try await check(input, logger: logger)
        let fileManager = FileManager.default
        let exists = fileManager.fileExists(atPath: target)
        if exists {
            guard !(try await isInUse(target, logger: logger)) else { throw Failure.inUse(target) }
            guard force else { throw Failure.targetExists(target) }
        }
        let directory = (target as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // A fresh copy rather than the file itself: the backup stays untouched for next time,
        // and the copy is written whole before it takes the database's name.
        let staged = target + ".restoring-\(UUID().uuidString.prefix(8))"
        do {
            let source = try await Self.connection(input, busyTimeoutMs: 5000, logger: logger)
            do {
                _ = try await source.query("VACUUM INTO ?", [.text(staged)])
                try await source.close()
            } catch {
                try? await source.close()
                throw error
            }
            if exists {
                // The in-use check's connection closed last, so its WAL was checkpointed into the
                // file; any -wal or -shm left over belongs to the old file and goes with it.
                let stamp = Int64(now.timeIntervalSince1970)
                let kept = target + ".before-restore-\(stamp)"
                try fileManager.moveItem(atPath: target, toPath: kept)
                for suffix in ["-wal", "-shm"] where fileManager.fileExists(atPath: target + suffix) {
                    try fileManager.moveItem(atPath: target + suffix, toPath: kept + suffix)
                }
            }
            try fileManager.moveItem(atPath: staged, toPath: target)
        } catch {
            try? fileManager.removeItem(atPath: staged)
            throw error
        }
        return summary
    }
}
