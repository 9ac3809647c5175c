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

/// WhatsApp Cloud and Messenger end to end against the simulator over loopback HTTP.
@Suite("Meta channels")
struct MetaChannelTests {
    static let appSecret = "meta-app-secret"
    static let whatsappCredentials = ["accessToken": "EAAG-wa", "phoneNumberId": "1055", "appSecret": appSecret, "verifyToken": "hub-verify", "wabaId": "WABA1"]

    static func connectWhatsApp(_ api: APIHarness, _ simulator: ProviderSimulator) async throws -> Int64 {
        simulator.acceptMetaToken("EAAG-wa", for: .whatsapp)
        let created = try await api.send(.post, "/api/v1/channels", json: ["type": "whatsapp", "name": "Sales", "credentials": whatsappCredentials,
                                                                          "apiBaseUrl": simulator.baseURL])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }


    @Test(arguments: TestBackend.all)
    func whatsAppHandshakeAndSignatures(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connectWhatsApp(api, simulator)
                let ok = try await api.send(.get, "/webhooks/\(id)?hub.mode=subscribe&hub.verify_token=hub-verify&hub.challenge=1158201444", token: "")
                #expect(ok.status == .ok)
                #expect(ok.text == "1158201444")
                #expect(try await api.send(.get, "/webhooks/\(id)?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", token: "").status == .forbidden)

                let inbound = simulator.whatsappInbound(from: "5215512345678", name: "Rosa", messageId: "wamid.IN1", text: "Hola",
                                                        at: api.clock.now(), phoneNumberId: "1055", appSecret: "wrong-secret")
                #expect(try await api.webhook(id, inbound).status == .unauthorized)
                var tampered = simulator.whatsappInbound(from: "5215512345678", name: "Rosa", messageId: "wamid.IN1", text: "Hola",
                                                         at: api.clock.now(), phoneNumberId: "1055", appSecret: Self.appSecret)
                tampered.body[tampered.body.count - 3] ^= 1
                #expect(try await api.webhook(id, tampered).status == .unauthorized)
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func whatsAppInboundTemplatesAndOutbound(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connectWhatsApp(api, simulator)
                let inbound = simulator.whatsappInbound(from: "5215512345678", name: "Rosa Martínez", messageId: "wamid.IN1", text: "¿Llegó mi pedido?",
                                                        at: api.clock.now().addingTimeInterval(-60), phoneNumberId: "1055", appSecret: Self.appSecret)
                #expect(try await api.webhook(id, inbound).status == .ok)
                #expect(try await api.webhook(id, inbound).status == .ok)
                #expect(try await api.count("messages") == 1)
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: ContactSearchQuery("rosa"), beforeId: nil, limit: 1).first)
                #expect(contact.identities.first?.externalId == "5215512345678")

                // Templates come from the provider.
                simulator.addWhatsAppTemplate(waba: "WABA1", name: "order_update", language: "es_MX", body: "Hola {{1}}, tu pedido {{2}} salió.")
                simulator.addWhatsAppTemplate(waba: "WABA1", name: "promo", language: "es_MX", status: "PENDING", category: "MARKETING", body: "Oferta")
                let synced = try await api.send(.post, "/api/v1/channels/\(id)/templates/sync")
                #expect(synced.status == .ok, "\(synced.text)")
                #expect(synced.items.map { $0["name"] as? String } == ["order_update", "promo"])
                #expect(synced.items.first?["parameterCount"] as? Int == 2)

                let worker = OutboxWorker(services: api.services)
                let text = try await api.send(contact.id, ["channelId": id, "text": "Sí, hoy"])
                let template = try await api.send(contact.id, ["channelId": id, "template": ["name": "order_update", "language": "es_MX", "parameters": ["Rosa", "A-7"]]])
                // One recipient's messages go one per round, in the order they were written.
                #expect(try await worker.runOnce() == 1)
                #expect(try await worker.runOnce() == 1)
                let sends = simulator.requests(.whatsapp).filter { $0.path == "/v21.0/1055/messages" }
                #expect(sends.count == 2)
                #expect(sends.allSatisfy { $0.headers["authorization"] == "Bearer EAAG-wa" })
                let textWire = try #require(sends.first { $0.json["type"] as? String == "text" })
                #expect(textWire.json["messaging_product"] as? String == "whatsapp")
                #expect(textWire.json["to"] as? String == "5215512345678")
                #expect((textWire.json["text"] as? [String: Any])?["body"] as? String == "Sí, hoy")
                let templateWire = try #require((sends.first { $0.json["type"] as? String == "template" })?.json["template"] as? [String: Any])
                #expect(templateWire["name"] as? String == "order_update")
                #expect((templateWire["language"] as? [String: Any])?["code"] as? String == "es_MX")
                let parameters = ((templateWire["components"] as? [[String: Any]])?.first?["parameters"] as? [[String: Any]])?.compactMap { $0["text"] as? String }
                #expect(parameters == ["Rosa", "A-7"])
                let textState = try await api.messageState(try sentMessageId(text))
                #expect(textState.status == "sent")
                #expect(textState.providerId?.hasPrefix("wamid.SIM") == true)
                #expect(try await api.messageState(try sentMessageId(template)).status == "sent")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func whatsAppErrorsAndStatusCallbacks(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connectWhatsApp(api, simulator)
                let inbound = simulator.whatsappInbound(from: "5215500000001", name: "Leo", messageId: "wamid.IN9", text: "hi",
                                                        at: api.clock.now().addingTimeInterval(-60), phoneNumberId: "1055", appSecret: Self.appSecret)
                _ = try await api.webhook(id, inbound)
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 1).first).id
                let worker = OutboxWorker(services: api.services)

                // The provider's own window disagrees (its clock says the contact wrote long ago): 131047 → template_required.
                simulator.contactWrote(.whatsapp, recipient: "5215500000001", at: api.clock.now().addingTimeInterval(-2 * 86_400))
                let refused = try await api.send(contact, ["channelId": id, "text": "Hello"])
                try await worker.runOnce()
                let refusedState = try await api.messageState(try sentMessageId(refused))
                #expect(refusedState.status == "failed")
                #expect(refusedState.reason == "template_required")

                // 5xx → retried, then sent; status callbacks move forward only.
                simulator.contactWrote(.whatsapp, recipient: "5215500000001", at: api.clock.now())
                simulator.inject(.status(503, retryAfter: nil), into: .whatsapp)
                let sent = try await api.send(contact, ["channelId": id, "text": "Second try"])
                let sentId = try sentMessageId(sent)
                try await worker.runOnce()
                #expect(try await api.messageState(sentId).status == "pending")
                api.clock.advance(by: 3)
                try await worker.runOnce()
                let state = try await api.messageState(sentId)
                #expect(state.status == "sent")
                let wamid = try #require(state.providerId)
                for (status, expected) in [("delivered", "delivered"), ("sent", "delivered"), ("read", "read"), ("delivered", "read"), ("failed", "read")] {
                    let callback = simulator.whatsappStatus(messageId: wamid, status: status, recipient: "5215500000001", at: api.clock.now(),
                                                            phoneNumberId: "1055", appSecret: Self.appSecret)
                    #expect(try await api.webhook(id, callback).status == .ok)
                    #expect(try await api.messageState(sentId).status == expected, "after \(status)")
                }
                // A failed status with 131047 on a sent message maps to the same reason.
                let third = try await api.send(contact, ["channelId": id, "text": "Third"])
                try await worker.runOnce()
                let thirdWamid = try #require(try await api.messageState(try sentMessageId(third)).providerId)
                _ = try await api.webhook(id, simulator.whatsappStatus(messageId: thirdWamid, status: "failed", recipient: "5215500000001", errorCode: 131047,
                                                                       at: api.clock.now(), phoneNumberId: "1055", appSecret: Self.appSecret))
                let thirdState = try await api.messageState(try sentMessageId(third))
                #expect(thirdState.status == "failed")
                #expect(thirdState.reason == "template_required")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func messengerSendsHumanAgentTagsAndMapsWindowErrors(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                simulator.acceptMetaToken("PAGE-TOKEN", for: .messenger)
                let created = try await api.send(.post, "/api/v1/channels", json: [
                    "type": "messenger", "name": "Page", "apiBaseUrl": simulator.baseURL,
                    "credentials": ["pageAccessToken": "PAGE-TOKEN", "appSecret": Self.appSecret, "verifyToken": "v"],
                ])
                let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
                let wrote = api.clock.now().addingTimeInterval(-3 * 86_400)
                #expect(try await api.webhook(id, simulator.messengerInbound(from: "PSID-1", messageId: "m_in1", text: "Hi", at: wrote, appSecret: Self.appSecret)).status == .ok)
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 1).first).id
                let worker = OutboxWorker(services: api.services)

                let human = try await api.send(contact, ["channelId": id, "text": "Following up on your order"])
                try await worker.runOnce()
                let wire = try #require(simulator.requests(.messenger).last)
                #expect(wire.query["access_token"] == "PAGE-TOKEN")
                #expect(wire.json["messaging_type"] as? String == "MESSAGE_TAG")
                #expect(wire.json["tag"] as? String == "HUMAN_AGENT")
                #expect((wire.json["recipient"] as? [String: Any])?["id"] as? String == "PSID-1")
                #expect(try await api.messageState(try sentMessageId(human)).status == "sent")

                // The provider says the window closed (its records say 8 days): 10/2018278 → tag_required.
                simulator.contactWrote(.messenger, recipient: "PSID-1", at: api.clock.now().addingTimeInterval(-8 * 86_400))
                let late = try await api.send(contact, ["channelId": id, "text": "Anyone?"])
                try await worker.runOnce()
                let lateState = try await api.messageState(try sentMessageId(late))
                #expect(lateState.status == "failed")
                #expect(lateState.reason == "tag_required")
            }
        }
    }

    /// Two workers sharing one database deliver each message exactly once.
    @Test(arguments: TestBackend.all)
    func twoWorkersDeliverEachMessageOnce(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await TelegramChannelTests.connect(api, simulator)
                let secret = try #require(simulator.telegramWebhook(token: TelegramChannelTests.token)).secret
                _ = try await api.webhook(id, simulator.telegramUpdate(chatId: 77, messageId: 1, text: "hi", firstName: "Many", at: api.clock.now(), secret: secret))
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 1).first).id
                for index in 0..<40 {
                    _ = try await api.send(contact, ["channelId": id, "text": "message \(index)"])
                }
                let workers = [OutboxWorker(services: api.services, batchSize: 7), OutboxWorker(services: api.services, batchSize: 7)]
                var rounds = 0
                while try await api.services.outbox.pendingCount() > 0, rounds < 50 {
                    rounds += 1
                    async let first = workers[0].runOnce()
                    async let second = workers[1].runOnce()
                    _ = try await (first, second)
                }
                let texts = simulator.requests(.telegram).filter { $0.path.hasSuffix("sendMessage") }.compactMap { $0.json["text"] as? String }
                #expect(texts.count == 40)
                #expect(Set(texts).count == 40)
                let sent = try await api.services.database.read { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM messages WHERE direction = 'outbound' AND status = 'sent'").first()?.decode(column: "n", as: Int.self)
                }
                #expect(sent == 40)
            }
        }
    }
}
