import Foundation
import Hummingbird
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// "Send when they write": a message queued past a closed window waits as `scheduled` and goes
/// out once, when the contact's next message opens the window.
@Suite("Queued messages")
struct ReachQueueTests {
    static let day: TimeInterval = 86_400

    /// An Instagram channel on the simulator and a contact who last wrote `ago` seconds ago.
    static func instagramContact(_ api: APIHarness, _ simulator: ProviderSimulator, ago: TimeInterval) async throws -> (channel: Int64, contact: Int64) {
        simulator.acceptMetaToken("IG-TOKEN", for: .messenger)
        let created = try await api.send(.post, "/api/v1/channels", json: [
            "type": "instagram", "name": "Shop IG", "apiBaseUrl": simulator.baseURL,
            "credentials": ["pageAccessToken": "IG-TOKEN", "appSecret": MetaChannelTests.appSecret, "verifyToken": "v"],
        ])
        let channel = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
        let first = simulator.messengerInbound(from: "IGSID-1", messageId: "m_old", text: "Is the jacket back in stock?",
                                               at: api.clock.now().addingTimeInterval(-ago), appSecret: MetaChannelTests.appSecret, object: "instagram")
        #expect(try await api.webhook(channel, first).status == .ok)
        return (channel, try await api.contact(externalId: "IGSID-1"))
    }

    static func message(_ reply: Reply) -> [String: Any] { reply.json["message"] as? [String: Any] ?? [:] }

    @Test(arguments: TestBackend.all)
    func anInstagramMessageWaitsForTheContactAndGoesOnce(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (channel, contact) = try await Self.instagramContact(api, simulator, ago: 8 * Self.day)
                let agent = try await api.user(.agent)
                let colleague = try await api.user(.agent)
                _ = try await api.send(.post, "/api/v1/contacts/\(contact)/conversation/close", json: [:])

                let composer = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(channel)", token: agent.token)
                #expect(composer.json["allowed"] as? [String] == ["none"])
                #expect(composer.json["canQueue"] as? Bool == true)
                #expect(try await api.send(contact, token: agent.token, ["channelId": channel, "text": "It is!"]).errorCode == "contact_must_reply")

                let queued = try await api.send(contact, token: agent.token, ["channelId": channel, "text": "It is back", "deliver": "when_contact_writes"])
                #expect(queued.status == .created, "\(queued.text)")
                #expect(queued.json["queued"] as? Bool == true)
                let id = try #require((Self.message(queued)["id"] as? NSNumber)?.int64Value)
                #expect(Self.message(queued)["status"] as? String == "scheduled")
                let expires = try #require(Self.message(queued)["queueExpiresAt"] as? String)
                let expiry = try #require(MessagesControllerDates.parse(expires))
                #expect(abs(expiry.timeIntervalSince(api.clock.now()) - 30 * Self.day) < 2)
                #expect(try await api.count("outbox") == 0)
                #expect(try await api.send(.get, "/api/v1/contacts/\(contact)/conversation").json["status"] as? String == "closed")
                let timeline = try await api.send(.get, "/api/v1/contacts/\(contact)/timeline", token: agent.token)
                #expect(timeline.items.contains { ($0["message"] as? [String: Any])?["status"] as? String == "scheduled" })

                // Only its author changes it.
                let foreign = try await api.send(.patch, "/api/v1/messages/\(id)", token: colleague.token, json: ["text": "Hijacked"])
                #expect(foreign.status == .conflict)
                #expect(foreign.errorCode == "not_queued")
                let edited = try await api.send(.patch, "/api/v1/messages/\(id)", token: agent.token, json: ["text": "Good news: it is back in stock"])
                #expect(edited.status == .ok, "\(edited.text)")
                #expect(edited.json["text"] as? String == "Good news: it is back in stock")

                // The contact writes: in the webhook's own transaction the message is released.
                api.clock.advance(by: 60)
                let reply = simulator.messengerInbound(from: "IGSID-1", messageId: "m_new", text: "Any news?", at: api.clock.now(),
                                                       appSecret: MetaChannelTests.appSecret, object: "instagram")
                #expect(try await api.webhook(channel, reply).status == .ok)
                #expect(try await api.messageState(id).status == "pending")
                #expect(try await api.count("outbox") == 1)
                let conversation = try await api.send(.get, "/api/v1/contacts/\(contact)/conversation")
                #expect(conversation.json["status"] as? String == "open")
                #expect((conversation.json["assigneeId"] as? NSNumber)?.int64Value == agent.id)
                // It now follows the contact's message in the timeline.
                let after = try await api.send(.get, "/api/v1/contacts/\(contact)/timeline?limit=2", token: agent.token).items
                #expect(after.compactMap { ($0["message"] as? [String: Any])?["id"] as? NSNumber }.first?.int64Value == id)

                let worker = OutboxWorker(services: api.services)
                #expect(try await worker.runOnce() == 1)
                let sends = simulator.requests(.messenger).filter { $0.path.hasSuffix("/me/messages") }
                #expect(sends.count == 1)
                #expect((sends.first?.json["message"] as? [String: Any])?["text"] as? String == "Good news: it is back in stock")
                #expect(try await api.messageState(id).status == "sent")

                // A replayed webhook and a later message send nothing more.
                #expect(try await api.webhook(channel, reply).status == .ok)
                let later = simulator.messengerInbound(from: "IGSID-1", messageId: "m_later", text: "Thanks", at: api.clock.now(),
                                                       appSecret: MetaChannelTests.appSecret, object: "instagram")
                #expect(try await api.webhook(channel, later).status == .ok)
                #expect(try await worker.runOnce() == 0)
                #expect(simulator.requests(.messenger).filter { $0.path.hasSuffix("/me/messages") }.count == 1)
            }
        }
    }

    /// Two messages queued for one contact go in the order they were written, one after the
    /// other: the second is not sent while the provider is still taking the first.
    @Test(arguments: TestBackend.all)
    func queuedMessagesGoInTheOrderTheyWereWritten(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (channel, contact) = try await Self.instagramContact(api, simulator, ago: 8 * Self.day)
                for text in ["First: your order shipped", "Second: here is the tracking link"] {
                    let queued = try await api.send(contact, ["channelId": channel, "text": text, "deliver": "when_contact_writes"])
                    #expect(queued.status == .created, "\(queued.text)")
                }
                let reply = simulator.messengerInbound(from: "IGSID-1", messageId: "m_back", text: "Hi", at: api.clock.now(),
                                                       appSecret: MetaChannelTests.appSecret, object: "instagram")
                #expect(try await api.webhook(channel, reply).status == .ok)
                simulator.inject(.hang(seconds: 2), into: .messenger)
                func sends() -> [String] {
                    simulator.requests(.messenger).filter { $0.path.hasSuffix("/me/messages") }
                        .compactMap { ($0.json["message"] as? [String: Any])?["text"] as? String }
                }
                let round = Task { try await OutboxWorker(services: api.services).runOnce() }
                while sends().isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                try await Task.sleep(for: .milliseconds(500))
                #expect(sends() == ["First: your order shipped"], "the second went while the first was still being sent")
                // The next round takes the second, once the first is concluded.
                #expect(try await round.value == 1)
                #expect(try await OutboxWorker(services: api.services).runOnce() == 1)
                #expect(sends() == ["First: your order shipped", "Second: here is the tracking link"])
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func cancelledAndExpiredMessagesAreNeverSent(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (channel, contact) = try await api.contactOn(.instagram, wroteAgo: 9 * Self.day, externalId: "IGSID-2")
            let agent = try await api.user(.agent)
            let now = api.clock.now()

            // Bad input is refused and stores nothing.
            let messages = try await api.count("messages")
            let past = try await api.send(contact, token: agent.token, ["channelId": channel.id, "text": "x", "deliver": "when_contact_writes",
                                                                        "queueExpiresAt": "2001-01-01T00:00:00Z"])
            #expect(past.status == .badRequest)
            #expect(past.errorField == "queueExpiresAt")
            let alone = try await api.send(contact, token: agent.token, ["channelId": channel.id, "text": "x", "queueExpiresAt": "2099-01-01T00:00:00Z"])
            #expect(alone.status == .badRequest)
            #expect(try await api.send(contact, token: agent.token, ["channelId": channel.id, "text": "x", "deliver": "later"]).status == .badRequest)
            #expect(try await api.count("messages") == messages)

            let cancelled = try await api.send(contact, token: agent.token, ["channelId": channel.id, "text": "Never mind", "deliver": "when_contact_writes"])
            let cancelledId = try #require((Self.message(cancelled)["id"] as? NSNumber)?.int64Value)
            let soon = now.addingTimeInterval(3600).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            let expiring = try await api.send(contact, token: agent.token, ["channelId": channel.id, "text": "Still interested?",
                                                                            "deliver": "when_contact_writes", "queueExpiresAt": soon])
            #expect(expiring.status == .created, "\(expiring.text)")
            let expiringId = try #require((Self.message(expiring)["id"] as? NSNumber)?.int64Value)

            let withdrawn = try await api.send(.post, "/api/v1/messages/\(cancelledId)/cancel", token: agent.token)
            #expect(withdrawn.status == .ok)
            #expect(withdrawn.json["status"] as? String == "cancelled")
            #expect(try await api.send(.post, "/api/v1/messages/\(cancelledId)/cancel", token: agent.token).errorCode == "not_queued")
            #expect(try await api.send(.patch, "/api/v1/messages/\(cancelledId)", token: agent.token, json: ["text": "again"]).status == .conflict)
            #expect(try await api.send(.post, "/api/v1/messages/999999/cancel", token: agent.token).status == .notFound)

            // Before its time nothing expires; after it, the timeline says so.
            let worker = ReachWorker(services: api.services)
            #expect(try await worker.runOnce() == 0)
            api.clock.advance(by: 3601)
            #expect(try await worker.runOnce() == 1)
            let state = try await api.messageState(expiringId)
            #expect(state.status == "expired")
            #expect(state.reason == "queue_expired")

            // The contact writes: neither goes.
            _ = try await api.services.inbound.record(
                InboundMessage(channelId: channel.id, externalId: "IGSID-2", displayName: nil, providerMessageId: "late", providerTimestamp: api.clock.now(),
                               text: "Hello?"), workspaceId: 1, receivedAt: api.clock.now())
            #expect(try await api.count("outbox") == 0)
            #expect(try await api.messageState(cancelledId).status == "cancelled")
            #expect(try await api.messageState(expiringId).status == "expired")

            // With the window open, asking to queue simply sends now.
            let open = try await api.send(contact, token: agent.token, ["channelId": channel.id, "text": "Hi!", "deliver": "when_contact_writes"])
            #expect(open.json["queued"] as? Bool == false)
            #expect(Self.message(open)["status"] as? String == "pending")
        }
    }
}

/// Reads the API's dates (with or without fractional seconds).
enum MessagesControllerDates {
    static func parse(_ raw: String) -> Date? {
        (try? Date(raw, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(raw, strategy: Date.ISO8601FormatStyle()))
    }
}
