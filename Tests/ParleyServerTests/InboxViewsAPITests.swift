import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Inbox counts, unread and windows closing soon")
struct InboxViewsAPITests {
    @Test(arguments: TestBackend.all)
    func countsPerViewAndMarkingUnread(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let world = try await InboxWorld.seed(api)
            // Open: Lucía (unassigned, unread) and Pedro (the agent's, unread).
            let counts = try await api.send(.get, "/api/v1/conversations/counts", token: world.agent.token)
            #expect(counts.status == .ok)
            func tally(_ reply: Reply, _ view: String) -> [Int] {
                guard let value = reply.json[view] as? [String: Any] else { return [] }
                return [(value["open"] as? NSNumber)?.intValue ?? -1, (value["unread"] as? NSNumber)?.intValue ?? -1]
            }
            #expect(tally(counts, "all") == [2, 2])
            #expect(tally(counts, "mine") == [1, 1])
            #expect(tally(counts, "unassigned") == [1, 1])

            let pedro = try #require(world.contacts["Pedro Alvarez"])
            #expect(try await api.send(.post, "/api/v1/contacts/\(pedro)/conversation/read", token: world.agent.token).status == .noContent)
            #expect(tally(try await api.send(.get, "/api/v1/conversations/counts", token: world.agent.token), "mine") == [1, 0])
            #expect(try await api.send(.post, "/api/v1/contacts/\(pedro)/conversation/unread", token: world.agent.token).status == .noContent)
            #expect(tally(try await api.send(.get, "/api/v1/conversations/counts", token: world.agent.token), "mine") == [1, 1])
            #expect(try await api.send(.post, "/api/v1/contacts/999999/conversation/unread").status == .notFound)

            _ = try await api.send(.patch, "/api/v1/workspace/settings", json: ["agentsSeeAll": false])
            let hidden = try await api.send(.get, "/api/v1/conversations/counts", token: world.agent.token)
            #expect(hidden.json["all"] is NSNull)
            #expect(tally(try await api.send(.get, "/api/v1/conversations/counts"), "all") == [2, 2])
        }
    }

    @Test(arguments: TestBackend.all)
    func windowsClosingSoonListsTheSoonestFirst(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let services = api.services
            let whatsapp = try await services.channels.create(workspaceId: 1, kind: .whatsapp, name: "WhatsApp", credentials: [:], apiBaseUrl: nil,
                                                              actorUserId: nil, at: api.clock.now())
            let telegram = try await services.channels.create(workspaceId: 1, kind: .telegram, name: "Telegram", credentials: [:], apiBaseUrl: nil,
                                                              actorUserId: nil, at: api.clock.now())
            let now = api.clock.now()
            // Closes in 2 h, in 20 h, closed an hour ago; and a channel without a window. The
            // later-recorded "Twenty" is the newest, so only the closing order puts "Two" first.
            let cases: [(String, Int64, TimeInterval)] = [("Two", whatsapp.id, 22), ("Twenty", whatsapp.id, 4), ("Gone", whatsapp.id, 25),
                                                           ("Telegram", telegram.id, 1)]
            for (index, item) in cases.enumerated() {
                api.clock.advance(by: 1)
                _ = try await services.inbound.record(
                    InboundMessage(channelId: item.1, externalId: "ext-\(index)", displayName: item.0, providerMessageId: "m-\(index)",
                                   providerTimestamp: now.addingTimeInterval(-item.2 * 3600), text: "hola"),
                    workspaceId: 1, receivedAt: api.clock.now())
            }
            func names(_ query: String) async throws -> [String] {
                let reply = try await api.send(.get, "/api/v1/conversations\(query)")
                #expect(reply.status == .ok, "\(reply.text)")
                return reply.items.compactMap { ($0["contact"] as? [String: Any])?["name"] as? String }
            }
            #expect(try await names("?closingWithin=24") == ["Two", "Twenty"])
            #expect(try await names("?closingWithin=3") == ["Two"])
            let first = try await api.send(.get, "/api/v1/conversations?closingWithin=24&limit=1")
            let cursor = try #require(first.json["nextCursor"] as? String)
            #expect(try await names("?closingWithin=24&limit=1&cursor=\(cursor)") == ["Twenty"])
            // A cursor of another order is refused.
            #expect(try await api.send(.get, "/api/v1/conversations?sort=newest&cursor=\(cursor)").status == .badRequest)
            for bad in ["0", "169", "x"] {
                let reply = try await api.send(.get, "/api/v1/conversations?closingWithin=\(bad)")
                #expect(reply.status == .badRequest)
                #expect(reply.errorField == "closingWithin")
            }
        }
    }
}
