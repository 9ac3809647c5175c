import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import Testing

/// SMS through Twilio end to end against the simulator over loopback HTTP.
@Suite("Twilio SMS channel")
struct TwilioChannelTests {
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "twilio-auth-token"
    static let number = "+15550100000"
    static let ana = "+15551230001"

    static func connect(_ api: APIHarness, _ simulator: ProviderSimulator, sender: [String: String] = ["from": number]) async throws -> Int64 {
        simulator.acceptTwilioAccount(sid: accountSid, authToken: authToken)
        let created = try await api.send(.post, "/api/v1/channels", json: ["type": "sms", "name": "SMS",
                                                                          "credentials": ["accountSid": accountSid, "authToken": authToken].merging(sender) { $1 },
                                                                          "apiBaseUrl": simulator.baseURL])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }

    static func url(_ channel: Int64) -> String { "https://parley.example.com/webhooks/\(channel)" }

    /// The contact who texted from `number`, after delivering a signed inbound SMS from them.
    static func contact(_ api: APIHarness, _ simulator: ProviderSimulator, channel: Int64, from number: String) async throws -> Int64 {
        let inbound = simulator.twilioInbound(from: number, to: Self.number, sid: "SMin\(number.filter(\.isNumber))\(channel)", body: "hi",
                                              url: url(channel), authToken: authToken)
        #expect(try await api.webhook(channel, inbound).status == .ok)
        let contacts = try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 50)
        return try #require(contacts.first { $0.identities.contains { $0.externalId == number && $0.channelId == channel } }).id
    }


    @Test(arguments: TestBackend.all)
    func connectingChecksTheAccount(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                simulator.acceptTwilioAccount(sid: Self.accountSid, authToken: Self.authToken)
                let wrong = try await api.send(.post, "/api/v1/channels", json: ["type": "sms", "name": "SMS", "apiBaseUrl": simulator.baseURL,
                                                                                "credentials": ["accountSid": Self.accountSid, "authToken": "wrong", "from": Self.number]])
                #expect(wrong.status == .unprocessableContent)
                #expect(wrong.errorCode == "connect_failed")
                let senderless = try await api.send(.post, "/api/v1/channels", json: ["type": "sms", "name": "SMS", "apiBaseUrl": simulator.baseURL,
                                                                                     "credentials": ["accountSid": Self.accountSid, "authToken": Self.authToken]])
                #expect(senderless.status == .unprocessableContent)
                #expect(senderless.errorCode == "connect_failed")
                #expect(try await api.count("channels") == 0)

                _ = try await Self.connect(api, simulator)
                let check = try #require(simulator.requests(.twilio).last)
                #expect(check.method == "GET")
                #expect(check.path == "/2010-04-01/Accounts/\(Self.accountSid).json")
                #expect(check.headers["authorization"] == "Basic " + Data("\(Self.accountSid):\(Self.authToken)".utf8).base64EncodedString())
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func forgedWebhooksAreRefusedAndReplaysIgnored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let text = "Hola, ¿a+b = c & 100% d?"
                func inbound(url: String = Self.url(id), token: String = Self.authToken, body: String = text) -> (body: [UInt8], headers: [(String, String)]) {
                    simulator.twilioInbound(from: Self.ana, to: Self.number, sid: "SM0001", body: body, url: url, authToken: token)
                }
                #expect(try await api.webhook(id, inbound(token: "guess")).status == .unauthorized)
                #expect(try await api.webhook(id, (inbound().body, [("Content-Type", "application/x-www-form-urlencoded")])).status == .unauthorized)
                // The signature covers the URL: one signed for another address does not verify here.
                #expect(try await api.webhook(id, inbound(url: "https://parley.example.com/webhooks/\(id + 1)")).status == .unauthorized)
                // A genuine signature over different parameters.
                #expect(try await api.webhook(id, (inbound(body: "changed").body, inbound().headers)).status == .unauthorized)
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)

                let accepted = try await api.webhook(id, inbound())
                #expect(accepted.status == .ok)
                #expect(accepted.headers[.contentType]?.hasPrefix("text/xml") == true)
                #expect(accepted.text == "<Response></Response>")
                #expect(try await api.webhook(id, inbound()).status == .ok)
                #expect(try await api.count("messages") == 1)
                let inbox = try await api.send(.get, "/api/v1/conversations")
                #expect(inbox.items.count == 1)
                #expect((inbox.items.first?["channel"] as? [String: Any])?["type"] as? String == "sms")
                #expect((inbox.items.first?["lastMessage"] as? [String: Any])?["preview"] as? String == text)
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 5).first)
                #expect(contact.identities.first?.externalId == Self.ana)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func outboundWireShapeStatusCallbacksAndErrors(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let ana = try await Self.contact(api, simulator, channel: id, from: Self.ana)
                let worker = OutboxWorker(services: api.services)

                // Exact wire shape, then sent with Twilio's message SID.
                let text = "Hi Ana & co: 100% + more ✓"
                let sent = try sentMessageId(try await api.send(ana, ["channelId": id, "text": text]))
                #expect(try await worker.runOnce() == 1)
                let request = try #require(simulator.requests(.twilio).last)
                #expect(request.method == "POST")
                #expect(request.path == "/2010-04-01/Accounts/\(Self.accountSid)/Messages.json")
                #expect(request.headers["authorization"] == "Basic " + Data("\(Self.accountSid):\(Self.authToken)".utf8).base64EncodedString())
                #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
                let raw = String(decoding: request.body, as: UTF8.self)
                #expect(raw.contains("StatusCallback=https%3A%2F%2Fparley.example.com%2Fwebhooks%2F\(id)"))
                let message = try #require(simulator.twilioMessages().last)
                #expect(message.to == Self.ana)
                #expect(message.from == Self.number)
                #expect(message.messagingServiceSid == nil)
                #expect(message.body == text)
                #expect(message.statusCallback == Self.url(id))
                var state = try await api.messageState(sent)
                #expect(state.status == "sent")
                #expect(state.providerId == message.sid)

                // Delivered, then a late "sent" does not move it back; a forged callback changes nothing.
                let forged = simulator.twilioStatus(sid: message.sid, status: "failed", errorCode: 30003, url: Self.url(id), authToken: "guess")
                #expect(try await api.webhook(id, forged).status == .unauthorized)
                let delivered = try await api.webhook(id, simulator.twilioStatus(sid: message.sid, status: "delivered", url: Self.url(id), authToken: Self.authToken))
                #expect(delivered.status == .ok)
                #expect(try await api.messageState(sent).status == "delivered")
                _ = try await api.webhook(id, simulator.twilioStatus(sid: message.sid, status: "sent", url: Self.url(id), authToken: Self.authToken))
                state = try await api.messageState(sent)
                #expect(state.status == "delivered")

                // Undelivered with a carrier code: failed, mapped reason.
                let second = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Still there?"]))
                try await worker.runOnce()
                let secondSid = try #require(simulator.twilioMessages().last?.sid)
                _ = try await api.webhook(id, simulator.twilioStatus(sid: secondSid, status: "queued", url: Self.url(id), authToken: Self.authToken))
                #expect(try await api.messageState(second).status == "sent")
                _ = try await api.webhook(id, simulator.twilioStatus(sid: secondSid, status: "undelivered", errorCode: 30003, url: Self.url(id), authToken: Self.authToken))
                #expect(try await api.messageState(second).status == "failed")
                #expect(try await api.messageState(second).reason == "invalid_recipient")

                // The contact replied STOP: Twilio refuses with 21610, failed as blocked, not retried.
                simulator.unsubscribeTwilioNumber(Self.ana)
                let stopped = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Offer!"]))
                try await worker.runOnce()
                #expect(try await api.messageState(stopped).status == "failed")
                #expect(try await api.messageState(stopped).reason == "blocked")

                // A sender that is not a phone number: 21211, invalid_recipient.
                let shortCode = try await Self.contact(api, simulator, channel: id, from: "55501")
                let invalid = try sentMessageId(try await api.send(shortCode, ["channelId": id, "text": "Hello"]))
                try await worker.runOnce()
                #expect(try await api.messageState(invalid).status == "failed")
                #expect(try await api.messageState(invalid).reason == "invalid_recipient")
                #expect(try await api.services.outbox.pendingCount() == 0)
                #expect(simulator.twilioMessages().count == 2)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func rateLimitsAndOutagesAreRetriedAndAMessagingServiceIsUsed(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator, sender: ["messagingServiceSid": "MG0123456789abcdef0123456789abcdef"])
                let ana = try await Self.contact(api, simulator, channel: id, from: Self.ana)
                let worker = OutboxWorker(services: api.services)

                // 429 with Retry-After: kept pending until then.
                simulator.inject(.status(429, retryAfter: 7), into: .twilio)
                let limited = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "After the limit"]))
                try await worker.runOnce()
                #expect(try await api.messageState(limited).status == "pending")
                api.clock.advance(by: 6)
                #expect(try await worker.runOnce() == 0)
                api.clock.advance(by: 1.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(limited).status == "sent")

                // 503: retried after the backoff.
                simulator.inject(.status(503, retryAfter: nil), into: .twilio)
                let outage = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "During the outage"]))
                try await worker.runOnce()
                #expect(try await api.messageState(outage).status == "pending")
                api.clock.advance(by: 2.5)
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(outage).status == "sent")

                let messages = simulator.twilioMessages()
                #expect(messages.map(\.body) == ["After the limit", "During the outage"])
                #expect(messages.allSatisfy { $0.messagingServiceSid == "MG0123456789abcdef0123456789abcdef" && $0.from == nil })
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func anInterruptedAttemptIsNotResentBlindly(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let ana = try await Self.contact(api, simulator, channel: id, from: Self.ana)
                let messageId = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Once only"]))
                // Twilio has no idempotency key: after a crash mid-send the message may exist, so it is not resent.
                #expect(try await api.services.outbox.claim(limit: 10, now: api.clock.now()).count == 1)
                api.clock.advance(by: OutboxRepository.defaultLease + 1)
                try await OutboxWorker(services: api.services).runOnce()
                let state = try await api.messageState(messageId)
                #expect(state.status == "failed")
                #expect(state.reason == "delivery_uncertain")
                #expect(simulator.requests(.twilio).filter { $0.path.hasSuffix("Messages.json") }.isEmpty)
            }
        }
    }
}
