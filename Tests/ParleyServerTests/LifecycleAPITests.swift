import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Conversation lifecycle API")
struct LifecycleAPITests {
    static func contactWithOpenConversation(_ api: APIHarness) async throws -> Int64 {
        let created = try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Ana", "lastName": "Pérez"])
        let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
        let opened = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/open")
        #expect(opened.status == .created)
        return id
    }

    @Test(arguments: TestBackend.all)
    func openIsIdempotent(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let id = try await Self.contactWithOpenConversation(api)
            let again = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/open")
            #expect(again.status == .ok)
            #expect(again.json["status"] as? String == "open")
            #expect(try await api.count("conversations") == 1)
            #expect(try await api.send(.post, "/api/v1/contacts/999999/conversation/open").status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func closingNoteModes(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            _ = try await api.send(.patch, "/api/v1/workspace/settings", json: ["closingCategories": ["Sale", "Support"]])
            // mode, body, expected status, expected code, expected field
            let cases: [(String, [String: Any], HTTPResponse.Status, String?, String?)] = [
                ("disabled", ["summary": "x"], .unprocessableContent, "closing_note_disabled", "summary"),
                ("disabled", [:], .ok, nil, nil),
                ("optional", [:], .ok, nil, nil),
                ("optional", ["category": "Refund"], .unprocessableContent, "unknown_category", "category"),
                ("optional", ["category": "Sale", "summary": "Sold 3 seats"], .ok, nil, nil),
                ("category_required", ["summary": "no category"], .unprocessableContent, "closing_note_required", "category"),
                ("category_required", ["category": "Support"], .ok, nil, nil),
                ("both_required", ["category": "Support"], .unprocessableContent, "closing_note_required", "summary"),
                ("both_required", ["summary": "only summary"], .unprocessableContent, "closing_note_required", "category"),
                ("both_required", ["category": "Support", "summary": "  "], .unprocessableContent, "closing_note_required", "summary"),
                ("both_required", ["category": "Support", "summary": "Fixed the login"], .ok, nil, nil),
            ]
            for (mode, body, status, code, field) in cases {
                let id = try await Self.contactWithOpenConversation(api)
                #expect(try await api.send(.patch, "/api/v1/workspace/settings", json: ["closingNoteMode": mode]).status == .ok)
                let reply = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/close", json: body)
                #expect(reply.status == status, "\(mode) \(body)")
                #expect(reply.errorCode == code, "\(mode) \(body)")
                #expect(reply.errorField == field, "\(mode) \(body)")
                let current = try await api.send(.get, "/api/v1/contacts/\(id)/conversation")
                #expect(current.json["status"] as? String == (status == .ok ? "closed" : "open"), "\(mode) \(body)")
                if status == .ok {
                    #expect(current.json["closingCategory"] as? String == body["category"] as? String)
                }
            }
            // Nothing open to close.
            let id = try await Self.contactWithOpenConversation(api)
            _ = try await api.send(.patch, "/api/v1/workspace/settings", json: ["closingNoteMode": "optional"])
            #expect(try await api.send(.post, "/api/v1/contacts/\(id)/conversation/close", json: [:]).status == .ok)
            let twice = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/close", json: [:])
            #expect(twice.status == .conflict)
            #expect(twice.errorCode == "no_open_conversation")
        }
    }

    @Test(arguments: TestBackend.all)
    func closingLogicKeepsOrUnassigns(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agent = try await api.user(.agent)
            for (logic, expectAssignee) in [("keep", true), ("unassign", false)] {
                _ = try await api.send(.patch, "/api/v1/workspace/settings", json: ["closingLogic": logic])
                let id = try await Self.contactWithOpenConversation(api)
                let assigned = try await api.send(.put, "/api/v1/contacts/\(id)/conversation/assignee", token: agent.token, json: ["userId": agent.id])
                #expect(assigned.status == .ok)
                let closed = try await api.send(.post, "/api/v1/contacts/\(id)/conversation/close", token: agent.token, json: [:])
                #expect(closed.status == .ok)
                let assignee = (closed.json["assigneeId"] as? NSNumber)?.int64Value
                #expect(expectAssignee ? assignee == agent.id : assignee == nil, "\(logic)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func assignmentPermissions(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agent = try await api.user(.agent)
            let other = try await api.user(.agent)
            let manager = try await api.user(.manager)
            let id = try await Self.contactWithOpenConversation(api)
            let path = "/api/v1/contacts/\(id)/conversation/assignee"
            // An agent may not hand an unassigned conversation to someone else…
            #expect(try await api.send(.put, path, token: agent.token, json: ["userId": other.id]).status == .forbidden)
            // …but may take it.
            #expect(try await api.send(.put, path, token: agent.token, json: ["userId": agent.id]).status == .ok)
            // Another agent may not take it away, nor unassign it.
            #expect(try await api.send(.put, path, token: other.token, json: ["userId": other.id]).status == .forbidden)
            #expect(try await api.send(.put, path, token: other.token, json: ["userId": NSNull()]).status == .forbidden)
            // The assignee may hand it on; a manager may reassign anything.
            #expect(try await api.send(.put, path, token: agent.token, json: ["userId": other.id]).status == .ok)
            let byManager = try await api.send(.put, path, token: manager.token, json: ["userId": NSNull()])
            #expect(byManager.status == .ok)
            #expect(byManager.json["assigneeId"] == nil)
            // Bad input.
            #expect(try await api.send(.put, path, json: [:]).errorField == "userId")
            #expect(try await api.send(.put, path, json: ["userId": "me"]).errorField == "userId")
            let unknown = try await api.send(.put, path, json: ["userId": 424242])
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.errorCode == "unknown_user")
            let current = try await api.send(.get, "/api/v1/contacts/\(id)/conversation")
            #expect(current.json["assigneeId"] == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func timelineShowsMessagesAndActivityAcrossEpisodes(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let channel = try await api.services.channels.create(workspaceId: 1, kind: .telegram, name: "Bot", credentials: [:], apiBaseUrl: nil,
                                                                 actorUserId: nil, at: api.clock.now())
            func inbound(_ id: String, _ text: String) async throws -> InboundResult {
                api.clock.advance(by: 1)
                return try await api.services.inbound.record(
                    InboundMessage(channelId: channel.id, externalId: "777", displayName: "Tom", providerMessageId: id,
                                   providerTimestamp: api.clock.now(), text: text), workspaceId: 1, receivedAt: api.clock.now())
            }
            let first = try await inbound("1", "first")
            let contact = first.contactId
            api.clock.advance(by: 1)
            _ = try await api.send(.put, "/api/v1/contacts/\(contact)/conversation/assignee", json: ["userId": 1])
            api.clock.advance(by: 1)
            _ = try await api.send(.post, "/api/v1/contacts/\(contact)/conversation/close", json: ["summary": "answered"])
            _ = try await inbound("2", "second episode")

            var kinds: [String] = []
            var cursor: String?
            repeat {
                let reply = try await api.send(.get, "/api/v1/contacts/\(contact)/timeline?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(reply.status == .ok)
                for item in reply.items {
                    if item["type"] as? String == "message" {
                        kinds.append("message:" + ((item["message"] as? [String: Any])?["text"] as? String ?? "?"))
                    } else {
                        kinds.append("activity:" + ((item["activity"] as? [String: Any])?["kind"] as? String ?? "?"))
                    }
                }
                cursor = reply.json["nextCursor"] as? String
            } while cursor != nil && kinds.count < 20
            #expect(kinds == ["message:second episode", "activity:opened", "activity:closed", "activity:assigned", "message:first", "activity:opened"])

            let page = try await api.send(.get, "/api/v1/contacts/\(contact)/timeline")
            let closed = page.items.first { ($0["activity"] as? [String: Any])?["kind"] as? String == "closed" }
            let activity = try #require(closed?["activity"] as? [String: Any])
            #expect((activity["details"] as? [String: Any])?["summary"] as? String == "answered")
            #expect((activity["actor"] as? [String: Any])?["name"] as? String == "Owner")
            #expect(try await api.send(.get, "/api/v1/contacts/999999/timeline").status == .notFound)
        }
    }
}
