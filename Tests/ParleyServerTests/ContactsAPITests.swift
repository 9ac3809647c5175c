import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Contacts API")
struct ContactsAPITests {
    @Test(arguments: TestBackend.all)
    func createReadUpdateDelete(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "plan", "label": "Plan", "type": "list", "options": ["free", "pro"]]).status == .created)
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "code", "label": "Code", "type": "text"]).status == .created)
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "renewal", "label": "Renewal", "type": "date"]).status == .created)
            let created = try await api.send(.post, "/api/v1/contacts", json: [
                "firstName": " Zoë ", "lastName": "Ångström", "email": "Zoe@Example.com", "phone": "+46 (70) 123-4567",
                "language": "sv", "country": "se", "tags": ["vip", "VIP", "beta"],
                "customFields": ["plan": "pro", "code": "Z-1", "renewal": "2027-02-28"],
            ])
            #expect(created.status == .created)
            let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
            #expect(created.json["name"] as? String == "Zoë Ångström")
            #expect(created.json["phone"] as? String == "+46701234567")
            #expect(created.json["country"] as? String == "SE")
            #expect(created.json["tags"] as? [String] == ["beta", "vip"])
            #expect((created.json["customFields"] as? [String: Any])?["plan"] as? String == "pro")

            let patched = try await api.send(.patch, "/api/v1/contacts/\(id)", json: ["email": NSNull(), "tags": [], "customFields": ["code": NSNull()]])
            #expect(patched.status == .ok)
            #expect(patched.json["email"] == nil)
            #expect(patched.json["tags"] as? [String] == [])
            #expect((patched.json["customFields"] as? [String: Any])?["code"] == nil)
            #expect((patched.json["customFields"] as? [String: Any])?["plan"] as? String == "pro")
            #expect(patched.json["firstName"] as? String == "Zoë")

            let listed = try await api.send(.get, "/api/v1/contacts?q=angstrom")
            #expect(listed.items.count == 1)

            let agent = try await api.user(.agent)
            #expect(try await api.send(.delete, "/api/v1/contacts/\(id)", token: agent.token).status == .forbidden)
            #expect(try await api.send(.delete, "/api/v1/contacts/\(id)").status == .noContent)
            #expect(try await api.send(.get, "/api/v1/contacts/\(id)").status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func badContactInputIsNamedAndChangesNothing(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            _ = try await api.send(.post, "/api/v1/custom-fields", json: ["key": "plan", "label": "Plan", "type": "list", "options": ["free", "pro"]])
            _ = try await api.send(.post, "/api/v1/custom-fields", json: ["key": "seats", "label": "Seats", "type": "number"])
            _ = try await api.send(.post, "/api/v1/custom-fields", json: ["key": "renewal", "label": "Renewal", "type": "date"])
            let cases: [([String: Any], String)] = [
                (["email": "not-an-email"], "email"),
                (["phone": "12345"], "phone"),
                (["phone": 14155551234], "phone"),
                (["country": "Mexico"], "country"),
                (["language": "e"], "language"),
                (["tags": [""]], "tags[0]"),
                (["tags": "vip"], "tags"),
                (["firstName": String(repeating: "a", count: 101)], "firstName"),
                (["customFields": ["nope": "x"]], "customFields.nope"),
                (["customFields": ["plan": "enterprise"]], "customFields.plan"),
                (["customFields": ["seats": "ten"]], "customFields.seats"),
                (["customFields": ["renewal": "2027-02-30"]], "customFields.renewal"),
            ]
            for (body, field) in cases {
                let reply = try await api.send(.post, "/api/v1/contacts", json: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.errorField == field, "\(body): \(reply.text)")
            }
            #expect(try await api.count("contacts") == 0)
            // Custom field definitions are checked too.
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "Bad Key", "label": "x", "type": "text"]).errorField == "key")
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "k", "label": "x", "type": "list"]).errorField == "options")
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "k", "label": "x", "type": "colour"]).errorField == "type")
            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "plan", "label": "x", "type": "text"]).status == .conflict)
            let agent = try await api.user(.agent)
            #expect(try await api.send(.post, "/api/v1/custom-fields", token: agent.token, json: ["key": "k", "label": "x", "type": "text"]).status == .forbidden)
            #expect(try await api.send(.get, "/api/v1/custom-fields").items.count == 3)
        }
    }

    @Test(arguments: TestBackend.all)
    func identitiesBelongToOneContact(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let channel = try await api.services.channels.create(workspaceId: 1, kind: .whatsapp, name: "WA", credentials: [:], apiBaseUrl: nil,
                                                                 actorUserId: nil, at: api.clock.now())
            let a = try #require((try await api.send(.post, "/api/v1/contacts", json: ["firstName": "A"]).json["id"] as? NSNumber)?.int64Value)
            let b = try #require((try await api.send(.post, "/api/v1/contacts", json: ["firstName": "B"]).json["id"] as? NSNumber)?.int64Value)
            let added = try await api.send(.post, "/api/v1/contacts/\(a)/identities", json: ["channelId": channel.id, "externalId": "5215512345678"])
            #expect(added.status == .created)
            let identity = try #require((added.json["identities"] as? [[String: Any]])?.first)
            #expect(identity["channelType"] as? String == "whatsapp")
            let taken = try await api.send(.post, "/api/v1/contacts/\(b)/identities", json: ["channelId": channel.id, "externalId": "5215512345678"])
            #expect(taken.status == .conflict)
            #expect(taken.errorCode == "identity_taken")
            let unknown = try await api.send(.post, "/api/v1/contacts/\(b)/identities", json: ["channelId": 9999, "externalId": "x"])
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.errorField == "channelId")
            let identityId = try #require((identity["id"] as? NSNumber)?.int64Value)
            #expect(try await api.send(.delete, "/api/v1/contacts/\(b)/identities/\(identityId)").status == .notFound)
            #expect(try await api.send(.delete, "/api/v1/contacts/\(a)/identities/\(identityId)").status == .noContent)
            #expect(try await api.count("contact_identities") == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func contactListIsPagedNewestFirst(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            for index in 0..<5 {
                _ = try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Person \(index)"])
            }
            var names: [String] = []
            var cursor: String?
            repeat {
                let reply = try await api.send(.get, "/api/v1/contacts?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                names += reply.items.compactMap { $0["firstName"] as? String }
                cursor = reply.json["nextCursor"] as? String
            } while cursor != nil && names.count < 10
            #expect(names == (0..<5).reversed().map { "Person \($0)" })
        }
    }
}
