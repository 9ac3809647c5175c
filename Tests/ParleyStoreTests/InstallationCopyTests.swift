import Foundation
import Logging
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// An empty PostgreSQL database of its own (not the migrated template: `parley move` migrates).
func withBlankPostgres<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
    let server = try #require(ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"])
    var components = try #require(URLComponents(string: server))
    let name = "parley_move_" + UUID().uuidString.prefix(8).lowercased()
    let admin = try await DatabaseFactory.open(url: server, logger: .quiet)
    try await admin.read { db in try await db.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
    components.path = "/" + name
    let url = try #require(components.string)
    do {
        let result = try await body(url)
        try await admin.read { db in try await db.raw("DROP DATABASE \(unsafeRaw: name) WITH (FORCE)").run() }
        await admin.shutdown()
        return result
    } catch {
        try? await admin.read { db in try await db.raw("DROP DATABASE \(unsafeRaw: name) WITH (FORCE)").run() }
        await admin.shutdown()
        throw error
    }
}

@Suite("parley move: SQLite to PostgreSQL", .enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
struct InstallationCopyTests {
    /// Every table arrives with the same rows (counted and checksummed on both sides), the
    /// PostgreSQL-only search indexes find what SQLite's full-text tables found, secrets and a
    /// NUL inside a text survive, and new rows get ids past every id SQLite ever gave out.
    @Test func aSeededInstallationArrivesWhole() async throws {
        try await TestBackend.sqlite.withDatabase { source in
            let seeded = try await SeededInstallation.seed(source, messages: 30)
            // A deleted contact's id must not be handed out again after the move.
            let doomed = try await ContactRepository(database: source).create(
                workspaceId: seeded.workspaceId, fields: ContactFields(firstName: "Gone"), actorUserId: nil, at: Date())
            try await source.transaction { db in try await db.raw("DELETE FROM contacts WHERE id = \(bind: doomed.id)").run() }

            try await withBlankPostgres { url in
                let target = try await DatabaseFactory.open(url: url, logger: .quiet)
                try await Migrator(database: target, logger: .quiet).migrate()
                let copy = try InstallationCopy(source: source, target: target)
                let plans = try await copy.plan()
                let tables = Set(plans.map(\.name))
                for table in ["workspaces", "users", "api_tokens", "channels", "contacts", "contact_tags", "contact_identities", "conversations",
                              "conversation_activities", "messages", "events", "outbox", "one_time_tokens", "webchat_channels", "message_templates"] {
                    #expect(tables.contains(table), "\(table) is copied")
                }
                #expect(!tables.contains { $0.hasPrefix("contact_pieces") || $0.hasPrefix("identity_pieces") } && !tables.contains("schema_migrations"))
                // Parents first: every foreign key finds its row.
                let contactsAt = try #require(plans.firstIndex { $0.name == "contacts" })
                let messagesAt = try #require(plans.firstIndex { $0.name == "messages" })
                #expect(contactsAt < messagesAt)

                let copied = try await copy.copy(plans)
                #expect(copied["messages"] == 31)
                let checks = try await copy.verify(plans)
                let mismatched = checks.filter { !$0.matches }.map(\.table)
                #expect(mismatched.isEmpty)
                #expect(checks.first { $0.table == "events" }.map { $0.targetRows > 0 } == true)

                let credentials = try await ChannelRepository(database: target).providerConfig(channelId: seeded.channelId)?.credentials
                #expect(credentials?["appSecret"] == "app-secret")
                let text = try await target.read { db in
                    try await db.raw("SELECT text FROM messages WHERE provider_message_id = 'wamid.1'").first()?.decode(column: "text", as: String.self)
                }
                #expect(text == "nul\u{0}inside")
                let found = try await ContactRepository(database: target).list(workspaceId: seeded.workspaceId, query: ContactSearchQuery("nunez"), beforeId: nil, limit: 5)
                #expect(found.map(\.firstName) == ["Núñez"])
                #expect(try await OutboxRepository(database: target).pendingCount() == 1)

                let next = try await ContactRepository(database: target).create(
                    workspaceId: seeded.workspaceId, fields: ContactFields(firstName: "New"), actorUserId: nil, at: Date())
                #expect(next.id > doomed.id)
                let moved = SeededInstallation(database: target, workspaceId: seeded.workspaceId, ownerId: seeded.ownerId, channelId: seeded.channelId)
                let reply = try await moved.receive("wamid.after-move", from: "15550009")
                #expect(reply.stored)
                await target.shutdown()
            }
        }
    }

    @Test func aTargetWithRowsIsRefusedAndLeftAsItWas() async throws {
        try await TestBackend.sqlite.withDatabase { source in
            _ = try await SeededInstallation.seed(source, messages: 2)
            try await TestBackend.postgres.withDatabase { target in
                _ = try await WorkspaceRepository(database: target).createWithOwner(
                    name: "Already here", ownerEmail: "x@example.com", ownerName: "X", ownerPasswordHash: "h", at: Date())
                let copy = try InstallationCopy(source: source, target: target)
                await #expect(throws: InstallationCopyError.self) { _ = try await copy.plan() }
                let names = try await target.read { db in
                    try await db.raw("SELECT name FROM workspaces").all().map { try $0.decode(column: "name", as: String.self) }
                }
                #expect(names == ["Already here"])
            }
        }
    }

    /// A table no migration made cannot be carried over faithfully: the move stops before
    /// writing anything and names it.
    @Test func aTableItDoesNotKnowStopsTheMove() async throws {
        try await TestBackend.sqlite.withDatabase { source in
            _ = try await SeededInstallation.seed(source, messages: 1)
            try await source.transaction { db in try await db.raw("CREATE TABLE stray_notes (id INTEGER PRIMARY KEY, body TEXT)").run() }
            try await TestBackend.postgres.withDatabase { target in
                let copy = try InstallationCopy(source: source, target: target)
                await #expect(throws: InstallationCopyError.unknownTable("stray_notes", why: "the target has no such table (was it made outside Parley's migrations?)")) {
                    _ = try await copy.plan()
                }
            }
        }
    }

    @Test func aSourceOnAnOlderSchemaIsRefused() async throws {
        try await TestBackend.sqlite.withDatabase { source in
            let last = try #require(Schema.migrations.map(\.version).max())
            try await source.transaction { db in try await db.raw("DELETE FROM schema_migrations WHERE version = \(bind: last)").run() }
            try await TestBackend.postgres.withDatabase { target in
                let copy = try InstallationCopy(source: source, target: target)
                await #expect(throws: InstallationCopyError.self) { _ = try await copy.plan() }
            }
        }
        #expect(throws: InstallationCopyError.wrongEngines) {
            try InstallationCopy(source: SchemaOnlyDatabase(kind: .postgres), target: SchemaOnlyDatabase(kind: .postgres))
        }
    }
}

/// Stands in for a database whose engine is all that matters to the check under test.
struct SchemaOnlyDatabase: Database {
    let kind: DatabaseKind
    let commits = CommitSignal()
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T { throw StoreError.notFound("database") }
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T { throw StoreError.notFound("database") }
    func shutdown() async {}
    func isUniqueViolation(_ error: any Error) -> Bool { false }
}
