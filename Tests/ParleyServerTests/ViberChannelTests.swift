import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import Testing

/// Viber end to end against the simulator over loopback HTTP.
@Suite("Viber channel")
struct ViberChannelTests {
    static let token = "4453b6ac1a5ad3b1-simulated"
    static let day: TimeInterval = 86_400

    /// Connects a Viber channel through the API against a running simulator.
    static func connect(_ api: APIHarness, _ simulator: ProviderSimulator) async throws -> Int64 {
        simulator.acceptViberToken(token)
        let created = try await api.send(.post, "/api/v1/channels", json: [
            "type": "viber", "name": "Viber support", "credentials": ["authToken": token, "senderName": "Parley Support"],
            "apiBaseUrl": simulator.baseURL,
        ])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }




    @Test(arguments: TestBackend.all)
    func connectingRegistersTheWebhookAndItsCheckIsAnswered(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let refused = try await api.send(.post, "/api/v1/channels", json: ["type": "viber", "name": "Viber",
                                                                                  "credentials": ["authToken": "wrong"], "apiBaseUrl": simulator.baseURL])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.errorCode == "connect_failed")
                #expect(try await api.count("channels") == 0)

                let id = try await Self.connect(api, simulator)
                #expect(simulator.viberWebhook(authToken: Self.token) == "https://parley.example.com/webhooks/\(id)")
                let hook = try #require(simulator.requests(.viber).last)
                #expect(hook.path == "/pa/set_webhook")
                #expect(hook.headers["x-viber-auth-token"] == Self.token)
                #expect(hook.json["event_types"] as? [String] == ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"])

                // Viber checks the URL with a signed `webhook` callback that must answer 200; like
                // subscriptions and conversation openings, it stores nothing.
                let now = Int64(api.clock.now().timeIntervalSince1970 * 1000)
                for event: [String: Any] in [
                    ["event": "webhook", "timestamp": now, "chat_hostname": "SN-SIM", "message_token": 1],
                    ["event": "subscribed", "timestamp": now, "user": ["id": "u1", "name": "Ana"], "message_token": 2],
                    ["event": "conversation_started", "timestamp": now, "type": "open", "user": ["id": "u1", "name": "Ana"], "message_token": 3],
                ] {
                    #expect(try await api.webhook(id, simulator.viberSigned(event, authToken: Self.token)).status == .ok)
                    #expect(try await api.webhook(id, simulator.viberSigned(event, authToken: "forged")).status == .unauthorized)
                }
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func forgedWebhooksAreRefusedAndReplaysIgnored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let at = api.clock.now().addingTimeInterval(-5)
                let forged = simulator.viberInbound(from: "01234567890A=", name: "Eve", token: 5_000_000_000_000_000_001, text: "hi",
                                                    at: at, authToken: "guess")
                #expect(try await api.webhook(id, forged).status == .unauthorized)
                #expect(try await api.webhook(id, (forged.body, [("Content-Type", "application/json")])).status == .unauthorized)
                // A genuine signature does not cover another body.
                let genuine = simulator.viberInbound(from: "01234567890A=", name: "Ana Pérez", token: 5_000_000_000_000_000_001,
                                                     text: "Hola", at: at, authToken: Self.token)
                let tampered = (Array(String(decoding: genuine.body, as: UTF8.self).replacingOccurrences(of: "Hola", with: "Hol4").utf8), genuine.headers)
                #expect(try await api.webhook(id, tampered).status == .unauthorized)
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)

                #expect(try await api.webhook(id, genuine).status == .ok)
                #expect(try await api.webhook(id, genuine).status == .ok)
                #expect(try await api.count("messages") == 1)
                let inbox = try await api.send(.get, "/api/v1/conversations")
                #expect(inbox.items.count == 1)
                #expect((inbox.items.first?["contact"] as? [String: Any])?["name"] as? String == "Ana Pérez")
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 5).first)
                let identity = try #require(contact.identities.first)
                #expect(identity.externalId == "01234567890A=")
                // The provider's own timestamp (milliseconds) opens the window.
                let lastInbound = try #require(identity.lastInboundAt)
                #expect(abs(lastInbound.timeIntervalSince(at)) < 0.002)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func outboundWireShapeAndStatusCallbacksMoveForwardOnly(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                _ = try await api.webhook(id, simulator.viberInbound(from: "u-ana", name: "Ana", token: 77, text: "hi",
                                                                     at: api.clock.now(), authToken: Self.token))
                let ana = try await api.contact(externalId: "u-ana")
                let worker = OutboxWorker(services: api.services)

                let messageId = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "¿En qué te ayudo?"]))
                #expect(try await worker.runOnce() == 1)
                let request = try #require(simulator.requests(.viber).last)
                #expect(request.path == "/pa/send_message")
                #expect(request.headers["x-viber-auth-token"] == Self.token)
                #expect(request.json["receiver"] as? String == "u-ana")
                #expect((request.json["min_api_version"] as? NSNumber)?.intValue == 1)
                #expect((request.json["sender"] as? [String: Any])?["name"] as? String == "Parley Support")
                #expect(request.json["type"] as? String == "text")
                #expect(request.json["text"] as? String == "¿En qué te ayudo?")
                let state = try await api.messageState(messageId)
                #expect(state.status == "sent")
                // The 64-bit message token survives as its exact decimal text.
                let providerId = try #require(state.providerId)
                #expect(providerId.count == 19 && providerId.hasPrefix("5000000000000"))
                // Within the session nothing counts against the chatbot-initiated quota.
                #expect(simulator.viberMonthlyUsage(authToken: Self.token) == 0)

                #expect(try await api.webhook(id, simulator.viberDelivered(token: providerId, at: api.clock.now(), authToken: Self.token)).status == .ok)
                #expect(try await api.messageState(messageId).status == "delivered")
                _ = try await api.webhook(id, simulator.viberStatus("seen", token: providerId, at: api.clock.now(), authToken: Self.token))
                #expect(try await api.messageState(messageId).status == "read")
                // A late `delivered` or `failed` does not move a read message back.
                _ = try await api.webhook(id, simulator.viberDelivered(token: providerId, at: api.clock.now(), authToken: Self.token))
                _ = try await api.webhook(id, simulator.viberStatus("failed", token: providerId, at: api.clock.now(), authToken: Self.token))
                #expect(try await api.messageState(messageId).status == "read")

                // A `failed` callback for a sent message marks it failed.
                let second = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Second"]))
                try await worker.runOnce()
                let secondProviderId = try #require(try await api.messageState(second).providerId)
                _ = try await api.webhook(id, simulator.viberStatus("failed", token: secondProviderId, at: api.clock.now(), authToken: Self.token))
                #expect(try await api.messageState(second).status == "failed")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func providerErrorsMapToReasons(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                _ = try await api.webhook(id, simulator.viberInbound(from: "u-ana", name: "Ana", token: 78, text: "hi",
                                                                     at: api.clock.now(), authToken: Self.token))
                let ana = try await api.contact(externalId: "u-ana")
                let worker = OutboxWorker(services: api.services)

                // Parley thinks the session is open; Viber's own record says the contact wrote two
                // days ago and this month's free chatbot-initiated messages are used up: status 23.
                simulator.contactWrote(.viber, recipient: "u-ana", at: api.clock.now().addingTimeInterval(-2 * Self.day))
                simulator.setViberMonthlyUsage(ProviderSimulator.viberFreeMonthlyMessages, authToken: Self.token)
                let overQuota = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Over the quota"]))
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(overQuota).status == "failed")
                #expect(try await api.messageState(overQuota).reason == "viber_quota_exceeded")
                #expect(simulator.viberMonthlyUsage(authToken: Self.token) == ProviderSimulator.viberFreeMonthlyMessages)

                for (status, reason) in [(6, "blocked"), (5, "invalid_recipient"), (2, "authentication_failed"), (3, "provider_error")] {
                    simulator.failNextViberSends(status: status)
                    let message = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Status \(status)"]))
                    try await worker.runOnce()
                    #expect(try await api.messageState(message).status == "failed", "status \(status)")
                    #expect(try await api.messageState(message).reason == reason, "status \(status)")
                }
                #expect(try await api.services.outbox.pendingCount() == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func transientFailuresAreRetriedLater(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                _ = try await api.webhook(id, simulator.viberInbound(from: "u-ana", name: "Ana", token: 79, text: "hi",
                                                                     at: api.clock.now(), authToken: Self.token))
                let ana = try await api.contact(externalId: "u-ana")
                let worker = OutboxWorker(services: api.services)

                // HTTP 503, then Viber's own "tooManyRequests" (status 12 in an HTTP 200).
                simulator.inject(.status(503, retryAfter: nil), into: .viber)
                simulator.failNextViberSends(status: 12)
                let message = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Eventually"]))
                try await worker.runOnce()
                #expect(try await api.messageState(message).status == "pending")
                #expect(try await worker.runOnce() == 0)
                api.clock.advance(by: 2.5)
                try await worker.runOnce()
                #expect(try await api.messageState(message).status == "pending")
                api.clock.advance(by: 4.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(message).status == "sent")
                #expect(simulator.requests(.viber).filter { $0.json["text"] as? String == "Eventually" }.count == 3)
            }
        }
    }
}
