import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// The providers' own documented webhook examples (Tests/fixtures/webhooks/<channel>/*.json),
/// signed as each provider signs them and posted to the real webhook endpoint. Every inbound kind
/// must be stored whole or as a clear placeholder with its kind, and every status must move the
/// right messages forward — and only those.
@Suite("Provider webhook fixtures")
struct WebhookFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/webhooks")

    struct Channel {
        let directory: String
        let type: String
        let credentials: [String: String]
    }

    static let channels = [
        Channel(directory: "whatsapp", type: "whatsapp", credentials: ["accessToken": "t", "phoneNumberId": "106540352242922", "appSecret": "meta-secret", "verifyToken": "v"]),
        Channel(directory: "messenger", type: "messenger", credentials: ["pageAccessToken": "t", "appSecret": "meta-secret", "verifyToken": "v"]),
        Channel(directory: "instagram", type: "instagram", credentials: ["pageAccessToken": "t", "appSecret": "meta-secret", "verifyToken": "v"]),
        Channel(directory: "telegram", type: "telegram", credentials: ["botToken": "123:abc"]),
        Channel(directory: "line", type: "line", credentials: ["channelAccessToken": "t", "channelSecret": "line-secret"]),
        Channel(directory: "viber", type: "viber", credentials: ["authToken": "viber-token"]),
        Channel(directory: "wechat", type: "wechat", credentials: ["appId": "wx1", "appSecret": "s", "token": "wechat-token"]),
        Channel(directory: "sms", type: "sms", credentials: ["accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "twilio-token", "from": "+15557122661"]),
    ]

    static func fixtures(_ directory: String) throws -> [(name: String, json: [String: Any])] {
        let folder = root.appendingPathComponent(directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            return ("\(directory)/\(name)", try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name)"))
        }
    }

    @Test func everyChannelHasFixtures() throws {
        for channel in Self.channels {
            #expect(try Self.fixtures(channel.directory).count >= 5, "\(channel.directory)")
        }
    }

    @Test(arguments: TestBackend.all)
    func documentedWebhooksAreStoredWhole(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            for channel in Self.channels {
                let created = try await api.send(.post, "/api/v1/channels", json: ["type": channel.type, "name": channel.directory, "credentials": channel.credentials,
                                                                                  "apiBaseUrl": "http://127.0.0.1:9", "verifyCredentials": false])
                let id = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
                for (name, fixture) in try Self.fixtures(channel.directory) {
                    try await Self.seed(fixture["setup"] as? [String: Any] ?? [:], api: api, channelId: id)
                    let before = try await api.count("messages")
                    let reply = try await Self.deliver(fixture, channel: channel, channelId: id, api: api)
                    #expect(reply.status == .ok, "\(name): \(reply.text)")
                    if fixture["storesNothing"] as? Bool == true {
                        #expect(try await api.count("messages") == before, "\(name) stored something")
                    }
                    for expected in fixture["expect"] as? [[String: Any]] ?? [] {
                        try await Self.check(expected, channelId: id, api: api, fixture: name)
                    }
                }
            }
        }
    }

    /// Messages the fixture refers to: earlier inbound ones (edited or unsent) and our outbound ones (statuses).
    static func seed(_ setup: [String: Any], api: APIHarness, channelId: Int64) async throws {
        for inbound in setup["inbound"] as? [[String: Any]] ?? [] {
            let externalId = try #require(inbound["externalId"] as? String), id = try #require(inbound["id"] as? String)
            _ = try await api.services.inbound.record(InboundMessage(channelId: channelId, externalId: externalId, displayName: nil, providerMessageId: id,
                                                                     providerTimestamp: Date(epochMilliseconds: 1_400_000_000_000), text: inbound["text"] as? String ?? "seed"),
                                                      workspaceId: 1, receivedAt: api.clock.now())
        }
        for outbound in setup["outbound"] as? [[String: Any]] ?? [] {
            let externalId = try #require(outbound["externalId"] as? String), id = try #require(outbound["id"] as? String)
            let sender = try await api.services.inbound.record(InboundMessage(channelId: channelId, externalId: externalId, displayName: nil, providerMessageId: "seed-\(id)",
                                                                              providerTimestamp: Date(epochMilliseconds: 1_400_000_000_000), text: "seed"),
                                                               workspaceId: 1, receivedAt: api.clock.now())
            let createdAt = (outbound["createdAt"] as? NSNumber)?.int64Value ?? 1_400_000_000_000
            let status = outbound["status"] as? String ?? "sent"
            try await api.services.database.transaction { db in
                try await db.raw("""
                    INSERT INTO messages (workspace_id, contact_id, conversation_id, channel_id, identity_id, direction, sender_kind, content_kind, text, status,
                                          provider_message_id, created_at, updated_at)
                    SELECT 1, contact_id, NULL, channel_id, identity_id, 'outbound', 'user', 'text', 'our message', \(bind: status), \(bind: id),
                           \(bind: createdAt), \(bind: createdAt)
                    FROM messages WHERE id = \(bind: sender.messageId)
                    """).run()
            }
        }
    }

    /// Posts the fixture signed as its provider signs webhooks.
    static func deliver(_ fixture: [String: Any], channel: Channel, channelId: Int64, api: APIHarness) async throws -> Reply {
        if let xml = fixture["xml"] as? String {
            return try await post(Array(xml.utf8), contentType: "text/xml", channel: channel, channelId: channelId, api: api)
        } else if let form = fixture["form"] as? [String: String] {
            let fields = form.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            return try await post(Array(TwilioSMSAdapter.formEncode(fields).utf8), contentType: "application/x-www-form-urlencoded",
                                  channel: channel, channelId: channelId, api: api)
        }
        let body = Array(try JSONSerialization.data(withJSONObject: try #require(fixture["body"])))
        return try await post(body, contentType: "application/json", channel: channel, channelId: channelId, api: api)
    }

    /// Posts any body (the fuzzer's too) signed as the channel's provider signs webhooks.
    static func post(_ body: [UInt8], contentType: String, channel: Channel, channelId: Int64, api: APIHarness) async throws -> Reply {
        var uri = "/webhooks/\(channelId)"
        var headers: HTTPFields = [.contentType: contentType]
        if channel.type == "wechat" {
            let token = channel.credentials["token"] ?? ""
            // Signed now, with a fresh nonce: the server refuses stale timestamps and replayed nonces.
            let timestamp = String(Int64(api.clock.now().timeIntervalSince1970))
            let nonce = UUID().uuidString
            uri += "?signature=\(WeChatAdapter.signature(token: token, timestamp: timestamp, nonce: nonce))&timestamp=\(timestamp)&nonce=\(nonce)"
        } else if channel.type == "sms" {
            headers[try #require(HTTPFields.Element.Name("X-Twilio-Signature"))] = TwilioSMSAdapter.signature(
                url: "https://parley.example.com/webhooks/\(channelId)", parameters: TwilioSMSAdapter.formDecode(body),
                authToken: channel.credentials["authToken"] ?? "")
        } else {
            switch channel.type {
            case "whatsapp", "messenger", "instagram":
                let signed = ProviderSimulator().metaSigned(body: body, appSecret: channel.credentials["appSecret"] ?? "")
                for (name, value) in signed.headers { headers[try #require(HTTPFields.Element.Name(name))] = value }
            case "telegram":
                headers[try #require(HTTPFields.Element.Name("X-Telegram-Bot-Api-Secret-Token"))] = try await api.services.channels.webhookSecret(channelId: channelId)
            case "line":
                headers[try #require(HTTPFields.Element.Name("X-Line-Signature"))] = LineAdapter.signature(body, secret: channel.credentials["channelSecret"] ?? "")
            case "viber":
                headers[try #require(HTTPFields.Element.Name("X-Viber-Content-Signature"))] = ViberAdapter.signature(body, authToken: channel.credentials["authToken"] ?? "")
            default:
                break
            }
        }
        return try await api.client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    struct Stored: Sendable {
        let kind: String, text: String?, details: [String: String], editedAt: Int64?, deletedAt: Int64?, status: String, reason: String?
        let providerTimestamp: Int64?, externalId: String, contactName: String, contactPhone: String?
    }

    static func stored(_ providerId: String, channelId: Int64, api: APIHarness) async throws -> Stored? {
        try await api.services.database.read { db in
            guard let row = try await db.raw("""
                SELECT m.content_kind, m.text, m.content, m.edited_at, m.deleted_at, m.status, m.failure_reason, m.provider_timestamp,
                       i.external_id, c.first_name, c.last_name, c.phone
                FROM messages m JOIN contact_identities i ON i.id = m.identity_id JOIN contacts c ON c.id = m.contact_id
                WHERE m.channel_id = \(bind: channelId) AND m.provider_message_id = \(bind: providerId)
                """).first() else { return nil }
            let content = try row.decode(column: "content", as: String?.self).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
            let name = [try row.decode(column: "first_name", as: String.self), try row.decode(column: "last_name", as: String.self)].filter { !$0.isEmpty }
            return Stored(kind: try row.decode(column: "content_kind", as: String.self), text: try row.decode(column: "text", as: String?.self), details: content ?? [:],
                          editedAt: try row.decode(column: "edited_at", as: Int64?.self), deletedAt: try row.decode(column: "deleted_at", as: Int64?.self),
                          status: try row.decode(column: "status", as: String.self), reason: try row.decode(column: "failure_reason", as: String?.self),
                          providerTimestamp: try row.decode(column: "provider_timestamp", as: Int64?.self),
                          externalId: try row.decode(column: "external_id", as: String.self), contactName: name.joined(separator: " "),
                          contactPhone: try row.decode(column: "phone", as: String?.self))
        }
    }

    static func check(_ expected: [String: Any], channelId: Int64, api: APIHarness, fixture: String) async throws {
        let id = try #require(expected["id"] as? String)
        let where_ = Comment(rawValue: "\(fixture): \(id)")
        guard let message = try await stored(id, channelId: channelId, api: api) else {
            Issue.record("\(where_) was not stored")
            return
        }
        if let kind = expected["kind"] as? String {
            #expect(message.kind == kind, where_)
            #expect(message.text?.isEmpty == false, "\(where_): a message is never empty")
        }
        if let text = expected["text"] as? String { #expect(message.text == text, where_) }
        for (key, value) in expected["details"] as? [String: String] ?? [:] { #expect(message.details[key] == value, "\(where_) details.\(key)") }
        if let externalId = expected["externalId"] as? String { #expect(message.externalId == externalId, where_) }
        if let phone = expected["contactPhone"] as? String { #expect(message.contactPhone == phone, where_) }
        if let name = expected["contactName"] as? String { #expect(message.contactName == name, where_) }
        if let milliseconds = (expected["timestampMs"] as? NSNumber)?.int64Value { #expect(message.providerTimestamp == milliseconds, where_) }
        if expected["edited"] as? Bool == true { #expect(message.editedAt != nil, where_) }
        if expected["deleted"] as? Bool == true {
            #expect(message.deletedAt != nil, where_)
            #expect(message.text == nil, where_)
        }
        if let status = expected["status"] as? String { #expect(message.status == status, where_) }
        if let reason = expected["reason"] as? String { #expect(message.reason == reason, where_) }
    }
}
