import Foundation
import ParleyCore
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Substring search at the edges of its index: queries longer than a piece, values longer
/// than the indexed positions, characters outside ASCII, and edits to every searched field.
/// Both engines must agree (PostgreSQL answers the same queries with trigram indexes).
@Suite("Contact search pieces")
struct SearchPiecesTests {
    static func names(_ database: any Database, _ workspaceId: Int64, _ query: String) async throws -> [Int64] {
        try await ContactRepository(database: database)
            .list(workspaceId: workspaceId, query: ContactSearchQuery(query), beforeId: nil, limit: 50).map(\.id).sorted()
    }

    static func contact(_ database: any Database, _ workspaceId: Int64, _ first: String, _ last: String? = nil) async throws -> Int64 {
        try await ContactRepository(database: database).create(
            workspaceId: workspaceId, fields: ContactFields(firstName: first, lastName: last), actorUserId: nil, at: Date()).id
    }

    @Test(arguments: TestBackend.all)
    func queriesLongerThanAPieceMatchWhole(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let ws = try await Fixtures.channel(in: database).workspaceId
            let max = try await Self.contact(database, ws, "Maximiliano", "Fernández-Oyarzábal")
            #expect(try await Self.names(database, ws, "maximiliano fernandez-oy") == [max])
            #expect(try await Self.names(database, ws, "iliano fernández-oyarzábal") == [max])
            // The same first twelve characters, a different end.
            #expect(try await Self.names(database, ws, "maximiliano fernandes").isEmpty)
            #expect(try await Self.names(database, ws, "maximiliano fernandez-oyarzabalx").isEmpty)
        }
    }

    @Test(arguments: TestBackend.all)
    func valuesLongerThanTheIndexedPositionsAreFoundToTheirEnd(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let ws = try await Fixtures.channel(in: database).workspaceId
            let long = try await Self.contact(database, ws, "Long")
            let other = try await Self.contact(database, ws, "Other")
            // No form accepts such a name; a provider's profile might carry one.
            let name = "long " + String(repeating: "x", count: 290) + " quetzalcoatl"
            let digits = String(repeating: "1", count: 300) + "987654"
            try await database.transaction { db in
                try await db.raw("UPDATE contacts SET search_name = \(bind: name), phone_digits = \(bind: digits) WHERE id = \(bind: long)").run()
            }
            #expect(try await Self.names(database, ws, "quetzalcoatl") == [long])
            #expect(try await Self.names(database, ws, "x quetzal") == [long])
            #expect(try await Self.names(database, ws, "long xxx") == [long])
            #expect(try await Self.names(database, ws, "987 654") == [long])
            #expect(try await Self.names(database, ws, "other") == [other])
        }
    }

    @Test(arguments: TestBackend.all)
    func charactersBeyondASCII(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let ws = try await Fixtures.channel(in: database).workspaceId
            let flower = try await Self.contact(database, ws, "Ana 🌸", "Flörès Łukaszewicz")
            let hanzi = try await Self.contact(database, ws, "王小明", "Søndergård")
            #expect(try await Self.names(database, ws, "🌸 flo") == [flower])
            #expect(try await Self.names(database, ws, "a 🌸") == [flower])
            #expect(try await Self.names(database, ws, "ŁUKASZ") == [flower])
            #expect(try await Self.names(database, ws, "小明") == [hanzi])
            #expect(try await Self.names(database, ws, "王小明 søn") == [hanzi])
            #expect(try await Self.names(database, ws, "🌷 flo").isEmpty)
        }
    }

    @Test(arguments: TestBackend.all)
    func editsToEverySearchedFieldKeepTheIndexInStep(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let channel = try await Fixtures.channel(in: database, kind: .whatsapp)
            let ws = channel.workspaceId
            let anna = try await Self.contact(database, ws, "Anana", "Banana")
            #expect(try await Self.names(database, ws, "nana") == [anna])
            _ = try await ContactRepository(database: database).update(id: anna, workspaceId: ws, fields: ContactFields(firstName: "Bob", lastName: "Stone"), actorUserId: nil, at: Date())
            #expect(try await Self.names(database, ws, "nana").isEmpty)
            #expect(try await Self.names(database, ws, "ob sto") == [anna])

            // A WhatsApp identity's number finds its contact; a new number replaces the old one.
            let identity = try await database.transaction { db in
                try await db.raw("""
                    INSERT INTO contact_identities (workspace_id, contact_id, channel_id, external_id, phone_digits, created_at)
                    VALUES (\(bind: ws), \(bind: anna), \(bind: channel.id), '5215512345678', '5215512345678', 0) RETURNING id
                    """).first()?.decode(column: "id", as: Int64.self)
            }
            let identityId = try #require(identity)
            #expect(try await Self.names(database, ws, "55 1234 5678") == [anna])
            try await database.transaction { db in
                try await db.raw("UPDATE contact_identities SET phone_digits = '4915112345678' WHERE id = \(bind: identityId)").run()
            }
            #expect(try await Self.names(database, ws, "55 1234 5678").isEmpty)
            #expect(try await Self.names(database, ws, "151 1234") == [anna])
            try await database.transaction { db in
                try await db.raw("DELETE FROM contact_identities WHERE id = \(bind: identityId)").run()
            }
            #expect(try await Self.names(database, ws, "151 1234").isEmpty)
        }
    }

    /// Contacts stored before the pieces existed are found after the migration that adds them.
    @Test func migrationIndexesExistingContacts() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteDatabaseBackend.open(path: directory.appendingPathComponent("test.sqlite").path, logger: .quiet)
        do {
            let before = Schema.migrations.filter { $0.version < Schema.searchPieces.version }
            try await Migrator(database: database, migrations: before, logger: .quiet).migrate()
            let channel = try await Fixtures.channel(in: database, kind: .sms)
            let ws = channel.workspaceId
            let jose = try await ContactRepository(database: database).create(
                workspaceId: ws, fields: ContactFields(firstName: "José", lastName: "Núñez", phone: .some("+14155551234")), actorUserId: nil, at: Date()).id
            try await database.transaction { db in
                try await db.raw("""
                    INSERT INTO contact_identities (workspace_id, contact_id, channel_id, external_id, phone_digits, created_at)
                    VALUES (\(bind: ws), \(bind: jose), \(bind: channel.id), '+5215512345678', '5215512345678', 0)
                    """).run()
            }
            try await Migrator(database: database, logger: .quiet).migrate()
            #expect(try await Self.names(database, ws, "nunez") == [jose])
            #expect(try await Self.names(database, ws, "555 1234") == [jose])
            #expect(try await Self.names(database, ws, "5512345") == [jose])
            let fullText = try await database.read { db in
                try await db.raw("SELECT name FROM sqlite_master WHERE name IN ('contact_search', 'identity_phone_search')").all()
            }
            #expect(fullText.isEmpty)
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }

    @Test func queriesAreCutToAPieceInHexadecimal() {
        // Counted in Unicode scalars, as SQLite counts characters: "é" as e + U+0301 is two.
        let decomposed = SearchPieces.match(.name, text: "e\u{301}" + String(repeating: "a", count: 10))
        #expect(decomposed.query == "name : \"65CC81" + String(repeating: "61", count: 10) + "\" *" && !decomposed.needsCheck)
        let long = SearchPieces.match(.identityPhone, text: "5215512345678")
        #expect(long.query == "\"353231353531323334353637\" *" && long.needsCheck)
        // Query syntax in the text stays inside the hexadecimal.
        #expect(SearchPieces.match(.name, text: "a\" OR *").query == "name : \"6122204F52202A\" *")
    }
}
