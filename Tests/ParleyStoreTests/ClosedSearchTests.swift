import Foundation
import ParleyCore
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Inbox → Closed → search by name finds exactly the contacts whose latest conversation is
/// closed, through every change of state (SQLite keeps their names in an index of their own,
/// migration 16; PostgreSQL answers the same queries from the conversations).
@Suite("Closed conversations found by name")
struct ClosedSearchTests {
    struct World {
        let database: any Database
        let workspaceId: Int64
        var contacts: ContactRepository { ContactRepository(database: database) }
        var conversations: ConversationRepository { ConversationRepository(database: database) }

        func contact(_ first: String, _ last: String) async throws -> Int64 {
            try await contacts.create(workspaceId: workspaceId, fields: ContactFields(firstName: first, lastName: last), actorUserId: nil, at: Date()).id
        }

        func open(_ contact: Int64) async throws {
            _ = try await conversations.open(contactId: contact, workspaceId: workspaceId, actorUserId: nil, at: Date())
        }

        func close(_ contact: Int64) async throws {
            _ = try await conversations.close(contactId: contact, workspaceId: workspaceId, actorUserId: nil, category: nil, summary: nil,
                                              logic: .keep, at: Date())
        }

        /// The contacts of the inbox's rows for `search`, in the given status.
        func found(_ search: String, _ status: StatusFilter = .closed, view: InboxView = .all) async throws -> Set<Int64> {
            let rows = try await InboxRepository(database: database).list(
                InboxQuery(workspaceId: workspaceId, viewerId: 0, view: view, status: status, search: ContactSearchQuery(search), limit: 50))
            return Set(rows.map(\.conversation.contactId))
        }
    }

    /// On SQLite, the contacts whose closed-name pieces match `text`: the index must hold no
    /// contact that left it, or searches would read them for nothing.
    static func indexed(_ database: any Database, _ text: String) async throws -> Set<Int64>? {
        guard database.kind == .sqlite else { return nil }
        return try await database.read { db in
            Set(try await db.raw("SELECT rowid AS id FROM closed_contact_pieces WHERE closed_contact_pieces MATCH \(bind: SearchPieces.match(.closedName, text: text).query)")
                .all().map { try $0.decode(column: "id", as: Int64.self) })
        }
    }

    static func world(_ database: any Database) async throws -> World {
        World(database: database, workspaceId: try await Fixtures.channel(in: database).workspaceId)
    }

    @Test(arguments: TestBackend.all)
    func followsEachContactsLatestConversation(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let w = try await Self.world(database)
            let closed = try await w.contact("Anabella", "Closedwood")
            let open = try await w.contact("Anabella", "Openshaw")
            let reopened = try await w.contact("Anabella", "Reopenfield")
            let renamed = try await w.contact("Anabella", "Renamewood")
            let deleted = try await w.contact("Anabella", "Deletewood")
            _ = try await w.contact("Anabella", "Neverwrote")
            for contact in [closed, open, reopened, renamed, deleted] { try await w.open(contact) }
            for contact in [closed, reopened, renamed, deleted] { try await w.close(contact) }
            #expect(try await w.found("anabella") == [closed, reopened, renamed, deleted])
            if let indexed = try await Self.indexed(database, "anabella") { #expect(indexed == [closed, reopened, renamed, deleted]) }

            try await w.open(reopened)
            _ = try await w.contacts.update(id: renamed, workspaceId: w.workspaceId, fields: ContactFields(firstName: "Beatriz", lastName: "Renamewood"),
                                            actorUserId: nil, at: Date())
            _ = try await w.contacts.delete(id: deleted, workspaceId: w.workspaceId, actorUserId: nil, at: Date())
            #expect(try await w.found("anabella") == [closed])
            if let indexed = try await Self.indexed(database, "anabella") { #expect(indexed == [closed]) }
            #expect(try await w.found("beatriz") == [renamed])
            #expect(try await w.found("beatriz renamew") == [renamed], "a query longer than a piece")
            #expect(try await w.found("closedwood", view: .unassigned) == [closed])
            // The other statuses are found as before.
            #expect(try await w.found("anabella", .open) == [open, reopened])
            #expect(try await w.found("anabella", .all) == [closed, open, reopened])

            // Closed again, and its name found again; renamed while closed, found by the new name only.
            try await w.close(reopened)
            _ = try await w.contacts.update(id: closed, workspaceId: w.workspaceId, fields: ContactFields(firstName: "Carmela", lastName: "Closedwood"),
                                            actorUserId: nil, at: Date())
            #expect(try await w.found("anabella") == [reopened])
            if let indexed = try await Self.indexed(database, "anabella") { #expect(indexed == [reopened]) }
            #expect(try await w.found("carmela clo") == [closed])
        }
    }

    /// The migration indexes the names of contacts whose conversations were closed before it.
    @Test
    func theMigrationIndexesConversationsClosedBeforeIt() async throws {
        try await TestBackend.sqlite.withDatabase { database in
            let w = try await Self.world(database)
            let closed = try await w.contact("Dolores", "Before")
            let open = try await w.contact("Dolores", "Stillopen")
            for contact in [closed, open] { try await w.open(contact) }
            try await w.close(closed)
            // Back to the schema before migration 16, with the data kept.
            try await database.transaction { db in
                for statement in [
                    "DROP TRIGGER conversations_closed_insert", "DROP TRIGGER conversations_closed_update", "DROP TRIGGER conversations_closed_delete",
                    "DROP TRIGGER contacts_closed_rename", "DROP TRIGGER contacts_closed_delete", "DROP INDEX conversations_closed_latest",
                    "DROP TABLE closed_contact_pieces", "DELETE FROM schema_migrations WHERE version = 16",
                ] {
                    try await db.raw("\(unsafeRaw: statement)").run()
                }
            }
            #expect(try await Migrator(database: database, logger: .quiet).migrate() == [16])
            #expect(try await w.found("dolores") == [closed])
            #expect(try await w.found("dolores", .open) == [open])
        }
    }
}
