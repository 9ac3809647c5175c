import ArgumentParser
import Foundation
import ParleyStore

/// Where the installation's secret key (for channel credentials at rest) comes from:
/// `PARLEY_SECRET_KEY` (base64 of 32 bytes), else a key file — `PARLEY_SECRET_KEY_FILE`, or
/// `parley.key` beside the SQLite database (the working directory for PostgreSQL) — created
/// with mode 0600 on first start.
enum SecretKey {
    static func file(databaseURL: String) -> String {
        if let path = Environment.value("PARLEY_SECRET_KEY_FILE") { return path }
        let directory = SQLitePath.from(url: databaseURL).map { ($0 as NSString).deletingLastPathComponent } ?? ""
        return ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent("parley.key")
    }

    static func load(databaseURL: String) throws -> SecretBox {
        if let text = Environment.value("PARLEY_SECRET_KEY") {
            guard let box = SecretBox(base64: text) else { throw ValidationError("PARLEY_SECRET_KEY must be the base64 of 32 bytes") }
            return box
        }
        let path = file(databaseURL: databaseURL)
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let box = SecretBox(base64: text) else { throw ValidationError("\(path) does not hold a key (base64 of 32 bytes)") }
            return box
        }
        // Created exclusively: of instances starting together on one directory, the first one's
        // key is the key, and the others read it.
        let text = SecretBox.generateKeyText()
        let temporary = path + ".\(getpid()).new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("could not write the key file \(temporary)")
        }
        defer { unlink(temporary) }
        if link(temporary, path) != 0 {
            guard errno == EEXIST, let existing = try? String(contentsOfFile: path, encoding: .utf8), let box = SecretBox(base64: existing) else {
                throw ValidationError("could not create the key file \(path)")
            }
            return box
        }
        guard let box = SecretBox(base64: text) else { throw ValidationError("could not make a key") }
        return box
    }

    /// Writes a key file readable by its owner only, replacing any old one in one step.
    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("could not write the key file \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw ValidationError("could not move the key file into place at \(path)") }
    }
}

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the key channel credentials are encrypted with.",
                                                    subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every channel's credentials under a new key and replace the key file (or print the new PARLEY_SECRET_KEY).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let logger = try database.makeLogger()
            let url = database.resolvedDatabaseURL
            let old = try SecretKey.load(databaseURL: url)
            let text = SecretBox.generateKeyText()
            guard let new = SecretBox(base64: text) else { throw ValidationError("could not make a key") }
            let db = try await DatabaseFactory.open(url: url, logger: logger)
            do {
                let count = try await ChannelRepository(database: db).encryptStoredCredentials(with: new, readingWith: old)
                await db.shutdown()
                if Environment.value("PARLEY_SECRET_KEY") != nil {
                    print("Re-encrypted \(count) channels. Set PARLEY_SECRET_KEY to this new key before the next start:\n\(text)")
                } else {
                    try SecretKey.write(text, to: SecretKey.file(databaseURL: url))
                    print("Re-encrypted \(count) channels; the new key is in \(SecretKey.file(databaseURL: url)).")
                }
            } catch {
                await db.shutdown()
                throw error
            }
        }
    }
}
