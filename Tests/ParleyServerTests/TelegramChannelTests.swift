import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Telegram end to end against the simulator over loopback HTTP.
@Suite("Telegram channel")
struct TelegramChannelTests {
    static let token = "123456:ABC-simulated"

    /// Connects a Telegram channel through the API against a running simulator.
    static func connect(_ api: APIHarness, _ simulator: ProviderSimulator) async throws -> Int64 {
        simulator.acceptTelegramToken(token)
        let created = try await api.send(.post, "/api/v1/channels", json: ["type": "telegram", "name": "Support bot",
                                                                          "credentials": ["botToken": token], "apiBaseUrl": simulator.baseURL])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }


    @Test(arguments: TestBackend.all)
    func connectingChecksTheTokenAndRegistersTheWebhook(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let refused = try await api.send(.post, "/api/v1/channels", json: ["type": "telegram", "name": "Bot",
                                                                                  "credentials": ["botToken": "wrong"], "apiBaseUrl": simulator.baseURL])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.errorCode == "connect_failed")
                #expect(try await api.count("channels") == 0)
                let missing = try await api.send(.post, "/api/v1/channels", json: ["type": "telegram", "name": "Bot", "apiBaseUrl": simulator.baseURL])
                #expect(missing.errorField == "credentials.botToken")

                let id = try await Self.connect(api, simulator)
                let hook = try #require(simulator.telegramWebhook(token: Self.token))
                #expect(hook.url == "https://parley.example.com/webhooks/\(id)")
                #expect(hook.secret.count >= 32)
                #expect(simulator.requests(.telegram).map { $0.path.components(separatedBy: "/").last ?? "" } == ["getMe", "getMe", "setWebhook"])
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func forgedWebhooksAreRefusedAndReplaysIgnored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let secret = try #require(simulator.telegramWebhook(token: Self.token)).secret
                let forged = simulator.telegramUpdate(chatId: 42, messageId: 1, text: "hi", firstName: "Eve", at: api.clock.now(), secret: "guess")
                #expect(try await api.webhook(id, forged).status == .unauthorized)
                let unsigned = (forged.body, [("Content-Type", "application/json")])
                #expect(try await api.webhook(id, unsigned).status == .unauthorized)
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)

                let update = simulator.telegramUpdate(chatId: 42, messageId: 1, text: "Hola", firstName: "Ana", lastName: "Pérez",
                                                      at: api.clock.now().addingTimeInterval(-5), secret: secret)
                #expect(try await api.webhook(id, update).status == .ok)
                #expect(try await api.webhook(id, update).status == .ok)
                #expect(try await api.count("messages") == 1)
                let inbox = try await api.send(.get, "/api/v1/conversations")
                #expect(inbox.items.count == 1)
                #expect((inbox.items.first?["contact"] as? [String: Any])?["name"] as? String == "Ana Pérez")
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 5).first)
                #expect(contact.identities.first?.externalId == "42")
                #expect(contact.identities.first?.lastInboundAt == Date(timeIntervalSince1970: floor(api.clock.now().addingTimeInterval(-5).timeIntervalSince1970)))
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func outboundWireShapeErrorsRetriesAndTimeouts(backend: TestBackend) async throws {
        try await APIHarness.run(backend, providerTimeout: .seconds(3)) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let secret = try #require(simulator.telegramWebhook(token: Self.token)).secret
                for (chat, name) in [(42, "Ana"), (43, "Blocked")] {
                    _ = try await api.webhook(id, simulator.telegramUpdate(chatId: Int64(chat), messageId: 1, text: "hi", firstName: name, at: api.clock.now(), secret: secret))
                }
                let contacts = try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 5)
                let ana = try #require(contacts.first { $0.firstName == "Ana" }).id
                let blocked = try #require(contacts.first { $0.firstName == "Blocked" }).id
                let worker = OutboxWorker(services: api.services)

                // Exact wire shape, then sent with the provider's id.
                let sent = try await api.send(ana, ["channelId": id, "text": "¿En qué te ayudo?"])
                let messageId = try #require(((sent.json["message"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
                #expect(try await worker.runOnce() == 1)
                let request = try #require(simulator.requests(.telegram).last)
                #expect(request.path == "/bot\(Self.token)/sendMessage")
                #expect(request.json["chat_id"] as? String == "42")
                #expect(request.json["text"] as? String == "¿En qué te ayudo?")
                let state = try await api.messageState(messageId)
                #expect(state.status == "sent")
                #expect(state.providerId?.hasPrefix("42:") == true)

                // A user who blocked the bot: failed, reason blocked, not retried.
                simulator.blockTelegramChat("43")
                let toBlocked = try await api.send(blocked, ["channelId": id, "text": "Hello?"])
                let blockedId = try #require(((toBlocked.json["message"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
                try await worker.runOnce()
                #expect(try await api.messageState(blockedId).status == "failed")
                #expect(try await api.messageState(blockedId).reason == "blocked")
                #expect(try await api.services.outbox.pendingCount() == 0)

                // 429 with retry_after: kept pending until then, then sent.
                simulator.inject(.status(429, retryAfter: 7), into: .telegram)
                let limited = try await api.send(ana, ["channelId": id, "text": "After the limit"])
                let limitedId = try #require(((limited.json["message"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
                try await worker.runOnce()
                #expect(try await api.messageState(limitedId).status == "pending")
                api.clock.advance(by: 6)
                #expect(try await worker.runOnce() == 0)
                api.clock.advance(by: 1.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(limitedId).status == "sent")

                // A hanging provider: the attempt times out and is retried with backoff.
                simulator.inject(.hang(seconds: 5), into: .telegram)
                let hung = try await api.send(ana, ["channelId": id, "text": "Are you there?"])
                let hungId = try #require(((hung.json["message"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
                try await worker.runOnce()
                #expect(try await api.messageState(hungId).status == "pending")
                api.clock.advance(by: 2.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(hungId).status == "sent")
                #expect(simulator.requests(.telegram).filter { $0.json["text"] as? String == "Are you there?" }.count == 2)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func anInterruptedAttemptIsNotResentBlindly(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let secret = try #require(simulator.telegramWebhook(token: Self.token)).secret
                _ = try await api.webhook(id, simulator.telegramUpdate(chatId: 42, messageId: 1, text: "hi", firstName: "Ana", at: api.clock.now(), secret: secret))
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 1).first).id
                let sent = try await api.send(contact, ["channelId": id, "text": "Once only"])
                let messageId = try #require(((sent.json["message"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
                // A worker claims the message and dies before recording anything.
                #expect(try await api.services.outbox.claim(limit: 10, now: api.clock.now()).count == 1)
                api.clock.advance(by: OutboxRepository.defaultLease + 1)
                try await OutboxWorker(services: api.services).runOnce()
                let state = try await api.messageState(messageId)
                #expect(state.status == "failed")
                #expect(state.reason == "delivery_uncertain")
                #expect(simulator.requests(.telegram).filter { $0.path.hasSuffix("sendMessage") }.isEmpty)
            }
        }
    }
}
