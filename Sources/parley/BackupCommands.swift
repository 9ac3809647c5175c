import ArgumentParser
import Foundation
import ParleyStore

/// `parley backup`: a consistent copy of the embedded database while the server runs.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database to a file while the server runs (PostgreSQL: use pg_dump, see the README).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The backup file to write; it must not exist yet.")
    var output: String

    func run() async throws {
        let logger = try database.makeLogger()
        let url = database.resolvedDatabaseURL
        guard let path = SQLitePath.from(url: url) else {
            throw ValidationError("parley backup copies SQLite databases; back up PostgreSQL with pg_dump (see the README's Backup section)")
        }
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no database at \(path)") }
        let db = try await SQLiteDatabaseBackend.open(path: path, readers: 1, logger: logger)
        do {
            let summary = try await SQLiteBackup.backup(db, to: output, logger: logger)
            await db.shutdown()
            print("Backed up \(path) to \(output) (\(summary.bytes) bytes, schema version \(summary.schemaVersion)).")
        } catch let failure as SQLiteBackup.Failure {
            await db.shutdown()
            throw ValidationError(failure.description)
        } catch {
            await db.shutdown()
            throw error
        }
    }
}

/// `parley restore`: puts a backup back in place of the embedded database.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the SQLite database with a backup (stop the server first; PostgreSQL: use pg_restore).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The backup file written by parley backup.")
    var input: String

    @Flag(help: "Replace an existing database (it is kept as FILE.before-restore-<time>).")
    var force = false

    func run() async throws {
        let logger = try database.makeLogger()
        guard let path = SQLitePath.from(url: database.resolvedDatabaseURL) else {
            throw ValidationError("parley restore restores SQLite databases; restore PostgreSQL with pg_restore (see the README's Backup section)")
        }
        do {
            let summary = try await SQLiteBackup.restore(from: input, to: path, force: force, logger: logger)
            print("Restored \(input) to \(path) (schema version \(summary.schemaVersion)); parley serve applies any newer migrations at start.")
        } catch let failure as SQLiteBackup.Failure {
            throw ValidationError(failure.description)
        }
    }
}

/// The file path of a `sqlite://` database URL, or nil for any other engine.
enum SQLitePath {
    static func from(url: String) -> String? {
        if url.hasPrefix("sqlite://") { return String(url.dropFirst("sqlite://".count)) }
        if url.hasPrefix("sqlite:") { return String(url.dropFirst("sqlite:".count)) }
        return nil
    }
}
