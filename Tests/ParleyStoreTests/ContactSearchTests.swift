import Foundation
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

@Suite("Contact search")
struct ContactSearchTests {
    /// Seeds a workspace with contacts that differ in exactly the searched fields.
    static func seed(_ database: any Database) async throws -> (workspaceId: Int64, ids: [String: Int64]) {
        let created = try await WorkspaceRepository(database: database).createWithOwner(
            name: "Acme", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "h", at: Date()
        )
        let workspaceId = created.workspace.id
        _ = try await CustomFieldRepository(database: database).create(
            workspaceId: workspaceId, definition: CustomFieldDefinition(key: "customer_code", label: "Customer code", type: .text), at: Date())
        _ = try await CustomFieldRepository(database: database).create(
            workspaceId: workspaceId, definition: CustomFieldDefinition(key: "vip", label: "VIP", type: .checkbox), at: Date())
        let contacts = ContactRepository(database: database)
        var ids: [String: Int64] = [:]
        let rows: [(String, ContactFields)] = [
            ("jose", ContactFields(firstName: "José", lastName: "Núñez", email: .some("jose.nunez@example.com"), phone: .some("+14155551234"),
                                   language: .some("es"), country: .some("MX"), tags: ["vip"], customFields: ["customer_code": .text("ACME-778"), "vip": .checkbox(true)])),
            ("maria", ContactFields(firstName: "María", lastName: "García López", email: .some("maria@example.org"), phone: .some("+34911222333"),
                                    country: .some("ES"))),
            ("ann", ContactFields(firstName: "Ann", lastName: "Lee", email: .some("ann.lee@example.net"), phone: .some("+447700900123"))),
        ]
        for (key, fields) in rows {
            ids[key] = try await contacts.create(workspaceId: workspaceId, fields: fields, actorUserId: nil, at: Date()).id
        }
        return (workspaceId, ids)
    }

    static let cases: [(String, [String])] = [
        ("jos", ["jose"]),                   // partial first name
        ("JOSE", ["jose"]),                  // case-insensitive
        ("josé", ["jose"]),                  // accent in the query
        ("nunez", ["jose"]),                 // accent-insensitive last name
        ("ÑÚÑ", ["jose"]),                   // accents and case together
        ("garcia lo", ["maria"]),            // across a compound last name
        ("maría garcía", ["maria"]),         // first and last name together
        ("an", ["ann"]),                     // a two-letter substring (below the trigram index)
        ("+1 (415) 555", ["jose"]),          // phone digits, punctuation ignored
        ("5551234", ["jose"]),               // phone digits, partial
        ("911 222", ["maria"]),
        ("jose.nunez@example.com", ["jose"]), // exact email
        ("JOSE.NUNEZ@EXAMPLE.COM", ["jose"]), // exact email, any case
        ("jose.nunez@example", []),          // email is exact only
        ("acme-778", ["jose"]),              // exact custom text field, any case
        ("acme", []),                        // custom text fields are exact only
        ("MX", []),                          // country is not searchable
        ("es", []),                          // language is not searchable
        ("vip", []),                         // tags are not searchable
        ("true", []),                        // checkbox fields are not searchable
        ("zzz", []),
    ]

    @Test(arguments: TestBackend.all)
    func searchSemanticsRowByRow(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let (workspaceId, ids) = try await Self.seed(database)
            let contacts = ContactRepository(database: database)
            for (query, expected) in Self.cases {
                let found = try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery(query), beforeId: nil, limit: 50)
                let names = Set(found.compactMap { contact in ids.first { $0.value == contact.id }?.key })
                #expect(names == Set(expected), "query \(query)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func searchStaysWithinTheWorkspaceAndFollowsEdits(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let (workspaceId, ids) = try await Self.seed(database)
            let other = try await WorkspaceRepository(database: database).createWithOwner(
                name: "Other", ownerEmail: "x@example.com", ownerName: "X", ownerPasswordHash: "h", at: Date())
            let contacts = ContactRepository(database: database)
            _ = try await contacts.create(workspaceId: other.workspace.id, fields: ContactFields(firstName: "José", email: .some("jose.nunez@example.com")),
                                          actorUserId: nil, at: Date())
            #expect(try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery("jose"), beforeId: nil, limit: 50).map(\.id) == [ids["jose"]])

            let jose = try #require(ids["jose"])
            _ = try await contacts.update(id: jose, workspaceId: workspaceId, fields: ContactFields(firstName: "Pepe", phone: .some(nil)), actorUserId: nil, at: Date())
            #expect(try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery("jose"), beforeId: nil, limit: 50).isEmpty)
            #expect(try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery("pepe nu"), beforeId: nil, limit: 50).map(\.id) == [jose])
            #expect(try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery("4155551234"), beforeId: nil, limit: 50).isEmpty)

            #expect(try await contacts.delete(id: jose, workspaceId: workspaceId, actorUserId: nil, at: Date()))
            #expect(try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery("pepe"), beforeId: nil, limit: 50).isEmpty)
        }
    }

    @Test(arguments: TestBackend.all)
    func searchTextIsNotQuerySyntax(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let (workspaceId, _) = try await Self.seed(database)
            let contacts = ContactRepository(database: database)
            for query in ["\"", "jo\"se", "%", "_", "a%", "NEAR(a b)", "search_name : x", "*", "j*", "'; DROP TABLE contacts; --"] {
                let found = try await contacts.list(workspaceId: workspaceId, query: ContactSearchQuery(query), beforeId: nil, limit: 50)
                #expect(found.isEmpty, "query \(query)")
            }
            #expect(try await contacts.list(workspaceId: workspaceId, query: nil, beforeId: nil, limit: 50).count == 3)
        }
    }
}
