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

/// The contact list and its search apply the same rule: an agent who may not see All is not
/// shown a contact whose latest conversation belongs to another user.
@Suite("Contact visibility in lists")
struct ContactListVisibilityTests {
    @Test(arguments: TestBackend.all)
    func agentsWhoMayNotSeeAllDoNotListOthersContacts(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            #expect(try await api.send(.patch, "/api/v1/workspace/settings", json: ["agentsSeeAll": false]).status == .ok)
            let me = try #require((try await api.send(.get, "/api/v1/me").json["user"] as? [String: Any])?["id"] as? NSNumber)
            let agent = try await api.user(.agent)
            func contact(_ name: String, assignee: Any?) async throws -> Int64 {
                let created = try await api.send(.post, "/api/v1/contacts", json: ["firstName": name, "lastName": "Harriet"])
                let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
                guard let assignee else { return id }
                let opened = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/open")
                #expect([.ok, .created].contains(opened.status), "\(opened.text)")
                let assigned = try await api.send(.put, "/api/v1/contacts/\(id)/conversation/assignee", json: ["userId": assignee])
                #expect(assigned.status == .ok, "\(assigned.text)")
                return id
            }
            let owners = try await contact("Hidden", assignee: me)
            let agents = try await contact("Mine", assignee: NSNumber(value: agent.id))
            let unassigned = try await contact("Open", assignee: NSNull())
            let quiet = try await contact("Quiet", assignee: nil)

            func listed(_ path: String, token: String? = nil) async throws -> Set<Int64> {
                let response = try await api.send(.get, path, token: token)
                #expect(response.status == .ok, "\(path): \(response.text)")
                let items = response.json["items"] as? [[String: Any]] ?? []
                return Set(items.compactMap { ($0["id"] as? NSNumber)?.int64Value })
            }
            let visible: Set<Int64> = [agents, unassigned, quiet]
            for path in ["/api/v1/contacts", "/api/v1/contacts?q=harriet", "/api/v1/contacts?limit=1"] {
                let seen = try await listed(path, token: agent.token)
                #expect(!seen.contains(owners), "\(path) lists another user's contact")
                if !path.contains("limit") { #expect(seen == visible, "\(path): \(seen)") }
            }
            // Paging one by one reaches every visible contact and nothing else.
            var paged: Set<Int64> = []
            var cursor: String?
            repeat {
                let path = "/api/v1/contacts?limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                let response = try await api.send(.get, path, token: agent.token)
                for item in response.json["items"] as? [[String: Any]] ?? [] {
                    if let id = (item["id"] as? NSNumber)?.int64Value { paged.insert(id) }
                }
                cursor = response.json["nextCursor"] as? String
            } while cursor != nil
            #expect(paged == visible)
            // The owner, and agents once they may see All, list everyone.
            #expect(try await listed("/api/v1/contacts?q=harriet") == visible.union([owners]))
            #expect(try await api.send(.patch, "/api/v1/workspace/settings", json: ["agentsSeeAll": true]).status == .ok)
            #expect(try await listed("/api/v1/contacts?q=harriet", token: agent.token) == visible.union([owners]))
        }
    }
}
