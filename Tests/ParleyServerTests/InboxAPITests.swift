import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import Testing

/// Seeded inbox: contacts on a WhatsApp channel in several states.
struct InboxWorld {
    let api: APIHarness
    let channel: Channel
    let agent: (id: Int64, token: String)
    let otherAgent: (id: Int64, token: String)
    /// Contact ids by name.
    let contacts: [String: Int64]

    static func seed(_ api: APIHarness) async throws -> InboxWorld {
        let services = api.services
        let channel = try await services.channels.create(workspaceId: 1, kind: .whatsapp, name: "WhatsApp", credentials: [:], apiBaseUrl: nil,
                                                         actorUserId: nil, at: api.clock.now())
        let agent = try await api.user(.agent, email: "agent@example.com")
        let otherAgent = try await api.user(.agent, email: "other@example.com")
        var contacts: [String: Int64] = [:]
        // name, phone, assignee, closed
        let rows: [(String, String, Int64?, Bool)] = [
            ("Lucía Fernández", "+5215512345678", nil, false),        // open, unassigned
            ("Pedro Alvarez", "+5215587654321", agent.id, false),     // open, mine (agent)
            ("Carmen Ruiz", "+34600111222", otherAgent.id, true),     // closed, assigned to someone else
            ("Jorge Ruiz", "+34600333444", nil, true),                // closed, unassigned
        ]
        for (index, row) in rows.enumerated() {
            api.clock.advance(by: 60)
            let result = try await services.inbound.record(
                InboundMessage(channelId: channel.id, externalId: String(row.1.dropFirst()), displayName: row.0,
                               providerMessageId: "wamid.\(index)", providerTimestamp: api.clock.now(), text: "Hola, soy \(row.0)"),
                workspaceId: 1, receivedAt: api.clock.now())
            contacts[row.0] = result.contactId
            _ = try await services.contacts.update(id: result.contactId, workspaceId: 1, fields: ContactFields(phone: .some(row.1)), actorUserId: nil, at: api.clock.now())
            if let assignee = row.2 {
                _ = try await services.conversations.assign(contactId: result.contactId, workspaceId: 1, actor: nil, assigneeId: assignee, at: api.clock.now())
            }
            if row.3 {
                _ = try await services.conversations.close(contactId: result.contactId, workspaceId: 1, actorUserId: nil, category: nil, summary: nil,
                                                           logic: .keep, at: api.clock.now())
            }
        }
        return InboxWorld(api: api, channel: channel, agent: agent, otherAgent: otherAgent, contacts: contacts)
    }

    /// Names in the listed order.
    func names(_ query: String, token: String? = nil) async throws -> [String] {
        let reply = try await api.send(.get, "/api/v1/conversations\(query)", token: token ?? agent.token)
        #expect(reply.status == .ok, "\(query): \(reply.text)")
        return reply.items.compactMap { ($0["contact"] as? [String: Any])?["name"] as? String }
    }
}

@Suite("Inbox API")
struct InboxAPITests {
    @Test(arguments: TestBackend.all)
    func viewsStatusesAndSearchCombine(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let world = try await InboxWorld.seed(api)
            // Default: All, Open, newest first.
            #expect(try await world.names("") == ["Pedro Alvarez", "Lucía Fernández"])
            #expect(try await world.names("?view=mine") == ["Pedro Alvarez"])
            #expect(try await world.names("?view=unassigned") == ["Lucía Fernández"])
            #expect(try await world.names("?status=closed") == ["Jorge Ruiz", "Carmen Ruiz"])
            #expect(try await world.names("?view=mine&status=closed") == [])
            #expect(try await world.names("?view=unassigned&status=closed") == ["Jorge Ruiz"])
            #expect(try await world.names("?status=all&sort=oldest") == ["Lucía Fernández", "Pedro Alvarez", "Carmen Ruiz", "Jorge Ruiz"])

            // The seed's case: Carmen is closed and assigned to someone else — only All + Closed finds her.
            for query in ["?q=carmen", "?view=mine&q=carmen", "?view=unassigned&q=carmen", "?view=mine&status=closed&q=carmen",
                          "?view=unassigned&status=closed&q=carmen"] {
                #expect(try await world.names(query).isEmpty, "\(query)")
            }
            #expect(try await world.names("?status=closed&q=carmen") == ["Carmen Ruiz"])
            #expect(try await world.names("?status=closed&q=+34%20600%20111") == ["Carmen Ruiz"])
            #expect(try await world.names("?status=closed&q=ruiz") == ["Jorge Ruiz", "Carmen Ruiz"])
            #expect(try await world.names("?status=closed&q=ruiz&assignee=\(world.otherAgent.id)") == ["Carmen Ruiz"])
            #expect(try await world.names("?q=lucia") == ["Lucía Fernández"])
            #expect(try await world.names("?q=FERNANDEZ&channel=\(world.channel.id)") == ["Lucía Fernández"])
            #expect(try await world.names("?q=fernandez&channel=\(world.channel.id + 100)") == [])
        }
    }

    @Test(arguments: TestBackend.all)
    func rowsCarryWhatTheListShows(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let world = try await InboxWorld.seed(api)
            let reply = try await api.send(.get, "/api/v1/conversations?view=mine", token: world.agent.token)
            let row = try #require(reply.items.first)
            #expect((row["contact"] as? [String: Any])?["name"] as? String == "Pedro Alvarez")
            #expect((row["channel"] as? [String: Any])?["type"] as? String == "whatsapp")
            #expect((row["lastMessage"] as? [String: Any])?["preview"] as? String == "Hola, soy Pedro Alvarez")
            #expect((row["lastMessage"] as? [String: Any])?["at"] is String)
            #expect(row["unreadCount"] as? Int == 1)
            #expect((row["assignee"] as? [String: Any])?["name"] as? String == "Agent")
            #expect(row["status"] as? String == "open")
            #expect((row["window"] as? [String: Any])?["status"] as? String == "open")
            #expect((row["window"] as? [String: Any])?["closesAt"] is String)

            // 24 h later the WhatsApp window shows closed.
            api.clock.advance(by: 24 * 3600)
            let later = try await api.send(.get, "/api/v1/conversations?view=mine", token: world.agent.token)
            #expect((later.items.first?["window"] as? [String: Any])?["status"] as? String == "closed")

            let contactId = try #require(world.contacts["Pedro Alvarez"])
            #expect(try await api.send(.post, "/api/v1/contacts/\(contactId)/conversation/read", token: world.agent.token).status == .noContent)
            let read = try await api.send(.get, "/api/v1/conversations?view=mine", token: world.agent.token)
            #expect(read.items.first?["unreadCount"] as? Int == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func pagesFollowTheCursorInEverySort(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let world = try await InboxWorld.seed(api)
            for sort in ["newest", "oldest", "waiting"] {
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let query = "?status=all&sort=\(sort)&limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let reply = try await api.send(.get, "/api/v1/conversations\(query)", token: world.agent.token)
                    #expect(reply.status == .ok)
                    #expect(reply.items.count <= 1)
                    seen += reply.items.compactMap { ($0["contact"] as? [String: Any])?["name"] as? String }
                    cursor = reply.json["nextCursor"] as? String
                } while cursor != nil && seen.count < 10
                #expect(seen.count == 4, "\(sort)")
                #expect(Set(seen).count == 4, "\(sort)")
                let whole = try await world.names("?status=all&sort=\(sort)")
                #expect(seen == whole, "\(sort)")
            }
            // Waiting longest: open conversations still waiting for a reply come first, oldest first.
            #expect(try await world.names("?status=all&sort=waiting").prefix(2) == ["Lucía Fernández", "Pedro Alvarez"])
        }
    }

    @Test(arguments: TestBackend.all)
    func badListParametersAre400(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let world = try await InboxWorld.seed(api)
            let cases: [(String, String)] = [
                ("?view=everything", "view"), ("?status=archived", "status"), ("?sort=random", "sort"),
                ("?cursor=bm9wZQ", "cursor"), ("?channel=abc", "channel"), ("?assignee=x", "assignee"), ("?limit=1000", "limit"),
            ]
            for (query, field) in cases {
                let reply = try await api.send(.get, "/api/v1/conversations\(query)", token: world.agent.token)
                #expect(reply.status == .badRequest, "\(query)")
                #expect(reply.errorField == field, "\(query)")
            }
            // A cursor from one sort is refused by another.
            let first = try await api.send(.get, "/api/v1/conversations?status=all&limit=1&sort=newest", token: world.agent.token)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let mixed = try await api.send(.get, "/api/v1/conversations?status=all&limit=1&sort=oldest&cursor=\(cursor)", token: world.agent.token)
            #expect(mixed.errorCode == "invalid_cursor")
        }
    }

    @Test(arguments: TestBackend.all)
    func agentsMayBeKeptOutOfTheAllView(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let world = try await InboxWorld.seed(api)
            #expect(try await api.send(.patch, "/api/v1/workspace/settings", json: ["agentsSeeAll": false]).status == .ok)
            #expect(try await api.send(.get, "/api/v1/conversations?view=all", token: world.agent.token).status == .forbidden)
            #expect(try await world.names("?view=mine") == ["Pedro Alvarez"])
            #expect(try await world.names("?view=all", token: api.ownerToken).count == 2)
        }
    }
}
