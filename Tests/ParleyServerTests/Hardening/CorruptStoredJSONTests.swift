import Foundation
import Hummingbird
import ParleyServer
import ParleyTestSupport
import SQLKit
import Testing

/// Stored JSON that does not decode is an error, never an empty value that the next update
/// would write back over what was there.
@Suite("Corrupt stored JSON")
struct CorruptStoredJSONTests {
    func raw(_ api: APIHarness, _ sql: SQLQueryString) async throws {
        try await api.services.database.transaction { db in try await db.raw(sql).run() }
    }

    func column(_ api: APIHarness, _ table: String, _ column: String, id: Int64) async throws -> String {
        try await api.services.database.read { db in
            try await db.raw("SELECT \(unsafeRaw: column) AS v FROM \(unsafeRaw: table) WHERE id = \(bind: id)").first()?.decode(column: "v", as: String.self) ?? ""
        }
    }

    @Test(arguments: TestBackend.all)
    func corruptCredentialsAndCustomFieldsFailLoudlyAndStayAsTheyAre(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let channel = try await api.send(.post, "/api/v1/channels", json: [
                "type": "telegram", "name": "Bot", "credentials": ["botToken": "1:x"], "verifyCredentials": false,
            ])
            let channelId = try #require((channel.json["id"] as? NSNumber)?.int64Value)
            let contact = try await api.send(.post, "/api/v1/contacts", json: ["name": "Ana"])
            let contactId = try #require((contact.json["id"] as? NSNumber)?.int64Value)
            try await raw(api, "UPDATE channels SET credentials = '{\"botToken\": \"1:x\"' WHERE id = \(bind: channelId)")
            try await raw(api, "UPDATE contacts SET custom_fields = '[not json' WHERE id = \(bind: contactId)")

            let renamed = try await api.send(.patch, "/api/v1/channels/\(channelId)", json: ["credentials": ["extra": "value"]])
            #expect(renamed.status == .internalServerError)
            #expect(try await column(api, "channels", "credentials", id: channelId) == "{\"botToken\": \"1:x\"")

            #expect(try await api.send(.get, "/api/v1/contacts/\(contactId)").status == .internalServerError)
            let patched = try await api.send(.patch, "/api/v1/contacts/\(contactId)", json: ["firstName": "Ana Maria"])
            #expect(patched.status == .internalServerError)
            #expect(try await column(api, "contacts", "custom_fields", id: contactId) == "[not json")
        }
    }
}
