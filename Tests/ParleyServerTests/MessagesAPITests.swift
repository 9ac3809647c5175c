import Foundation
import Hummingbird
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

extension APIHarness {
    /// A channel of `kind` and a contact who last wrote on it `ago` seconds before now.
    func contactOn(_ kind: ChannelKind, wroteAgo ago: TimeInterval, name: String = "Ana Pérez", channel: Channel? = nil,
                   externalId: String? = nil) async throws -> (channel: Channel, contactId: Int64) {
        let channel = if let channel { channel } else {
            try await services.channels.create(workspaceId: 1, kind: kind, name: kind.rawValue, credentials: [:], apiBaseUrl: nil,
                                               actorUserId: nil, at: clock.now())
        }
        let result = try await services.inbound.record(
            InboundMessage(channelId: channel.id, externalId: externalId ?? UUID().uuidString, displayName: name,
                           providerMessageId: UUID().uuidString, providerTimestamp: clock.now().addingTimeInterval(-ago), text: "hello"),
            workspaceId: 1, receivedAt: clock.now().addingTimeInterval(-ago))
        return (channel, result.contactId)
    }

    func send(_ contactId: Int64, token: String? = nil, _ body: [String: Any]) async throws -> Reply {
        try await send(.post, "/api/v1/contacts/\(contactId)/messages", token: token, json: body)
    }
}

@Suite("Messages API")
struct MessagesAPITests {
    static let day: TimeInterval = 86_400

    /// The seed's whole flow: a closed WhatsApp conversation, found under All + Closed, reopened with a template.
    @Test(arguments: TestBackend.all)
    func reopenAClosedConversationWithATemplate(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agent = try await api.user(.agent)
            let colleague = try await api.user(.agent)
            let (channel, contactId) = try await api.contactOn(.whatsapp, wroteAgo: 3 * Self.day, name: "Rosa Martínez")
            _ = try await api.send(.patch, "/api/v1/contacts/\(contactId)", json: ["phone": "+5215511112222", "email": "rosa@example.com"])
            _ = try await api.send(.put, "/api/v1/contacts/\(contactId)/conversation/assignee", json: ["userId": colleague.id])
            _ = try await api.send(.post, "/api/v1/contacts/\(contactId)/conversation/close", token: colleague.token, json: ["summary": "resolved"])

            // 1. Find her: not under Mine, not under Open; under All + Closed by name, phone or email.
            #expect(try await api.send(.get, "/api/v1/conversations?view=mine&status=closed&q=rosa", token: agent.token).items.isEmpty)
            #expect(try await api.send(.get, "/api/v1/conversations?q=rosa", token: agent.token).items.isEmpty)
            for q in ["rosa", "MARTINEZ", "55%201111", "rosa@example.com"] {
                let found = try await api.send(.get, "/api/v1/conversations?status=closed&q=\(q)", token: agent.token)
                #expect(found.items.count == 1, "\(q)")
            }

            // 2. The composer says a template is required; free text is refused and stores nothing.
            let composer = try await api.send(.get, "/api/v1/contacts/\(contactId)/composer?channel=\(channel.id)", token: agent.token)
            #expect(composer.status == .ok)
            #expect(composer.json["allowed"] as? [String] == ["template"])
            #expect((composer.json["window"] as? [String: Any])?["status"] as? String == "closed")
            let messagesBefore = try await api.count("messages")
            let refused = try await api.send(contactId, token: agent.token, ["channelId": channel.id, "text": "Hola Rosa"])
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "template_required")
            #expect(try await api.count("messages") == messagesBefore)
            #expect(try await api.count("outbox") == 0)
            #expect(try await api.send(.get, "/api/v1/contacts/\(contactId)/conversation").json["status"] as? String == "closed")

            // 3. Send an approved template: stored pending in the outbox, conversation reopened and assigned to the sender.
            let template = try await api.send(.post, "/api/v1/channels/\(channel.id)/templates", json: [
                "name": "order_update", "language": "es_MX", "category": "UTILITY", "body": "Hola {{1}}, tu pedido {{2}} fue enviado.",
            ])
            #expect(template.status == .created)
            #expect(template.json["parameterCount"] as? Int == 2)
            let sent = try await api.send(contactId, token: agent.token, ["channelId": channel.id,
                                                                          "template": ["name": "order_update", "language": "es_MX", "parameters": ["Rosa", "A-1001"]]])
            #expect(sent.status == .created, "\(sent.text)")
            let message = try #require(sent.json["message"] as? [String: Any])
            #expect(message["status"] as? String == "pending")
            #expect(message["text"] as? String == "Hola Rosa, tu pedido A-1001 fue enviado.")
            #expect(message["contentKind"] as? String == "template")
            let conversation = try #require(sent.json["conversation"] as? [String: Any])
            #expect(conversation["status"] as? String == "open")
            #expect((conversation["assigneeId"] as? NSNumber)?.int64Value == agent.id)
            #expect(try await api.count("outbox") == 1)
            #expect(try await api.send(.get, "/api/v1/conversations?view=mine", token: agent.token).items.count == 1)

            // 4. Closing with the unassign logic unassigns.
            _ = try await api.send(.patch, "/api/v1/workspace/settings", json: ["closingLogic": "unassign"])
            let closed = try await api.send(.post, "/api/v1/contacts/\(contactId)/conversation/close", token: agent.token, json: [:])
            #expect(closed.json["status"] as? String == "closed")
            #expect(closed.json["assigneeId"] == nil)
            #expect(try await api.count("conversations") == 2)
        }
    }

    @Test(arguments: TestBackend.all)
    func assignmentOnSend(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agent = try await api.user(.agent)
            let colleague = try await api.user(.agent)
            // Open and unassigned: the sender takes it.
            let (channel, unassigned) = try await api.contactOn(.telegram, wroteAgo: 60)
            let first = try await api.send(unassigned, token: agent.token, ["channelId": channel.id, "text": "Hi"])
            #expect((first.json["conversation"] as? [String: Any])?["assigneeId"] as? Int == Int(agent.id))
            // Open and assigned to someone else: it stays theirs.
            let (_, theirs) = try await api.contactOn(.telegram, wroteAgo: 60, channel: channel)
            _ = try await api.send(.put, "/api/v1/contacts/\(theirs)/conversation/assignee", json: ["userId": colleague.id])
            let second = try await api.send(theirs, token: agent.token, ["channelId": channel.id, "text": "Hi"])
            #expect(second.status == .created)
            #expect((second.json["conversation"] as? [String: Any])?["assigneeId"] as? Int == Int(colleague.id))
            // A reply answers the conversation: it no longer waits.
            #expect((second.json["conversation"] as? [String: Any])?["waitingSince"] == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func eachChannelsRuleAtTheAPI(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let integration = try #require(try await api.send(.post, "/api/v1/tokens", json: ["name": "bot"]).json["token"] as? String)

            // Messenger, 3 days: a human reply goes out tagged HUMAN_AGENT; an automation is refused.
            let (messenger, m) = try await api.contactOn(.messenger, wroteAgo: 3 * Self.day)
            let human = try await api.send(m, ["channelId": messenger.id, "text": "Following up"])
            #expect(human.status == .created)
            let outbox = try await api.services.database.read { db in
                try await db.raw("SELECT delivery FROM outbox").first()?.decode(column: "delivery", as: String.self)
            }
            #expect(outbox?.contains("\"messagingType\":\"MESSAGE_TAG\"") == true)
            #expect(outbox?.contains("\"tag\":\"HUMAN_AGENT\"") == true)
            let bot = try await api.send(m, token: integration, ["channelId": messenger.id, "text": "Automated"])
            #expect(bot.errorCode == "tag_required")
            let botTagged = try await api.send(m, token: integration, ["channelId": messenger.id, "text": "Your order shipped", "tag": "POST_PURCHASE_UPDATE"])
            #expect(botTagged.status == .created)

            // Messenger, 8 days: only tagged messages.
            let (_, old) = try await api.contactOn(.messenger, wroteAgo: 8 * Self.day, channel: messenger)
            #expect(try await api.send(old, ["channelId": messenger.id, "text": "Hi"]).errorCode == "tag_required")
            #expect(try await api.send(old, ["channelId": messenger.id, "text": "Hi", "tag": "HUMAN_AGENT"]).errorCode == "tag_required")
            #expect(try await api.send(old, ["channelId": messenger.id, "text": "Account updated", "tag": "ACCOUNT_UPDATE"]).status == .created)

            // Instagram, 8 days: nothing until the contact writes.
            let (instagram, i) = try await api.contactOn(.instagram, wroteAgo: 8 * Self.day)
            #expect(try await api.send(i, ["channelId": instagram.id, "text": "Hi"]).errorCode == "contact_must_reply")
            let igComposer = try await api.send(.get, "/api/v1/contacts/\(i)/composer?channel=\(instagram.id)")
            #expect(igComposer.json["allowed"] as? [String] == ["none"])

            // WeChat, 3 days: recorded as undelivered, not queued.
            let outboxBefore = try await api.count("outbox")
            let (wechat, w) = try await api.contactOn(.wechat, wroteAgo: 3 * Self.day)
            let undelivered = try await api.send(w, ["channelId": wechat.id, "text": "你好"])
            #expect(undelivered.status == .created)
            #expect((undelivered.json["message"] as? [String: Any])?["status"] as? String == "undelivered")
            #expect((undelivered.json["message"] as? [String: Any])?["failureReason"] as? String == "outside_window")
            #expect(try await api.count("outbox") == outboxBefore)

            // Telegram: no window at all.
            let (telegram, t) = try await api.contactOn(.telegram, wroteAgo: 365 * Self.day)
            #expect(try await api.send(t, token: integration, ["channelId": telegram.id, "text": "Still here"]).status == .created)
        }
    }

    @Test(arguments: TestBackend.all)
    func badSendsAreNamedAndStoreNothing(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (whatsapp, contact) = try await api.contactOn(.whatsapp, wroteAgo: 2 * Self.day)
            let telegram = try await api.services.channels.create(workspaceId: 1, kind: .telegram, name: "tg", credentials: [:], apiBaseUrl: nil,
                                                                  actorUserId: nil, at: api.clock.now())
            _ = try await api.send(.post, "/api/v1/channels/\(whatsapp.id)/templates", json: ["name": "welcome", "language": "en_US", "category": "MARKETING", "body": "Hi {{1}}"])
            _ = try await api.send(.post, "/api/v1/channels/\(whatsapp.id)/templates", json: ["name": "promo", "language": "en_US", "category": "MARKETING",
                                                                                              "body": "Sale!", "status": "PENDING"])
            let before = (try await api.count("messages"), try await api.count("outbox"), try await api.count("events"))
            let cases: [([String: Any], HTTPResponse.Status, String, String?)] = [
                (["channelId": 9999, "text": "x"], .unprocessableContent, "unknown_channel", "channelId"),
                (["channelId": telegram.id, "text": "x"], .unprocessableContent, "no_identity", "channelId"),
                (["channelId": whatsapp.id, "template": ["name": "nope", "language": "en_US"]], .unprocessableContent, "unknown_template", "template.name"),
                (["channelId": whatsapp.id, "template": ["name": "promo", "language": "en_US"]], .unprocessableContent, "template_not_approved", "template.name"),
                (["channelId": whatsapp.id, "template": ["name": "welcome", "language": "en_US"]], .unprocessableContent, "template_parameters", "template.parameters"),
                (["channelId": whatsapp.id, "template": ["name": "welcome", "language": "en_US", "parameters": ["a", "b"]]], .unprocessableContent, "template_parameters", "template.parameters"),
                (["channelId": whatsapp.id, "template": ["name": "welcome", "language": "en_US", "parameters": [" "]]], .unprocessableContent, "template_parameters", "template.parameters[0]"),
                (["channelId": whatsapp.id, "text": "x", "tag": "URGENT"], .badRequest, "invalid_request", "tag"),
                (["channelId": whatsapp.id, "text": "   "], .badRequest, "invalid_request", "text"),
                (["channelId": whatsapp.id], .badRequest, "invalid_request", "text"),
                (["text": "x"], .badRequest, "invalid_request", "channelId"),
                (["channelId": whatsapp.id, "text": "x", "template": ["name": "welcome", "language": "en_US"]], .badRequest, "invalid_request", "template"),
                (["channelId": whatsapp.id, "text": "Outside the window"], .conflict, "template_required", nil),
            ]
            for (body, status, code, field) in cases {
                let reply = try await api.send(contact, body)
                #expect(reply.status == status, "\(body): \(reply.text)")
                #expect(reply.errorCode == code, "\(body)")
                #expect(reply.errorField == field, "\(body)")
            }
            #expect(try await api.send(.post, "/api/v1/contacts/99999/messages", json: ["channelId": whatsapp.id, "text": "x"]).status == .notFound)
            let after = (try await api.count("messages"), try await api.count("outbox"), try await api.count("events"))
            #expect(after == before)
            // Templates are WhatsApp's.
            let tgTemplate = try await api.send(.post, "/api/v1/channels/\(telegram.id)/templates", json: ["name": "x", "language": "en", "category": "UTILITY", "body": "x"])
            #expect(tgTemplate.errorCode == "templates_not_supported")
        }
    }

    @Test(arguments: TestBackend.all)
    func weChatsTwentiethMessageGoesToOneOfTwoRacingAgents(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (wechat, contact) = try await api.contactOn(.wechat, wroteAgo: 3600)
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE contact_identities SET outbound_since_inbound = 18").run()
            }
            let agents = [try await api.user(.agent), try await api.user(.agent), try await api.user(.manager)]
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<6 {
                    let token = agents[index % agents.count].token
                    group.addTask {
                        let reply = try await api.send(contact, token: token, ["channelId": wechat.id, "text": "message \(index)"])
                        return (reply.json["message"] as? [String: Any])?["status"] as? String ?? "error \(reply.status.code)"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == "pending" }.count == 2)
            #expect(statuses.filter { $0 == "undelivered" }.count == 4)
            let composer = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(wechat.id)")
            #expect(composer.json["weChatMessagesLeft"] as? Int == 0)
            // The contact writes again: the count starts over.
            _ = try await api.contactOn(.wechat, wroteAgo: 0, channel: wechat, externalId: try await api.services.contacts.find(id: contact, workspaceId: 1)?.identities.first?.externalId)
            let reopened = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(wechat.id)")
            #expect(reopened.json["weChatMessagesLeft"] as? Int == 20)
        }
    }

    @Test(arguments: TestBackend.all)
    func viberQuotaIsSharedByConcurrentSends(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let viber = try await api.services.channels.create(workspaceId: 1, kind: .viber, name: "Viber", credentials: [:], apiBaseUrl: nil,
                                                               actorUserId: nil, at: api.clock.now())
            var contacts: [Int64] = []
            for index in 0..<6 {
                contacts.append(try await api.contactOn(.viber, wroteAgo: 2 * Self.day, name: "Viber \(index)", channel: viber).contactId)
            }
            let month = WindowPolicy.utcMonth(api.clock.now())
            try await api.services.database.transaction { db in
                try await db.raw("UPDATE channels SET viber_month = \(bind: month), viber_month_count = 9998 WHERE id = \(bind: viber.id)").run()
            }
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for contact in contacts {
                    group.addTask {
                        let reply = try await api.send(contact, ["channelId": viber.id, "text": "Offer ends today"])
                        return reply.status == .created ? "sent" : reply.errorCode ?? "?"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "sent" }.count == 2)
            #expect(codes.filter { $0 == "viber_quota_exceeded" }.count == 4)
            let channel = try await api.send(.get, "/api/v1/channels/\(viber.id)")
            #expect(channel.json["viberMonthCount"] as? Int == 10_000)

            // With the commercial terms accepted, further messages go out as billable.
            _ = try await api.send(.patch, "/api/v1/channels/\(viber.id)", json: ["commercialTermsAccepted": true])
            let billable = try await api.send(contacts[0], ["channelId": viber.id, "text": "Billable"])
            #expect(billable.status == .created)
            let composer = try await api.send(.get, "/api/v1/contacts/\(contacts[1])/composer?channel=\(viber.id)")
            #expect(composer.json["viberQuotaLeft"] as? Int == 0)
            #expect(composer.json["allowed"] as? [String] == ["chatbot_initiated"])
        }
    }
}
