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

/// Issue #17: what a customer really sends arrives whole, statuses and windows are right.
@Suite("Channel fidelity")
struct ChannelFidelityTests {
    static let appSecret = MetaChannelTests.appSecret

    /// A WhatsApp webhook built from a change's `value`.
    static func whatsapp(_ value: [String: Any], _ simulator: ProviderSimulator) throws -> (body: [UInt8], headers: [(String, String)]) {
        let object: [String: Any] = ["object": "whatsapp_business_account", "entry": [["id": "WABA", "changes": [["field": "messages", "value": value]]]]]
        return simulator.metaSigned(body: Array(try JSONSerialization.data(withJSONObject: object)), appSecret: appSecret)
    }

    static func timeline(_ api: APIHarness, _ contactId: Int64) async throws -> [[String: Any]] {
        try await api.send(.get, "/api/v1/contacts/\(contactId)/timeline").items.compactMap { $0["message"] as? [String: Any] }
    }

    @Test(arguments: TestBackend.all)
    func aTemplateButtonTapKeepsTheAnswer(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await MetaChannelTests.connectWhatsApp(api, simulator)
                let tap = try Self.whatsapp([
                    "contacts": [["profile": ["name": "Rosa"], "wa_id": "5215512345678"]],
                    "messages": [["from": "5215512345678", "id": "wamid.TAP", "timestamp": String(Int(api.clock.now().timeIntervalSince1970)),
                                  "type": "button", "context": ["id": "wamid.TEMPLATE"], "button": ["text": "Reschedule", "payload": "RESCHEDULE"]]],
                ], simulator)
                #expect(try await api.webhook(id, tap).status == .ok)
                let message = try #require(try await Self.timeline(api, try await api.contact(externalId: "5215512345678")).first)
                #expect(message["text"] as? String == "Reschedule")
                #expect(message["contentKind"] as? String == "button")
                #expect((message["details"] as? [String: Any])?["payload"] as? String == "RESCHEDULE")
                #expect((message["details"] as? [String: Any])?["replyTo"] as? String == "wamid.TEMPLATE")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aUsernameSenderIsKeptAndJoinsTheContactOnceThePhoneArrives(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await MetaChannelTests.connectWhatsApp(api, simulator)
                let bsuid = "US.13491208655302741918"
                let at = String(Int(api.clock.now().timeIntervalSince1970))
                let first = try Self.whatsapp([
                    "contacts": [["profile": ["name": "Pablo", "username": "@pablo"], "user_id": bsuid]],
                    "messages": [["from_user_id": bsuid, "id": "wamid.U1", "timestamp": at, "type": "text", "text": ["body": "Hola"]]],
                ], simulator)
                #expect(try await api.webhook(id, first).status == .ok)
                #expect(try await api.count("messages") == 1)
                let contact = try await api.contact(externalId: bsuid)

                // The reply goes to the user id, as Meta takes it when there is no phone number.
                simulator.contactWrote(.whatsapp, recipient: bsuid, at: api.clock.now())
                _ = try await api.send(contact, ["channelId": id, "text": "¿En qué te ayudo?"])
                try await OutboxWorker(services: api.services).runOnce()
                let sent = try #require(simulator.requests(.whatsapp).last { $0.path.hasSuffix("/messages") })
                #expect(sent.json["recipient"] as? String == bsuid)
                #expect(sent.json["to"] == nil)

                // A later message carries the phone number too: same contact, now findable by phone.
                let second = try Self.whatsapp([
                    "contacts": [["profile": ["name": "Pablo"], "wa_id": "5215599990000", "user_id": bsuid]],
                    "messages": [["from": "5215599990000", "from_user_id": bsuid, "id": "wamid.U2", "timestamp": at, "type": "text", "text": ["body": "Mi número"]]],
                ], simulator)
                #expect(try await api.webhook(id, second).status == .ok)
                #expect(try await api.count("contacts") == 1)
                #expect(try await api.contact(externalId: "5215599990000") == contact)
                let found = try await api.send(.get, "/api/v1/contacts?q=\("+52 155 9999".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
                #expect(found.items.map { ($0["id"] as? NSNumber)?.int64Value } == [contact])
                #expect(found.items.first?["phone"] as? String == "+5215599990000")
                // And a message with the user id alone still finds the same identity.
                let third = try Self.whatsapp([
                    "contacts": [["profile": ["name": "Pablo"], "user_id": bsuid]],
                    "messages": [["from_user_id": bsuid, "id": "wamid.U3", "timestamp": at, "type": "text", "text": ["body": "Otra vez"]]],
                ], simulator)
                #expect(try await api.webhook(id, third).status == .ok)
                #expect(try await api.count("contact_identities") == 1)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func phoneSearchFindsWhatsAppAndSMSSenders(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await MetaChannelTests.connectWhatsApp(api, simulator)
                let inbound = simulator.whatsappInbound(from: "14155550123", name: "Lee", messageId: "wamid.P1", text: "hi", at: api.clock.now(),
                                                        phoneNumberId: "1055", appSecret: Self.appSecret)
                #expect(try await api.webhook(id, inbound).status == .ok)
                let contact = try await api.contact(externalId: "14155550123")
                #expect(try await api.services.contacts.find(id: contact, workspaceId: 1)?.phone == "+14155550123")
                // The contact's own phone changes; the WhatsApp number still finds them, in contacts and in the inbox.
                #expect(try await api.send(.patch, "/api/v1/contacts/\(contact)", json: ["phone": "+442071234567"]).status == .ok)
                let query = "(415) 555-01".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                #expect(try await api.send(.get, "/api/v1/contacts?q=\(query)").items.map { ($0["id"] as? NSNumber)?.int64Value } == [contact])
                let inbox = try await api.send(.get, "/api/v1/conversations?view=all&status=all&q=\(query)")
                #expect(inbox.items.count == 1)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func editsAndUnsendsReachTheTimelineAndTheEventStream(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let telegram = try await api.services.channels.create(workspaceId: 1, kind: .telegram, name: "Bot", credentials: ["botToken": "1:a"], apiBaseUrl: nil,
                                                                  actorUserId: nil, at: api.clock.now())
            let secret = try #require(try await api.services.channels.webhookSecret(channelId: telegram.id))
            let simulator = ProviderSimulator()
            #expect(try await api.webhook(telegram.id, simulator.telegramUpdate(chatId: 42, messageId: 7, text: "See you at 5", firstName: "Ana",
                                                                                at: api.clock.now(), secret: secret)).status == .ok)
            let contact = try await api.contact(externalId: "42")
            let eventsBefore = try await api.count("events")
            let edit: [String: Any] = ["update_id": 2, "edited_message": ["message_id": 7, "chat": ["id": 42, "type": "private"], "from": ["id": 42, "first_name": "Ana"],
                                                                         "date": Int(api.clock.now().timeIntervalSince1970), "edit_date": Int(api.clock.now().timeIntervalSince1970) + 30,
                                                                         "text": "See you at 6"]]
            let body = Array(try JSONSerialization.data(withJSONObject: edit))
            #expect(try await api.webhook(telegram.id, (body, [("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", secret)])).status == .ok)
            let messages = try await Self.timeline(api, contact)
            #expect(messages.count == 1)
            #expect(messages.first?["text"] as? String == "See you at 6")
            #expect(messages.first?["editedAt"] as? String != nil)
            let row = try await api.send(.get, "/api/v1/conversations?view=all").items.first
            #expect((row?["lastMessage"] as? [String: Any])?["preview"] as? String == "See you at 6")
            let updated = try await api.services.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM events WHERE type = 'message.updated'").first()?.decode(column: "n", as: Int.self)
            }
            #expect(updated == 1)
            #expect(try await api.count("events") == eventsBefore + 1)

            // Messenger: the contact unsends a message; it stays in its place, marked, without its text.
            let messenger = try await api.services.channels.create(workspaceId: 1, kind: .messenger, name: "Page",
                                                                   credentials: ["pageAccessToken": "p", "appSecret": Self.appSecret, "verifyToken": "v"],
                                                                   apiBaseUrl: nil, actorUserId: nil, at: api.clock.now())
            #expect(try await api.webhook(messenger.id, simulator.messengerInbound(from: "PSID9", messageId: "m_1", text: "wrong chat", at: api.clock.now(),
                                                                                 appSecret: Self.appSecret)).status == .ok)
            let unsend: [String: Any] = ["object": "page", "entry": [["id": "PAGE", "time": 1, "messaging": [[
                "sender": ["id": "PSID9"], "recipient": ["id": "PAGE"], "timestamp": api.clock.now().epochMilliseconds, "message": ["mid": "m_1", "is_deleted": true]]]]]]
            #expect(try await api.webhook(messenger.id, simulator.metaSigned(body: Array(try JSONSerialization.data(withJSONObject: unsend)),
                                                                              appSecret: Self.appSecret)).status == .ok)
            let gone = try #require(try await Self.timeline(api, try await api.contact(externalId: "PSID9")).first)
            #expect(gone["deletedAt"] as? String != nil)
            #expect(gone["text"] == nil || gone["text"] is NSNull)
        }
    }

    @Test(arguments: TestBackend.all)
    func textWithNULRoundTripsOnBothEngines(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (channel, contact) = try await api.contactOn(.telegram, wroteAgo: 10, name: "Nul\u{0}Name \u{FFFF}x")
            let text = "before\u{0}after \u{FFFF}0 \u{FFFF}\u{FFFF} end"
            _ = try await api.services.inbound.record(InboundMessage(channelId: channel.id, externalId: "nul-sender", displayName: nil, providerMessageId: "nul-1",
                                                                     providerTimestamp: api.clock.now(), text: text),
                                                      workspaceId: 1, receivedAt: api.clock.now())
            let stored = try await Self.timeline(api, try await api.contact(externalId: "nul-sender")).first?["text"] as? String
            #expect(stored == text)
            #expect(Array((stored ?? "").utf8) == Array(text.utf8))
            let named = try await api.services.contacts.find(id: contact, workspaceId: 1)
            #expect(named?.firstName == "Nul\u{0}Name")
            #expect(named?.lastName == "\u{FFFF}x")
        }
    }

    @Test(arguments: TestBackend.all)
    func weChatsWindowClosesAtItsTwentiethMessage(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (wechat, contact) = try await api.contactOn(.wechat, wroteAgo: 3600)
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE contact_identities SET outbound_since_inbound = 20").run()
            }
            let composer = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(wechat.id)")
            let window = try #require(composer.json["window"] as? [String: Any])
            #expect(window["status"] as? String == "closed")
            #expect(window["closedBy"] as? String == "message_limit")
            #expect(composer.json["sendsUndelivered"] as? Bool == true)
            let row = try #require(try await api.send(.get, "/api/v1/conversations?view=all").items.first)
            #expect((row["window"] as? [String: Any])?["status"] as? String == "closed")
            // Nineteen sent: still open, with one left.
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE contact_identities SET outbound_since_inbound = 19").run()
            }
            let open = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(wechat.id)")
            #expect((open.json["window"] as? [String: Any])?["status"] as? String == "open")
            #expect(open.json["weChatMessagesLeft"] as? Int == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func ownersCorrectTheViberCountAndTheChangeIsRecorded(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let viber = try await api.services.channels.create(workspaceId: 1, kind: .viber, name: "Viber", credentials: ["authToken": "t"], apiBaseUrl: nil,
                                                               actorUserId: nil, at: api.clock.now())
            let telegram = try await api.services.channels.create(workspaceId: 1, kind: .telegram, name: "Bot", credentials: [:], apiBaseUrl: nil,
                                                                  actorUserId: nil, at: api.clock.now())
            let manager = try await api.user(.manager)
            let refused = try await api.send(.patch, "/api/v1/channels/\(viber.id)", token: manager.token, json: ["viberMonthCount": 42, "name": "Renamed"])
            #expect(refused.status == .forbidden)
            #expect(try await api.send(.patch, "/api/v1/channels/\(viber.id)", json: ["viberMonthCount": -1, "name": "Renamed"]).errorField == "viberMonthCount")
            #expect(try await api.send(.patch, "/api/v1/channels/\(telegram.id)", json: ["viberMonthCount": 3]).status == .badRequest)
            #expect(try await api.send(.get, "/api/v1/channels/\(viber.id)").json["name"] as? String == "Viber")

            let corrected = try await api.send(.patch, "/api/v1/channels/\(viber.id)", json: ["viberMonthCount": 9_500])
            #expect(corrected.status == .ok, "\(corrected.text)")
            #expect(corrected.json["viberMonthCount"] as? Int == 9_500)
            #expect(corrected.json["viberMonth"] as? String == WindowPolicy.utcMonth(api.clock.now()))
            let (_, contact) = try await api.contactOn(.viber, wroteAgo: 2 * 86_400, channel: viber)
            let composer = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(viber.id)")
            #expect(composer.json["viberQuotaLeft"] as? Int == 500)
            let event = try await api.services.database.read { db in
                try await db.raw("SELECT actor_user_id, payload FROM events WHERE type = 'channel.updated' AND subject_id = \(bind: viber.id) ORDER BY id DESC").first()
                    .map { (try $0.decode(column: "actor_user_id", as: Int64?.self), try $0.decode(column: "payload", as: String.self)) }
            }
            #expect(event?.0 == 1)
            #expect(event?.1.contains("\"previousCount\":0") == true)
            #expect(event?.1.contains("\"viberMonthCount\":9500") == true)
        }
    }
}
