import Foundation
import Logging
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Synchronization
import Testing

/// An installation with something in most tables: a workspace, its owner and a token, a
/// WhatsApp channel with secrets, contacts with tags, inbound messages (one with a NUL), an
/// outbound one still in the outbox, events, and a ticket.
struct SeededInstallation {
    let database: any Database
    let workspaceId: Int64
    let ownerId: Int64
    let channelId: Int64

    static func seed(_ database: any Database, messages: Int = 5) async throws -> SeededInstallation {
        let now = Date()
        let created = try await WorkspaceRepository(database: database).createWithOwner(
            name: "Acme", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "hash", at: now)
        let channel = try await ChannelRepository(database: database).create(
            workspaceId: created.workspace.id, kind: .whatsapp, name: "WA",
            credentials: ["accessToken": "secret-token", "appSecret": "app-secret"], apiBaseUrl: nil, actorUserId: nil, at: now)
        let installation = SeededInstallation(database: database, workspaceId: created.workspace.id, ownerId: created.owner.id, channelId: channel.id)
        for index in 0..<messages {
            _ = try await installation.receive("wamid.\(index)", from: "1555000\(index % 3)", text: index == 1 ? "nul\u{0}inside" : "hola \(index)")
        }
        let contacts = ContactRepository(database: database)
        let tagged = try await contacts.create(workspaceId: installation.workspaceId, fields: ContactFields(firstName: "Núñez", tags: ["vip", "b2b"]),
                                               actorUserId: created.owner.id, at: now)
        _ = try await OutboundSender(database: database).send(
            OutboundRequest(workspaceId: installation.workspaceId, contactId: try await installation.contactOf("15550000"), channelId: channel.id,
                            sender: .workflow, senderUserId: nil, content: .text("reply")), at: now)
        _ = try await TokenRepository(database: database).issue(workspaceId: installation.workspaceId, userId: created.owner.id, kind: .api,
                                                                name: "ci", expiresAt: nil, at: now)
        _ = try await OneTimeTokenRepository(database: database).issue(purpose: .eventTicket, userId: created.owner.id,
                                                                       expiresAt: now.addingTimeInterval(30), at: now)
        _ = tagged
        return installation
    }

    @discardableResult
    func receive(_ id: String, from sender: String = "15550001", text: String = "hola") async throws -> InboundResult {
        try await InboundRecorder(database: database).record(
            InboundMessage(channelId: channelId, externalId: sender, displayName: "Ana Pérez", providerMessageId: id, providerTimestamp: Date(), text: text),
            workspaceId: workspaceId, receivedAt: Date())
    }

    func contactOf(_ externalId: String) async throws -> Int64 {
        try await database.read { db in
            try #require(try await db.raw("SELECT contact_id FROM contact_identities WHERE external_id = \(bind: externalId)").first())
                .decode(column: "contact_id", as: Int64.self)
        }
    }

    static func providerIds(_ database: any Database) async throws -> Set<String> {
        try await database.read { db in
            Set(try await db.raw("SELECT provider_message_id FROM messages WHERE direction = 'inbound'").all()
                .map { try $0.decode(column: "provider_message_id", as: String.self) })
        }
    }
}

@Suite("Backup and restore (SQLite)")
struct BackupTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parley-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Webhooks keep arriving while the backup runs; every one acknowledged before the backup
    /// began is in the copy, and the copy restores into a database that opens and migrates.
    @Test func aBackupTakenWhileMessagesArriveHoldsEverythingAcknowledgedBeforeIt() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("live.sqlite").path
        let database = try await SQLiteDatabaseBackend.open(path: path, logger: .quiet)
        try await Migrator(database: database, logger: .quiet).migrate()
        let installation = try await SeededInstallation.seed(database)
        let acknowledged = Mutex<[String]>([])
        let stop = Mutex(false)
        let writer = Task {
            var index = 0
            while !stop.withLock({ $0 }) {
                let id = "stream.\(index)"
                try await installation.receive(id, from: "1666\(index % 50)")
                acknowledged.withLock { $0.append(id) }
                index += 1
            }
        }
        // Let the stream get going, then note what was acknowledged before the backup starts.
        while acknowledged.withLock({ $0.count }) < 20 { try await Task.sleep(for: .milliseconds(5)) }
        let before = Set(acknowledged.withLock { $0 })
        let output = directory.appendingPathComponent("backup.sqlite").path
        let summary = try await SQLiteBackup.backup(database, to: output, logger: .quiet)
        // Keep writing a little after the backup, then stop.
        let afterBackup = acknowledged.withLock { $0.count }
        while acknowledged.withLock({ $0.count }) < afterBackup + 5 { try await Task.sleep(for: .milliseconds(5)) }
        stop.withLock { $0 = true }
        try await writer.value
        let all = Set(acknowledged.withLock { $0 })
        await database.shutdown()

        #expect(summary.schemaVersion == Schema.migrations.map(\.version).max())
        let restoredPath = directory.appendingPathComponent("restored.sqlite").path
        try await SQLiteBackup.restore(from: output, to: restoredPath, force: false, logger: .quiet)
        let restored = try await SQLiteDatabaseBackend.open(path: restoredPath, logger: .quiet)
        #expect(try await Migrator(database: restored, logger: .quiet).migrate().isEmpty)
        let copied = try await SeededInstallation.providerIds(restored)
        #expect(before.isSubset(of: copied))
        #expect(copied.isSubset(of: all.union((0..<5).map { "wamid.\($0)" })))
        let text = try await restored.read { db in
            try await db.raw("SELECT text FROM messages WHERE provider_message_id = 'wamid.1'").first()?.decode(column: "text", as: String.self)
        }
        #expect(text == "nul\u{0}inside")
        await restored.shutdown()
    }

    @Test func aBackupNeverOverwritesAFile() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("db.sqlite").path, logger: .quiet)
        try await Migrator(database: database, logger: .quiet).migrate()
        let output = directory.appendingPathComponent("exists.sqlite").path
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: output))
        await #expect(throws: SQLiteBackup.Failure.outputExists(output)) {
            try await SQLiteBackup.backup(database, to: output, logger: .quiet)
        }
        await database.shutdown()
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "keep me")
    }

    /// A restore refuses a file that is not a Parley database, a database still open, and an
    /// existing database without --force; with it the old file is kept beside the new one.
    @Test func restoreRefusesWhatItShouldAndKeepsTheOldDatabase() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let livePath = directory.appendingPathComponent("live.sqlite").path
        let live = try await SQLiteDatabaseBackend.open(path: livePath, logger: .quiet)
        try await Migrator(database: live, logger: .quiet).migrate()
        _ = try await SeededInstallation.seed(live, messages: 2)
        let backup = directory.appendingPathComponent("b.sqlite").path
        _ = try await SQLiteBackup.backup(live, to: backup, logger: .quiet)

        let junk = directory.appendingPathComponent("junk.sqlite").path
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: junk))
        await #expect(throws: (any Error).self) { try await SQLiteBackup.restore(from: junk, to: livePath, force: true, logger: .quiet) }
        await #expect(throws: SQLiteBackup.Failure.inUse(livePath)) {
            try await SQLiteBackup.restore(from: backup, to: livePath, force: true, logger: .quiet)
        }
        // Written after the backup: gone after the restore, but kept in the old file.
        _ = try await InboundRecorder(database: live).record(
            InboundMessage(channelId: 1, externalId: "1999", displayName: nil, providerMessageId: "after.backup", providerTimestamp: Date(), text: "late"),
            workspaceId: 1, receivedAt: Date())
        await live.shutdown()
        await #expect(throws: SQLiteBackup.Failure.targetExists(livePath)) {
            try await SQLiteBackup.restore(from: backup, to: livePath, force: false, logger: .quiet)
        }
        try await SQLiteBackup.restore(from: backup, to: livePath, force: true, logger: .quiet, now: Date(timeIntervalSince1970: 1_700_000_000))
        let restored = try await SQLiteDatabaseBackend.open(path: livePath, logger: .quiet)
        #expect(try await SeededInstallation.providerIds(restored) == ["wamid.0", "wamid.1"])
        await restored.shutdown()
        let kept = try await SQLiteDatabaseBackend.open(path: livePath + ".before-restore-1700000000", logger: .quiet)
        #expect(try await SeededInstallation.providerIds(kept).contains("after.backup"))
        await kept.shutdown()
    }
}
