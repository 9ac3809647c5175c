import Foundation
import Hummingbird
import ParleyCore
import ParleyTestSupport
import Testing

@Suite("Users API")
struct UsersAPITests {
    @Test(arguments: TestBackend.all)
    func rolesDecideWhoMayCreateWhom(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let manager = try await api.user(.manager)
            let agent = try await api.user(.agent)
            let before = try await api.count("users")

            let byAgent = try await api.send(.post, "/api/v1/users", token: agent.token,
                                             json: ["email": "x@example.com", "name": "X", "password": "password-1", "role": "agent"])
            #expect(byAgent.status == .forbidden)
            #expect(byAgent.errorCode == "forbidden")

            let ownerByManager = try await api.send(.post, "/api/v1/users", token: manager.token,
                                                    json: ["email": "x@example.com", "name": "X", "password": "password-1", "role": "owner"])
            #expect(ownerByManager.status == .forbidden)
            #expect(try await api.count("users") == before)

            let agentByManager = try await api.send(.post, "/api/v1/users", token: manager.token,
                                                    json: ["email": "x@example.com", "name": "X", "password": "password-1", "role": "agent"])
            #expect(agentByManager.status == .created)
            #expect(agentByManager.json["role"] as? String == "agent")

            let listed = try await api.send(.get, "/api/v1/users", token: agent.token)
            #expect(listed.status == .ok)
            #expect(listed.items.count == before + 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func badInputIsNamedAndChangesNothing(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let before = try await api.count("users")
            let cases: [(String?, [String: Any]?, String?)] = [
                ("{\"email\": ", nil, nil),
                ("[1,2]", nil, nil),
                ("", nil, nil),
                (nil, ["name": "X", "password": "password-1", "role": "agent"], "email"),
                (nil, ["email": "x@example.com", "name": "X", "password": 12345678, "role": "agent"], "password"),
                (nil, ["email": "x@example.com", "name": "X", "password": "password-1", "role": "superuser"], "role"),
                (nil, ["email": "not-an-email", "name": "X", "password": "password-1", "role": "agent"], "email"),
                (nil, ["email": "x@example.com", "name": "X", "password": "short", "role": "agent"], "password"),
                (nil, ["email": "x@example.com", "name": "  ", "password": "password-1", "role": "agent"], "name"),
            ]
            for (raw, json, field) in cases {
                let reply = try await api.send(.post, "/api/v1/users", raw: raw, json: json)
                #expect(reply.status == .badRequest, "\(raw ?? "") \(json ?? [:])")
                #expect(reply.errorCode == "invalid_request")
                if let field { #expect(reply.errorField == field) }
                #expect((reply.json["error"] as? [String: Any])?["message"] is String)
            }
            let duplicate = try await api.send(.post, "/api/v1/users",
                                               json: ["email": APIHarness.ownerEmail.uppercased(), "name": "X", "password": "password-1", "role": "agent"])
            #expect(duplicate.status == .conflict)
            #expect(try await api.count("users") == before)
        }
    }

    @Test(arguments: TestBackend.all)
    func usersListIsPagedWithACursor(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            for _ in 0..<4 { _ = try await api.user(.agent) }
            var seen: [Int64] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "?limit=2&cursor=\($0)" } ?? "?limit=2"
                let page = try await api.send(.get, "/api/v1/users\(query)")
                #expect(page.status == .ok)
                seen += page.items.compactMap { ($0["id"] as? NSNumber)?.int64Value }
                cursor = page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 5)
            #expect(seen == seen.sorted())
            #expect(try await api.send(.get, "/api/v1/users?cursor=garbage").errorCode == "invalid_cursor")
            #expect(try await api.send(.get, "/api/v1/users?limit=0").status == .badRequest)
        }
    }
}
