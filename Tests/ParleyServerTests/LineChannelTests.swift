import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import Testing

/// LINE end to end against the simulator over loopback HTTP.
@Suite("LINE channel")
struct LineChannelTests {
    static let token = "line-channel-access-token"
    static let secret = "line-channel-secret"
    static let ana = "U4af4980629a0b1c2d3e4f5a6b7c8d9e0"

    static func connect(_ api: APIHarness, _ simulator: ProviderSimulator) async throws -> Int64 {
        simulator.acceptLineToken(token)
        let created = try await api.send(.post, "/api/v1/channels", json: ["type": "line", "name": "LINE OA",
                                                                          "credentials": ["channelAccessToken": token, "channelSecret": secret],
                                                                          "apiBaseUrl": simulator.baseURL])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }

    /// The contact who wrote as `userId`, after delivering a signed message from them.
    static func contact(_ api: APIHarness, _ simulator: ProviderSimulator, channel: Int64, userId: String) async throws -> Int64 {
        let inbound = simulator.lineInbound(userId: userId, messageId: "m-\(userId)", text: "hi", at: api.clock.now(), channelSecret: secret)
        #expect(try await api.webhook(channel, inbound).status == .ok)
        let contacts = try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 50)
        return try #require(contacts.first { $0.identities.contains { $0.externalId == userId } }).id
    }


    @Test(arguments: TestBackend.all)
    func connectingChecksTheAccessToken(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let refused = try await api.send(.post, "/api/v1/channels", json: ["type": "line", "name": "LINE",
                                                                                  "credentials": ["channelAccessToken": "wrong", "channelSecret": Self.secret],
                                                                                  "apiBaseUrl": simulator.baseURL])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.errorCode == "connect_failed")
                #expect(try await api.count("channels") == 0)
                let missing = try await api.send(.post, "/api/v1/channels", json: ["type": "line", "name": "LINE",
                                                                                  "credentials": ["channelAccessToken": Self.token], "apiBaseUrl": simulator.baseURL])
                #expect(missing.errorField == "credentials.channelSecret")

                _ = try await Self.connect(api, simulator)
                let check = try #require(simulator.requests(.line).last)
                #expect(check.method == "GET")
                #expect(check.path == "/v2/bot/info")
                #expect(check.headers["authorization"] == "Bearer \(Self.token)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func forgedWebhooksAreRefusedAndReplaysIgnored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let at = Date(timeIntervalSince1970: floor(api.clock.now().timeIntervalSince1970) - 5.25)
                let forged = simulator.lineInbound(userId: Self.ana, messageId: "100", text: "hi", at: at, channelSecret: "guess")
                #expect(try await api.webhook(id, forged).status == .unauthorized)
                #expect(try await api.webhook(id, (forged.body, [("Content-Type", "application/json")])).status == .unauthorized)
                // A genuine signature over a different body.
                let genuine = simulator.lineInbound(userId: Self.ana, messageId: "100", text: "hi", at: at, channelSecret: Self.secret)
                let tampered = simulator.lineInbound(userId: Self.ana, messageId: "100", text: "send me the refund", at: at, channelSecret: "x")
                #expect(try await api.webhook(id, (tampered.body, genuine.headers)).status == .unauthorized)
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)

                let inbound = simulator.lineInbound(userId: Self.ana, messageId: "100", text: "こんにちは", at: at, channelSecret: Self.secret)
                #expect(try await api.webhook(id, inbound).status == .ok)
                #expect(try await api.webhook(id, inbound).status == .ok)
                #expect(try await api.count("messages") == 1)
                let inbox = try await api.send(.get, "/api/v1/conversations")
                #expect(inbox.items.count == 1)
                #expect((inbox.items.first?["channel"] as? [String: Any])?["type"] as? String == "line")
                #expect((inbox.items.first?["lastMessage"] as? [String: Any])?["preview"] as? String == "こんにちは")
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 5).first)
                #expect(contact.identities.first?.externalId == Self.ana)
                // LINE timestamps are milliseconds.
                #expect(contact.identities.first?.lastInboundAt == at)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func outboundWireShapeErrorsAndRetries(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let ana = try await Self.contact(api, simulator, channel: id, userId: Self.ana)
                let worker = OutboxWorker(services: api.services)

                // Exact wire shape, then sent with LINE's request id.
                let sent = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "¿En qué te ayudo?"]))
                #expect(try await worker.runOnce() == 1)
                let push = try #require(simulator.requests(.line).last)
                #expect(push.method == "POST")
                #expect(push.path == "/v2/bot/message/push")
                #expect(push.headers["authorization"] == "Bearer \(Self.token)")
                #expect(push.headers["content-type"] == "application/json")
                let retryKey = try #require(push.headers["x-line-retry-key"])
                #expect(UUID(uuidString: retryKey) != nil)
                #expect(push.json["to"] as? String == Self.ana)
                let messages = try #require(push.json["messages"] as? [[String: Any]])
                #expect(messages.count == 1)
                #expect(messages.first?["type"] as? String == "text")
                #expect(messages.first?["text"] as? String == "¿En qué te ayudo?")
                let state = try await api.messageState(sent)
                #expect(state.status == "sent")
                #expect(state.providerId == simulator.lineDeliveries().last?.requestId)

                // Each message has its own retry key.
                _ = try await api.send(ana, ["channelId": id, "text": "Second"])
                try await worker.runOnce()
                #expect(simulator.requests(.line).last?.headers["x-line-retry-key"] != retryKey)

                // LINE refuses an address it does not know: failed, not retried.
                let stranger = try await Self.contact(api, simulator, channel: id, userId: "not-a-line-user")
                let refused = try sentMessageId(try await api.send(stranger, ["channelId": id, "text": "Hello?"]))
                try await worker.runOnce()
                #expect(try await api.messageState(refused).status == "failed")
                #expect(try await api.messageState(refused).reason == "invalid_recipient")
                #expect(try await api.services.outbox.pendingCount() == 0)

                // 429, then 503: kept pending through the backoff, then sent once with the same retry key.
                simulator.inject(.status(429, retryAfter: nil), into: .line)
                let limited = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "After the limit"]))
                try await worker.runOnce()
                #expect(try await api.messageState(limited).status == "pending")
                simulator.inject(.status(503, retryAfter: nil), into: .line)
                api.clock.advance(by: 2.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(limited).status == "pending")
                #expect(try await worker.runOnce() == 0)
                api.clock.advance(by: 4.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(limited).status == "sent")
                let attempts = simulator.requests(.line).filter { ($0.json["messages"] as? [[String: Any]])?.first?["text"] as? String == "After the limit" }
                #expect(attempts.count == 3)
                #expect(Set(attempts.compactMap { $0.headers["x-line-retry-key"] }).count == 1)
                #expect(simulator.lineDeliveries().filter { $0.text == "After the limit" }.count == 1)

                // A revoked token: failed with authentication_failed.
                let rotated = try await api.send(.patch, "/api/v1/channels/\(id)", json: ["credentials": ["channelAccessToken": "revoked"]])
                #expect(rotated.status == .ok)
                let unauthorized = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Anyone?"]))
                try await worker.runOnce()
                #expect(try await api.messageState(unauthorized).status == "failed")
                #expect(try await api.messageState(unauthorized).reason == "authentication_failed")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func anInterruptedPushIsResentWithTheSameRetryKeyAndDeliveredOnce(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let ana = try await Self.contact(api, simulator, channel: id, userId: Self.ana)
                let messageId = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Once only"]))

                // A worker claims the message, LINE accepts the push, and the worker dies before recording it.
                let job = try #require(try await api.services.outbox.claim(limit: 10, now: api.clock.now()).first)
                let stored = try #require(try await api.services.channels.providerConfig(channelId: id))
                let channel = ChannelConfig(id: id, workspaceId: stored.workspaceId, kind: .line, credentials: stored.credentials,
                                            apiBaseURL: stored.apiBaseUrl, webhookSecret: stored.webhookSecret,
                                            webhookURL: "https://parley.example.com/webhooks/\(id)")
                let first = await LineAdapter().send(OutboundDelivery(messageId: job.messageId, externalId: job.externalId, instructions: job.delivery,
                                                                      idempotencyKey: "parley-\(job.messageId)"),
                                                     channel: channel, http: api.services.channelRuntime.http)
                guard case .sent(let acceptedId) = first else {
                    Issue.record("the first push was not accepted: \(first)")
                    return
                }
                #expect(try await api.messageState(messageId).status == "pending")

                // After the lease another worker resends; LINE recognises the key and does not deliver again.
                api.clock.advance(by: OutboxRepository.defaultLease + 1)
                #expect(try await OutboxWorker(services: api.services).runOnce() == 1)
                let state = try await api.messageState(messageId)
                #expect(state.status == "sent")
                #expect(state.providerId == acceptedId)
                let pushes = simulator.requests(.line).filter { $0.path == "/v2/bot/message/push" }
                #expect(pushes.count == 2)
                #expect(pushes.first?.headers["x-line-retry-key"] == pushes.last?.headers["x-line-retry-key"])
                #expect(simulator.lineDeliveries().count == 1)
                #expect(try await api.services.outbox.pendingCount() == 0)
            }
        }
    }
}
