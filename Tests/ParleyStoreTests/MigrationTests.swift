import Foundation
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

@Suite("Migrations and transactions")
struct MigrationTests {
    @Test(arguments: TestBackend.all)
    func migrationsAreRecordedAndSafeToRunTwice(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let migrator = Migrator(database: database, logger: .quiet)
            #expect(try await migrator.appliedVersions() == Schema.migrations.map(\.version))
            let appliedAgain = try await migrator.migrate()
            #expect(appliedAgain.isEmpty)
            #expect(try await migrator.appliedVersions() == Schema.migrations.map(\.version))
        }
    }

    /// Contact search's trigram indexes keep no pending list that every search would read.
    @Test(.enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
    func searchIndexesTakeEachChangeAtOnce() async throws {
        try await TestBackend.postgres.withDatabase { database in
            let options = try await database.read { db in
                try await db.raw("""
                    SELECT relname, array_to_string(reloptions, ',') AS options FROM pg_class
                    WHERE relname IN ('contacts_search_name_trgm', 'contacts_phone_digits_trgm', 'contact_identities_phone_trgm') ORDER BY relname
                    """).all().map { (try $0.decode(column: "relname", as: String.self), try $0.decode(column: "options", as: String?.self)) }
            }
            #expect(options.map(\.0) == ["contact_identities_phone_trgm", "contacts_phone_digits_trgm", "contacts_search_name_trgm"])
            #expect(options.allSatisfy { $0.1 == "fastupdate=off" })
        }
    }

    @Test(arguments: TestBackend.all)
    func transactionRollsBackWhenTheBodyThrows(backend: TestBackend) async throws {
        struct Boom: Error {}
        try await backend.withDatabase { database in
            let workspaces = WorkspaceRepository(database: database)
            await #expect(throws: Boom.self) {
                try await database.transaction { db in
                    _ = try await WorkspaceRepository.insert(on: db, name: "Doomed", at: Date())
                    throw Boom()
                }
            }
            #expect(try await workspaces.count() == 0)
            let events = try await database.read { db in try await db.raw("SELECT COUNT(*) AS n FROM events").first()?.decode(column: "n", as: Int.self) }
            #expect(events == 0)

            _ = try await database.transaction { db in try await WorkspaceRepository.insert(on: db, name: "Kept", at: Date()) }
            #expect(try await workspaces.count() == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func concurrentTransactionsDoNotLoseUpdates(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let channel = try await Fixtures.channel(in: database)
            let forUpdate = database.facts.forUpdate
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<25 {
                    group.addTask {
                        try await database.transaction { db in
                            let row = try await db.raw("SELECT viber_month_count FROM channels WHERE id = \(bind: channel.id) \(unsafeRaw: forUpdate)").first()
                            let count = try #require(row).decode(column: "viber_month_count", as: Int64.self)
                            try await db.raw("UPDATE channels SET viber_month_count = \(bind: count + 1) WHERE id = \(bind: channel.id)").run()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let stored = try await ChannelRepository(database: database).find(id: channel.id, workspaceId: channel.workspaceId)
            #expect(stored?.viberMonthCount == 25)
        }
    }

    @Test(arguments: TestBackend.all)
    func atMostOneOpenConversationPerContact(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let channel = try await Fixtures.channel(in: database)
            let contactId = try await database.transaction { db in
                try await db.raw("""
                    INSERT INTO contacts (workspace_id, first_name, created_at, updated_at)
                    VALUES (\(bind: channel.workspaceId), 'Ana', 0, 0) RETURNING id
                    """).first().map { try $0.decode(column: "id", as: Int64.self) }
            }
            let contact = try #require(contactId)
            func open() async throws {
                try await database.transaction { db in
                    try await db.raw("""
                        INSERT INTO conversations (workspace_id, contact_id, status, opened_at, last_activity_at)
                        VALUES (\(bind: channel.workspaceId), \(bind: contact), 'open', 0, 0)
                        """).run()
                }
            }
            try await open()
            await #expect(throws: (any Error).self) { try await open() }
            try await database.transaction { db in
                try await db.raw("UPDATE conversations SET status = 'closed' WHERE contact_id = \(bind: contact)").run()
            }
            try await open()
            let counts = try await database.read { db in
                try await db.raw("SELECT status, COUNT(*) AS n FROM conversations GROUP BY status ORDER BY status").all()
                    .map { (try $0.decode(column: "status", as: String.self), try $0.decode(column: "n", as: Int.self)) }
            }
            #expect(counts.map(\.0) == ["closed", "open"])
            #expect(counts.map(\.1) == [1, 1])
        }
    }

    @Test(arguments: TestBackend.all)
    func eventIdsIncrease(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let workspace = try await database.transaction { db in try await WorkspaceRepository.insert(on: db, name: "W", at: Date()) }
            for index in 0..<5 {
                _ = try await database.transaction { db in
                    try await EventLog.append(on: db, workspaceId: workspace.id, type: .contactCreated, subjectId: Int64(index), payload: NoPayload(), at: Date())
                }
            }
            let events = try await EventLog.list(in: database, workspaceId: workspace.id, after: 0, limit: 100)
            #expect(events.count == 6)
            #expect(events.map(\.id) == events.map(\.id).sorted())
            #expect(Set(events.map(\.id)).count == 6)
            #expect(events.first?.type == .workspaceCreated)
            let later = try await EventLog.list(in: database, workspaceId: workspace.id, after: events[2].id, limit: 100)
            #expect(later.map(\.id) == Array(events.map(\.id).dropFirst(3)))
        }
    }
}

/// Rows most store tests need.
enum Fixtures {
    static func channel(in database: any Database, kind: ChannelKind = .viber) async throws -> Channel {
        let created = try await WorkspaceRepository(database: database).createWithOwner(
            name: "Acme", ownerEmail: "owner-\(UUID().uuidString.prefix(8))@example.com", ownerName: "Owner", ownerPasswordHash: "x", at: Date()
        )
        return try await ChannelRepository(database: database).create(
            workspaceId: created.workspace.id, kind: kind, name: "Main", credentials: ["authToken": "s3cret"],
            apiBaseUrl: nil, actorUserId: created.owner.id, at: Date()
        )
    }
}
