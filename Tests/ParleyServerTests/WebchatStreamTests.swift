import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Website chat: the visitor's live line")
struct WebchatStreamTests {
    /// The visitor's socket, opened as the widget opens it (token as the second subprotocol).
    static func visitorStream(_ live: LiveHarness, token: String, host: String = WebchatSite.origin) async throws -> StreamClient {
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("Sec-WebSocket-Protocol")!] = "parley-visitor, \(token)"
        let encoded = host.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? host
        return try await StreamClient.connect(port: live.port, path: "/widget/v1/events?host=\(encoded)", headers: headers)
    }

    @Test(arguments: TestBackend.all)
    func repliesAndTypingTravelBothWays(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let api = live.api
            let site = try await WebchatSite.create(api)
            let token = try await site.visitor()
            #expect(try await site.write(token, "Hello?", extra: ["name": "Pat"]).status == .created)
            let contactId = try await site.contactId(of: token)

            let visitor = try await Self.visitorStream(live, token: token)
            let ready = try await visitor.next("ready")
            #expect(ready.data["unread"] as? Int == 0)
            let agent = try await live.stream()
            _ = try await agent.next("ready")

            // The agent types and answers: the visitor sees both live.
            try await agent.send(#"{"type":"typing","contactId":\#(contactId),"typing":true}"#)
            let typing = try await visitor.next("typing")
            #expect(typing.data["typing"] as? Bool == true)
            #expect(typing.data["name"] as? String == "Owner")
            let sent = try await api.send(.post, "/api/v1/contacts/\(contactId)/messages", json: ["channelId": site.channelId, "text": "We're here <3"])
            let messageId = try sentMessageId(sent)
            let message = try await visitor.next("message") { ($0["data"] as? [String: Any])?["from"] as? String == "agent" }
            let data = try #require(message["data"] as? [String: Any])
            #expect(data["text"] as? String == "We're here <3")
            #expect((data["id"] as? NSNumber)?.int64Value == messageId)
            #expect(data["author"] as? String == "Owner")

            // The visitor reads it: the agent's message moves to read, and the agent sees the tick.
            try await visitor.send(#"{"type":"read","through":\#(messageId)}"#)
            _ = try await agent.next("message.updated") { frame in
                (((frame["data"] as? [String: Any])?["message"] as? [String: Any])?["status"] as? String) == "read"
            }
            #expect(try await api.messageState(messageId).status == "read")

            // The visitor types: agents see it, marked as the visitor.
            try await visitor.send(#"{"type":"typing","typing":true}"#)
            let visitorTyping = try await agent.next("typing") { ($0["data"] as? [String: Any])?["visitor"] as? Bool == true }
            let typingData = try #require(visitorTyping["data"] as? [String: Any])
            #expect((typingData["contactId"] as? NSNumber)?.int64Value == contactId)
            #expect((typingData["user"] as? [String: Any])?["name"] as? String == "Pat")

            // Other visitors hear nothing of it.
            let stranger = try await Self.visitorStream(live, token: try await site.visitor())
            _ = try await stranger.next("ready")
            _ = try await api.send(.post, "/api/v1/contacts/\(contactId)/messages", json: ["channelId": site.channelId, "text": "Second"])
            _ = try await visitor.next("message") { ($0["data"] as? [String: Any])?["text"] as? String == "Second" }
            try await stranger.send(#"{"type":"ping"}"#)
            _ = try await stranger.next("pong")
            #expect(stranger.drain().allSatisfy { $0["type"] as? String != "message" })
            await stranger.close()
            await visitor.close()
            await agent.close()
        }
    }

    @Test(arguments: TestBackend.all)
    func theSocketChecksTokenAndSite(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let site = try await WebchatSite.create(live.api)
            let token = try await site.visitor()
            await #expect(throws: (any Error).self) { _ = try await Self.visitorStream(live, token: token + "x") }
            await #expect(throws: (any Error).self) { _ = try await Self.visitorStream(live, token: token, host: "https://evil.example") }
            let good = try await Self.visitorStream(live, token: token)
            _ = try await good.next("ready")
            try await good.send("not json")
            #expect(try await good.next("error").data["code"] as? String == "invalid_frame")
            await good.close()
        }
    }
}
