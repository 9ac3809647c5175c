import Foundation
import Hummingbird
import ParleyServer
import ParleyTestSupport
import Testing

/// Where agents may not see All, they cannot read another agent's contact by id either: not
/// the contact, its timeline, its composer, nor send to it.
@Suite("Contact visibility")
struct ContactVisibilityTests {
    @Test(arguments: TestBackend.all)
    func agentsWhoMayNotSeeAllCannotReadOthersContactsById(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            #expect(try await api.send(.patch, "/api/v1/workspace/settings", json: ["agentsSeeAll": false]).status == .ok)
            let me = try #require((try await api.send(.get, "/api/v1/me").json["user"] as? [String: Any])?["id"] as? NSNumber)
            let agent = try await api.user(.agent)
            func contact(_ name: String) async throws -> Int64 {
                let created = try await api.send(.post, "/api/v1/contacts", json: ["name": name])
                let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
                let opened = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/open")
                #expect([.ok, .created].contains(opened.status), "\(opened.text)")
                return id
            }
            let owners = try await contact("Ana")
            _ = try await api.send(.put, "/api/v1/contacts/\(owners)/conversation/assignee", json: ["userId": me])
            let unassigned = try await contact("Bo")
            _ = try await api.send(.put, "/api/v1/contacts/\(unassigned)/conversation/assignee", json: ["userId": NSNull()])

            for path in ["", "/timeline", "/conversation", "/composer?channel=1"] {
                let hidden = try await api.send(.get, "/api/v1/contacts/\(owners)\(path)", token: agent.token)
                #expect(hidden.status == .notFound, "\(path): \(hidden.status)")
            }
            let send = try await api.send(.post, "/api/v1/contacts/\(owners)/messages", token: agent.token, json: ["channelId": 1, "text": "hi"])
            #expect(send.status == .notFound)
            #expect(try await api.send(.get, "/api/v1/contacts/\(unassigned)", token: agent.token).status == .ok)
            #expect(try await api.send(.get, "/api/v1/contacts/\(unassigned)/timeline", token: agent.token).status == .ok)
            // The owner sees everything.
            #expect(try await api.send(.get, "/api/v1/contacts/\(owners)/timeline").status == .ok)
        }
    }
}
